"""keras_hub's ResNetBackbone declares its image Input without a dtype, so a float64 model rounds images to float32.

Under keras.config.set_dtype_policy('float64') every layer of keras_hub.models.ResNetBackbone
computes in float64, but `backbone.inputs[0].dtype` is 'float32': a float64 image is converted to
float32 on entry and the float64 model computes on the rounded image: its output is bit for bit
its output on the image rounded to float32, and 2.1e-8 (2.0e-8 of the output's largest value) off
the same weights behind a float64 Input, for the tiny backbone here. Passing dtype='float64' to
the backbone does not change the Input; only keras.config.set_floatx('float64') does.

Mechanism, keras_hub 0.32.0, keras_hub/src/models/resnet/resnet_backbone.py line 141:
`image_input = layers.Input(shape=image_shape)` (no dtype, although __init__ receives one).
keras.Input's dtype defaults to floatx, not to the dtype policy (keras 3.15.1,
keras/src/layers/core/input_layer.py line 96 -> keras/src/backend/common/variables.py,
`standardize_dtype`, lines 574-575: `if dtype is None: return config.floatx()`), and the
functional model converts every input to its Input's dtype (keras/src/models/functional.py,
lines 290-295: ops.convert_to_tensor(x, dtype=input_tensor.dtype)).

The other keras_hub vision backbones do the same. Built here under a float64 policy, VGGBackbone,
DenseNetBackbone, ViTBackbone and MiTBackbone all have a float32 image input (the script prints
them). By reading the source, the image Input has no dtype in the backbones (or vision encoders)
of basnet, clip, cspnet, deeplab_v3, deit, densenet, depth_anything, dinov2, dinov3,
efficientnet, hgnetv2, metaclip_2, mit, mobilenet, mobilenetv5, retinanet, sam3, siglip,
stable_diffusion_3, swin_transformer, vae, vgg, video_prism, vit and vit_det, and blip2, d_fine
and gemma3n hard-code dtype="float32".

How the harness found it: `conform run --pairs-from examples/hf_resnet.py --dtype float64`
(HF ResNetModel against keras_hub's ResNetBackbone: float64 forward and gradient off by a
float32-sized amount, the float64 probe naming the Keras side).

Upstream: no keras_hub report found. Related: keras-team/keras#19332 (closed, stale: keras.Input
defaults to floatx whatever the dtype policy; answered as intended, set floatx).

Run:  .venv/bin/python examples/findings/keras_hub_image_input_float32.py   (about 8 s on 2 cores)
Exit status: 1 while the defect is present (a ResNetBackbone built under a float64 dtype policy has
a non-float64 image input), 0 once it is fixed, 77 (with the reason) where keras_hub, Keras or
TensorFlow is not installed; 2 on an unexpected error.
"""

from __future__ import annotations

import os
import sys
import traceback

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["KERAS_BACKEND"] = "tensorflow"

NOT_RUNNABLE = 77
IMAGE_SHAPE = (8, 8, 3)
TINY_RESNET = {  # the smallest ResNetBackbone keras_hub accepts (the first stack must have 64 filters)
    "input_conv_filters": [64], "input_conv_kernel_sizes": [3], "stackwise_num_filters": [64],
    "stackwise_num_blocks": [1], "stackwise_num_strides": [1], "block_type": "basic_block",
    "image_shape": IMAGE_SHAPE,
}


