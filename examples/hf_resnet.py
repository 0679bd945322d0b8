"""HF ``transformers`` ResNetModel against keras_hub's ResNetBackbone: a convolutional port, checked.

Tiny, randomly initialised models (keras_hub requires a 64-wide stem and first stage; the
second stage's width, every stage's depth, the batch and the image size are drawn), weights
mapped by the names keras_hub's timm converter uses (``keras_hub/src/utils/timm/convert_resnet.py``),
images NCHW on the torch side and NHWC on the Keras side.

    conform run --pairs-from examples/hf_resnet.py

keras_hub's backbone has no pooling: HF's ``pooler_output`` has no counterpart and is left
out (``outputs=``). Needs the ``models`` extra (``make`` installs it).
"""

from __future__ import annotations

from hypothesis import strategies as st

from harness import CONV2D_OIHW_TO_HWIO, LayerPair, Link, Origin, Tensor, TorchOnly, ledger

ORIGIN = Origin(seed="examples", tutorial_name="HF ResNetModel -> keras_hub ResNetBackbone",
                note="transformers.ResNetModel vs keras_hub.models.ResNetBackbone")
DIMS = {
    "batch": st.integers(1, 2),
    "size": st.integers(8, 12),
    "width": st.sampled_from([8, 16]),
    "depth0": st.integers(1, 2),
    "depth1": st.integers(1, 2),
}
BLOCKS = {"basic": ("basic", "basic_block", 2), "bottleneck": ("bottleneck", "bottleneck_block", 3)}


def _conv_bn(torch_prefix: str, keras_layer: str) -> dict:
    """One convolution and its batch norm: HF ``{prefix}.convolution/normalization``, Keras ``{layer}_conv/_bn``."""
    return {
        f"{torch_prefix}.convolution.weight": Link(f"{keras_layer}_conv.kernel", CONV2D_OIHW_TO_HWIO),
        f"{torch_prefix}.normalization.weight": f"{keras_layer}_bn.gamma",
        f"{torch_prefix}.normalization.bias": f"{keras_layer}_bn.beta",
        f"{torch_prefix}.normalization.running_mean": f"{keras_layer}_bn.moving_mean",
        f"{torch_prefix}.normalization.running_var": Link(f"{keras_layer}_bn.moving_variance", init="positive"),
        f"{torch_prefix}.normalization.num_batches_tracked": TorchOnly("torch counts batches; Keras does not"),
    }


def weights(block: str) -> dict:
    """The map for any depth: ``*`` is the stage and the block; HF's ``layer.j`` is keras_hub's ``_{j+1}``."""
    convs = BLOCKS[block][2]
    return {
        **_conv_bn("embedder.embedder", "conv1"),
        **_conv_bn("encoder.stages.*.layers.*.shortcut", "stack*_block*_0"),
        **{k: v for j in range(convs) for k, v in _conv_bn(f"encoder.stages.*.layers.*.layer.{j}",
                                                           f"stack*_block*_{j + 1}").items()},
    }


def hf_resnet(p, block: str):
    import transformers

    expansion = 4 if block == "bottleneck" else 1  # HF counts a stage's output channels, keras_hub its width
    return transformers.ResNetModel(transformers.ResNetConfig(
        num_channels=3, embedding_size=64, hidden_sizes=[64 * expansion, p["width"] * expansion],
        depths=[p["depth0"], p["depth1"]], layer_type=BLOCKS[block][0], hidden_act="relu"))


def keras_hub_resnet(p, block: str):
    import keras_hub

    return keras_hub.models.ResNetBackbone(
        input_conv_filters=[64], input_conv_kernel_sizes=[7], stackwise_num_filters=[64, p["width"]],
        stackwise_num_blocks=[p["depth0"], p["depth1"]], stackwise_num_strides=[1, 2],
        block_type=BLOCKS[block][1], use_pre_activation=False, image_shape=(None, None, 3))


def _pair(name: str, block: str) -> LayerPair:
    return LayerPair(
        name=name, origin=ORIGIN, torch=lambda p: hf_resnet(p, block), tf=lambda p: keras_hub_resnet(p, block),
        dims=DIMS, inputs=(Tensor("pixel_values", ("batch", 3, "size", "size"), layout="channels_first"),),
        weights=weights(block), output_layout="channels_first",
        outputs={"last_hidden_state": "", "pooler_output": None},
        known_divergences=tuple(ledger.declared("keras-hub-image-input-float32", check, dtypes=("float64",))
                                for check in ("forward", "gradient")),
        checks=("forward", "gradient", "serialization"),
        description=f"the whole backbone with {block} blocks, two stages of drawn depth",
    )


resnet_basic = _pair("resnet_basic", "basic")
resnet_bottleneck = _pair("resnet_bottleneck", "bottleneck")
