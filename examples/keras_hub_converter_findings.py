"""The defects the converter pairs of examples/keras_hub_converters.py found, each reproduced alone.

Every check converts a tiny Hugging Face model as ``Backbone.from_preset`` converts a checkpoint
(``save_pretrained`` into a directory, ``keras_hub.models.<X>Backbone.from_preset(directory)``), or
calls the framework function concerned, and compares what it got with what the checkpoint or the
formula says. Found with keras-hub 0.32.0, transformers 5.24.0, tensorflow-cpu 2.21.0, keras 3.15.1:

  bert_gelu              convert_bert.py ignores hidden_act; BertBackbone hard-codes the tanh GELU
                         (keras_hub/src/models/bert/bert_backbone.py: activation=gelu_approximate)
  roberta_token_type     convert_roberta.py never ports roberta.embeddings.token_type_embeddings
  roberta_norm_eps       RobertaBackbone hard-codes layer norm epsilon 1e-5; the converter ignores layer_norm_eps
  llama3_norm_eps        convert_llama3.py convert_backbone_config passes no layer_norm_epsilon
  llama3_rope_scaling    convert_llama3.py reads config["rope_scaling"]; transformers 5 writes "rope_parameters"
  mistral_float16        convert_mistral.py: every hook_fn does hf_tensor.astype(np.float16)
  qwen3_qk_norm_eps      keras_hub/src/models/qwen3/qwen3_decoder.py builds Qwen3Attention without
                         layer_norm_epsilon: its q/k norms keep qwen3_attention.py's default 1e-5
  gemma_config           convert_gemma.py passes no layer_norm_epsilon; gemma_attention.py hard-codes
                         RotaryEmbedding(max_wavelength=10_000.0)
  vit_norm_eps           convert_vit.py convert_backbone_config passes no layer_norm_epsilon
  tf_gelu_float32        tensorflow/python/ops/nn_ops.py gelu: math_ops.cast(0.044715, dtype) and
                         math_ops.cast(0.7071067811865476, dtype) make float32 constants first
  keras_attention_scale  keras/src/backend/tensorflow/nn.py _dot_product_attention_xla:
                         tf.cast(scale, logits.dtype) of a Python float is a float32 constant
  keras_hub_float32_input  ViTBackbone (and DeiT, DINOv2) build keras.Input without a dtype: floatx
  rms_norm_float32       transformers' LlamaRMSNorm (.to(torch.float32)) and keras_hub's LlamaLayerNorm
                         (ops.cast(x, "float32")) compute in float32 inside a float64 model

Run:  python examples/keras_hub_converter_findings.py [NAME ...]   (default: every one)
Exit status: 1 while any named defect is present, 0 once every one is fixed, 77 (with the reason
printed) when this environment cannot run them (transformers, keras-hub or safetensors missing); 2 on
an unknown name or an unexpected error. The ledger (harness/ledger.py) runs one NAME at a time.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

CANNOT_RUN = 77

try:
    import torch  # noqa: I001 - torch before tensorflow: the other order has segfaulted
    import keras
    import keras_hub
    import numpy as np
    import safetensors  # noqa: F401 - keras_hub's converters read checkpoints through it
    import tensorflow as tf
    import transformers
except ImportError as missing:
    print(f"not runnable here: {missing} (install the models extra: transformers, keras-hub, safetensors)")
    sys.exit(CANNOT_RUN)

TEXT = {"vocab_size": 16, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
        "intermediate_size": 8, "max_position_embeddings": 16}
DECODER = {**TEXT, "num_key_value_heads": 1, "pad_token_id": None}


def converted(model, backbone: str, dtype: str = "float32"):
    """``model`` as keras_hub converts a checkpoint of it, in ``dtype``."""
    keras.config.set_dtype_policy(dtype)
    try:
        with tempfile.TemporaryDirectory() as directory:
            model.save_pretrained(directory)
            return getattr(keras_hub.models, backbone).from_preset(directory)
    finally:
        keras.config.set_dtype_policy("float32")


def outputs_differ(model, keras_model, ids, **extra) -> float:
    """max |HF base model - converted backbone| on token ids ``ids``."""
    mask = np.ones_like(ids)
    with torch.no_grad():
        theirs = model.base_model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask)).last_hidden_state
    ours = keras_model({"token_ids": ids, "padding_mask": mask, **extra})
    ours = ours["sequence_output"] if isinstance(ours, dict) else ours
    return float(np.max(np.abs(theirs.numpy() - keras.ops.convert_to_numpy(ours))))


def epsilon_kept(config_eps: float, kept: float, what: str) -> tuple[bool, str]:
    return kept != config_eps, f"checkpoint {what} {config_eps:g}, converted model's {kept:g}"


def bert_gelu() -> tuple[bool, str]:
    model = transformers.BertModel(transformers.BertConfig(**TEXT))  # hidden_act="gelu": exact, as released
    backbone = converted(model, "BertBackbone")
    activation = backbone.transformer_layers[0]._feedforward_intermediate_dense.activation
    got = float(keras.ops.convert_to_numpy(activation(keras.ops.convert_to_tensor([1.0])))[0])
    want = 0.5 * (1 + math.erf(1 / math.sqrt(2)))
    return abs(got - want) > 1e-6, f"hidden_act={model.config.hidden_act!r}: gelu(1) = {want:.6f}, converted {got:.6f}"


def roberta_token_type() -> tuple[bool, str]:
    model = transformers.RobertaForMaskedLM(transformers.RobertaConfig(**{**TEXT, "type_vocab_size": 1})).eval()
    with torch.no_grad():  # fine-tuning learns row 0, which HF adds to every token
        model.roberta.embeddings.token_type_embeddings.weight.normal_(generator=torch.Generator().manual_seed(0))
    diff = outputs_differ(model, converted(model, "RobertaBackbone"), np.array([[2, 3, 4, 5]]))
    return diff > 1e-3, f"a learned token-type embedding: max |HF - converted| = {diff:.3g}"


def roberta_norm_eps() -> tuple[bool, str]:
    model = transformers.RobertaForMaskedLM(transformers.RobertaConfig(**TEXT))  # layer_norm_eps 1e-12, the default
    layer = converted(model, "RobertaBackbone").transformer_layers[0]
    return epsilon_kept(1e-12, layer._feedforward_layer_norm.epsilon, "layer_norm_eps")


def llama3_norm_eps() -> tuple[bool, str]:
    model = transformers.LlamaForCausalLM(transformers.LlamaConfig(**DECODER, rms_norm_eps=1e-5))
    layer = converted(model, "Llama3Backbone").transformer_layers[0]
    return epsilon_kept(1e-5, layer._self_attention_layernorm.epsilon, "rms_norm_eps")


def llama3_rope_scaling() -> tuple[bool, str]:
    rope = {"rope_type": "llama3", "rope_theta": 10000.0, "factor": 8.0, "low_freq_factor": 1.0,
            "high_freq_factor": 4.0, "original_max_position_embeddings": 4}  # 4: every wavelength past 4 is scaled
    model = transformers.LlamaForCausalLM(transformers.LlamaConfig(**DECODER, rope_parameters=rope)).eval()
    backbone = converted(model, "Llama3Backbone")
    factor = backbone.get_config()["rope_frequency_adjustment_factor"]
    diff = outputs_differ(model, backbone, np.array([[2, 3, 4, 5, 6, 7]]))
    return factor != rope["factor"], (f"rope_parameters factor {rope['factor']:g}, converted "
                                      f"rope_frequency_adjustment_factor {factor}; max |HF - converted| = {diff:.3g}")


def mistral_float16() -> tuple[bool, str]:
    model = transformers.MistralForCausalLM(transformers.MistralConfig(**DECODER))
    backbone = converted(model, "MistralBackbone")
    hf = model.model.embed_tokens.weight.detach().numpy()
    kept = keras.ops.convert_to_numpy(backbone.token_embedding.embeddings)
    rounded = np.array_equal(kept, hf.astype(np.float16).astype(np.float32))
    evidence = f"float32 embeddings converted with max change {np.max(np.abs(kept - hf)):.3g}"
    return not np.array_equal(kept, hf), evidence + (", exactly their float16 rounding" if rounded else "")


def qwen3_qk_norm_eps() -> tuple[bool, str]:
    model = transformers.Qwen3ForCausalLM(transformers.Qwen3Config(**DECODER, head_dim=4, rms_norm_eps=1e-6))
    attention = converted(model, "Qwen3Backbone").transformer_layers[0]._self_attention_layer
    return epsilon_kept(1e-6, attention._query_dense_layer_norm.epsilon, "rms_norm_eps (query norm)")


def gemma_config() -> tuple[bool, str]:
    rope = {"rope_type": "default", "rope_theta": 500000.0}
    config = transformers.GemmaConfig(**DECODER, head_dim=4, rms_norm_eps=1e-5, rope_parameters=rope)
    backbone = converted(transformers.GemmaForCausalLM(config), "GemmaBackbone")
    layer = backbone.transformer_layers[0]
    eps, wavelength = layer.pre_attention_norm.epsilon, layer.attention.rope_layer.max_wavelength
    return (eps, wavelength) != (1e-5, 500000.0), (f"checkpoint rms_norm_eps 1e-05 and rope_theta 500000, converted "
                                                   f"model's {eps:g} and {wavelength:g}")


def vit_norm_eps() -> tuple[bool, str]:
    config = transformers.ViTConfig(image_size=8, patch_size=4, hidden_size=8, num_hidden_layers=1,
                                    num_attention_heads=2, intermediate_size=8)  # layer_norm_eps 1e-12, as released
    backbone = converted(transformers.ViTForImageClassification(config), "ViTBackbone")
    encoder = next(layer for layer in backbone.layers if hasattr(layer, "encoder_layers"))
    return epsilon_kept(config.layer_norm_eps, encoder.layer_norm.epsilon, "layer_norm_eps")


def tf_gelu_float32() -> tuple[bool, str]:
    x = np.array([3.0])
    approximate = tf.nn.gelu(tf.constant(x, tf.float64), approximate=True).numpy()
    want = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    gap = float(np.max(np.abs(approximate - want)))
    return gap > 1e-13, f"tf.nn.gelu(3.0, approximate=True) in float64 is {gap:.3g} off the float64 formula"


def keras_attention_scale() -> tuple[bool, str]:
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((1, 3, 1, 2)) for _ in range(3))  # head_dim 2: 1/sqrt(2) is inexact in float32
    got = keras.ops.convert_to_numpy(keras.ops.dot_product_attention(q, k, v))
    logits = np.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(2)
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    want = np.einsum("bhqk,bkhd->bqhd", weights / weights.sum(-1, keepdims=True), v)
    gap = float(np.max(np.abs(got - want)))
    return gap > 1e-13, f"keras.ops.dot_product_attention in float64, head_dim 2: {gap:.3g} off the float64 formula"


def keras_hub_float32_input() -> tuple[bool, str]:
    keras.config.set_dtype_policy("float64")
    try:
        backbone = keras_hub.models.ViTBackbone(image_shape=(8, 8, 3), patch_size=4, num_layers=1, num_heads=2,
                                                hidden_dim=8, mlp_dim=8)
    finally:
        keras.config.set_dtype_policy("float32")
    dtype = backbone.inputs[0].dtype
    return dtype != "float64", f"ViTBackbone built under a float64 policy takes images as {dtype}"


def rms_norm_float32() -> tuple[bool, str]:
    from keras_hub.src.models.llama.llama_layernorm import LlamaLayerNorm
    from transformers.models.llama.modeling_llama import LlamaRMSNorm

    x = np.random.default_rng(0).standard_normal((2, 8)) * 3
    want = x / np.sqrt(np.mean(x**2, axis=-1, keepdims=True) + 1e-6)
    theirs = LlamaRMSNorm(8, eps=1e-6).double()(torch.tensor(x)).detach().numpy()
    ours = keras.ops.convert_to_numpy(LlamaLayerNorm(epsilon=1e-6, dtype="float64")(x))
    gaps = {"transformers": float(np.max(np.abs(theirs - want))), "keras_hub": float(np.max(np.abs(ours - want)))}
    return max(gaps.values()) > 1e-13, ", ".join(f"{k} {v:.3g}" for k, v in gaps.items()) + \
        " off the float64 formula in a float64 model"


CHECKS = {f.__name__: f for f in (
    bert_gelu, roberta_token_type, roberta_norm_eps, llama3_norm_eps, llama3_rope_scaling, mistral_float16,
    qwen3_qk_norm_eps, gemma_config, vit_norm_eps, tf_gelu_float32, keras_attention_scale, keras_hub_float32_input,
    rms_norm_float32)}


def main(names: list[str]) -> int:
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        print(f"unknown finding(s) {unknown}; known: {sorted(CHECKS)}", file=sys.stderr)
        return 2
    print(f"keras-hub {keras_hub.__version__}  transformers {transformers.__version__}  tensorflow {tf.__version__}  "
          f"keras {keras.__version__}  torch {torch.__version__}")
    present = 0
    for name in names or CHECKS:
        found, evidence = CHECKS[name]()
        present += found
        print(f"{name:<24} {'PRESENT' if found else 'fixed  '}  {evidence}")
    ran = ", ".join(names or CHECKS)
    print(f"\nbug present: {present} of {len(names or CHECKS)} ({ran})" if present else f"\nfixed: {ran}")
    return 1 if present else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception:  # noqa: BLE001 - an unexpected error is not a defect's verdict
        import traceback

        traceback.print_exc()
        sys.exit(2)