def _import_tensorflow():
    """Import TF with fd 2 silenced: TF 2.21 prints a oneDNN notice to stderr whatever TF_CPP_MIN_LOG_LEVEL says,
    and `conform findings --check` reports the last line of the output."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            import tensorflow as tf
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return tf


def _others(keras_hub):
    """Other vision backbones, tiny: informational only (a constructor that changed is reported, not fatal)."""
    m = keras_hub.models
    return {
        "VGGBackbone": lambda: m.VGGBackbone(stackwise_num_repeats=[1], stackwise_num_filters=[4],
                                             image_shape=IMAGE_SHAPE),
        "DenseNetBackbone": lambda: m.DenseNetBackbone(stackwise_num_repeats=[1], image_shape=IMAGE_SHAPE),
        "ViTBackbone": lambda: m.ViTBackbone(image_shape=IMAGE_SHAPE, patch_size=4, num_layers=1, num_heads=1,
                                             hidden_dim=4, mlp_dim=4),
        "MiTBackbone": lambda: m.MiTBackbone(layerwise_depths=[1], num_layers=1, layerwise_num_heads=[1],
                                             layerwise_sr_ratios=[1], max_drop_path_rate=0.0,
                                             layerwise_patch_sizes=[3], layerwise_strides=[2], hidden_dims=[4],
                                             image_shape=IMAGE_SHAPE),
    }


def main() -> int:
    try:
        import numpy as np
    except ImportError as e:
        print(f"not runnable here: numpy is not installed ({e})")
        return NOT_RUNNABLE
    try:
        tf = _import_tensorflow()
        import keras
        import keras_hub
    except ImportError as e:
        print(f"not runnable here: keras_hub, Keras or TensorFlow is not installed ({e})")
        return NOT_RUNNABLE
    print(f"keras_hub {keras_hub.__version__}  keras {keras.__version__} (backend {keras.backend.backend()})  "
          f"tensorflow {tf.__version__}  numpy {np.__version__}")

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).standard_normal((1, *IMAGE_SHAPE))
    policy, floatx = keras.config.dtype_policy(), keras.config.floatx()
    others = {}
    keras.config.set_dtype_policy("float64")
    try:
        backbone = keras_hub.models.ResNetBackbone(**TINY_RESNET)
        with_dtype = keras_hub.models.ResNetBackbone(**TINY_RESNET, dtype="float64")
        for name, build in _others(keras_hub).items():
            try:
                others[name] = build().inputs[0].dtype
            except Exception as e:  # informational: report and go on
                others[name] = f"could not build ({type(e).__name__}: {str(e)[:80]})"
        keras.config.set_floatx("float64")
        workaround = keras_hub.models.ResNetBackbone(**TINY_RESNET)
    finally:
        keras.config.set_floatx(floatx)
        keras.config.set_dtype_policy(policy)
    workaround.set_weights(backbone.get_weights())

    layer_policies = sorted({layer.dtype_policy.name for layer in backbone.layers[1:]})
    print(f"\nkeras.config.set_dtype_policy('float64'); "
          f"keras_hub.models.ResNetBackbone(tiny, image_shape={IMAGE_SHAPE}):")
    print(f"  inputs[0].dtype {backbone.inputs[0].dtype}; layer dtype policies {layer_policies}; "
          f"outputs[0].dtype {backbone.outputs[0].dtype}")
    print(f"  with dtype='float64' passed to the backbone: inputs[0].dtype {with_dtype.inputs[0].dtype}")
    print(f"  built under set_floatx('float64') too (the workaround): inputs[0].dtype {workaround.inputs[0].dtype}")

    out = keras.ops.convert_to_numpy(backbone(x))
    on_rounded = keras.ops.convert_to_numpy(backbone(x.astype(np.float32).astype(np.float64)))
    full = keras.ops.convert_to_numpy(workaround(x))
    scale = float(np.max(np.abs(full)))
    print(f"  a float64 N(0, 1) image: output {out.dtype}, bit for bit its output on the image rounded to float32: "
          f"{np.array_equal(out, on_rounded)}; same weights with a float64 Input: max |diff| "
          f"{np.max(np.abs(out - full)):.3g} ({np.max(np.abs(out - full)) / scale:.3g} of the output's max)")

    print("\nother keras_hub vision backbones under a float64 policy, inputs[0].dtype (not part of the verdict):")
    for name, dtype in others.items():
        print(f"  {name:<18} {dtype}")

    if backbone.inputs[0].dtype != "float64":
        print(f"bug present: ResNetBackbone under a float64 dtype policy takes {backbone.inputs[0].dtype} images "
              f"(keras.Input without a dtype is floatx)")
        return 1
    print("fixed: ResNetBackbone under a float64 dtype policy takes float64 images")
    return 0


if __name__ == "__main__":
    try:
        status = main()
    except Exception:  # an unexpected failure is not the defect: traceback and exit 2, never 1
        traceback.print_exc()
        status = 2
    sys.exit(status)
