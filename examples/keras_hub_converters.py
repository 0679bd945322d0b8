"""keras_hub's Hugging Face converters, checked on drawn tiny models: the converter is what is under test.

``Backbone.from_preset`` on a Hugging Face checkpoint runs keras_hub's converter
(``keras_hub/src/utils/transformers/convert_*.py``). Each pair draws a tiny ``transformers`` model
of the class released checkpoints are saved from, at a drawn configuration (layers, heads, key-value
heads, hidden and intermediate sizes, vocabulary, sequence length, rope settings, tied embeddings),
writes it with ``save_pretrained`` and loads it with ``from_preset`` (:func:`harness.from_pretrained`).
No weight map is written: it is read off the converter by probing, which gives parameter gradients.

The ``*_converter`` pairs draw the settings each converter carries over and pass; each defect
found is its own pair below, at the setting the converter mishandles, declared with what it is
and the standalone script that reproduces it (``examples/keras_hub_*.py``: exit 1 while present).

    conform run --pairs-from examples/keras_hub_converters.py

Needs the ``models`` extra (transformers, keras-hub, safetensors), as ``make`` installs it.
"""

from __future__ import annotations

import functools

from hypothesis import strategies as st

from harness import KnownDivergence, LayerPair, Origin, Stage, Tensor, from_pretrained, ledger


def _origin(checkpoint: str, backbone: str) -> Origin:
    return Origin(seed="examples", tutorial_name=f"HF {checkpoint} -> keras_hub {backbone}.from_preset",
                  note=f"keras_hub's converter for {checkpoint} checkpoints, on a drawn tiny model")


@functools.cache
def _as_base(cls: type) -> type:
    """``cls`` whose forward is its base model's: the checkpoint's class and names, the backbone's computation.

    keras_hub's converters read the tensor names of a released checkpoint (``model.layers.0...``
    of a ``LlamaForCausalLM``, ``roberta.encoder...`` of a ``RobertaForMaskedLM``), and the
    backbone they make computes the base model's hidden states, without the head.
    """
    return type(cls.__name__, (cls,), {"forward": lambda self, **inputs: self.base_model(**inputs),
                                       "__module__": cls.__module__})


def checkpoint(cls_name: str, config_name: str, *, base: bool = True, **config):
    """A ``transformers`` model of ``cls_name`` at ``config`` (dropout off), called as its base model if ``base``."""
    import transformers

    cls = getattr(transformers, cls_name)
    settings = {key: 0.0 for key in ("hidden_dropout_prob", "attention_probs_dropout_prob", "dropout",
                                     "attention_dropout", "resid_pdrop", "embd_pdrop", "attn_pdrop")}
    return (_as_base(cls) if base else cls)(getattr(transformers, config_name)(**{**settings, **config}))


# --- the findings: converter and framework defects, each a ledger entry (harness/ledger.py), declared where it bites
# (reproduced by examples/keras_hub_converter_findings.py NAME, or the entry's own script) ---------------------------

def epsilon(defect: str) -> tuple[KnownDivergence, ...]:
    """An epsilon the converter loses: always beyond float64's tolerance, beyond float32's on some draws only
    (float32 resolves it only where the normalised activations are small)."""
    return (ledger.declared(defect, "forward", dtypes=("float64",)),
            ledger.declared(defect, "forward", dtypes=("float32",), strict=False))


def in_float64(defect: str, strict: bool = True, **scope) -> tuple[KnownDivergence, ...]:
    return tuple(ledger.declared(defect, check, dtypes=("float64",), strict=strict, **scope)
                 for check in ("forward", "gradient"))


def head_dim_2(p) -> bool:
    return p["head_dim"] == 2


# non-strict: a single key hides it
SCALED_ATTENTION = in_float64("keras-mha-scale-float32", strict=False, where=head_dim_2)
GELU = (*in_float64("tf-gelu-tanh-float32-constant", strict=False), *SCALED_ATTENTION)


MAX_SEQ = 6
TEXT = {
    "batch": st.integers(1, 2),
    "seq": st.integers(2, MAX_SEQ),
    "vocab": st.integers(4, 16),
    "layers": st.integers(1, 2),
    "heads": st.integers(1, 2),
    # 4 first: hypothesis's minimal case then has an attention scale exact in float32 (ATTENTION_SCALE)
    "head_dim": st.sampled_from([4, 2]),
    "intermediate": st.integers(4, 16),
}
IDS = Tensor("token_ids", ("batch", "seq"), dtype="int64", high="vocab", torch_key="input_ids")
MASK = Tensor("padding_mask", ("batch", "seq"), dtype="int64", mask=True, torch_key="attention_mask")
SEGMENTS = Tensor("segment_ids", ("batch", "seq"), dtype="int64", high=2, torch_key="token_type_ids")
TOKENS = {"inputs": (IDS, MASK), "inputs_as": {"torch": "kwargs", "tf": "dict"},
          "outputs": {"last_hidden_state": ""}}
# Graph mode (tf.function with XLA, torch.compile) costs a minute or two per record, compiling each configuration:
# it runs on one pair per family (BERT, Llama 3, ViT), eval mode on every pair.
EVAL = {"checks": ("forward", "gradient"), "modes": ("eval",)}
GRAPH = {**EVAL, "modes": ("eval", "graph")}
FINDING = {"checks": ("forward",), "modes": ("eval",)}


def hidden(p) -> int:
    return p["heads"] * p["head_dim"]


# --- encoders ---------------------------------------------------------------------------------------------------------

def hf_bert(p, **config):
    """BertModel with the tanh GELU keras_hub computes; the released checkpoints' exact one is BERT_GELU."""
    return checkpoint("BertModel", "BertConfig", base=False, **{
        "vocab_size": p["vocab"], "hidden_size": hidden(p), "num_hidden_layers": p["layers"],
        "num_attention_heads": p["heads"], "intermediate_size": p["intermediate"], "max_position_embeddings": MAX_SEQ,
        "hidden_act": "gelu_pytorch_tanh", "pad_token_id": None, **config})


BERT = {"origin": _origin("BertModel", "BertBackbone"), "tf": from_pretrained("BertBackbone"), "dims": TEXT,
        "inputs": (IDS, SEGMENTS, MASK), "inputs_as": {"torch": "kwargs", "tf": "dict"},
        "outputs": {"last_hidden_state": "sequence_output", "pooler_output": "pooled_output"},
        "stages": (Stage("encoder_layer", "encoder.layer.*", "transformer_layers.*"),)}
bert_converter = LayerPair(name="bert_converter", torch=hf_bert, **BERT, **GRAPH, known_divergences=GELU,
                           description="BertModel -> BertBackbone, any depth, localised per encoder layer")
bert_converter_exact_gelu = LayerPair(
    name="bert_converter_exact_gelu", torch=lambda p: hf_bert(p, hidden_act="gelu"), **BERT, **FINDING,
    known_divergences=(ledger.declared("keras-hub-bert-gelu", "forward"),),
    description="the released BERTs' activation")


def hf_roberta(p, trained_token_type: bool = False, layer_norm_eps: float = 1e-5):
    """RobertaForMaskedLM as roberta-base is released: layer norm epsilon 1e-5 (ROBERTA_EPS), its token-type
    embedding zero and frozen; learned if ``trained_token_type`` (a fine-tuned checkpoint: ROBERTA_TOKEN_TYPE)."""
    model = checkpoint("RobertaForMaskedLM", "RobertaConfig", vocab_size=p["vocab"], hidden_size=hidden(p),
                       num_hidden_layers=p["layers"], num_attention_heads=p["heads"],
                       intermediate_size=p["intermediate"], type_vocab_size=1, max_position_embeddings=MAX_SEQ + 2,
                       layer_norm_eps=layer_norm_eps)
    if not trained_token_type:
        model.roberta.embeddings.token_type_embeddings.weight.requires_grad_(False).zero_()
    return model


# ids from 2: HF RoBERTa numbers positions past its <pad> id (1) only, keras_hub by place; a tokenizer puts <pad>
# only where the padding mask is 0, and <s> (0) has no embedding of its own to check.
ROBERTA_IDS = Tensor("token_ids", ("batch", "seq"), dtype="int64", low=2, high="vocab", torch_key="input_ids")
ROBERTA = {"origin": _origin("RobertaForMaskedLM", "RobertaBackbone"), "tf": from_pretrained("RobertaBackbone"),
           "dims": TEXT, **TOKENS, "inputs": (ROBERTA_IDS, MASK)}
roberta_converter = LayerPair(name="roberta_converter", torch=hf_roberta, **ROBERTA, **EVAL, known_divergences=GELU)
roberta_converter_token_type = LayerPair(
    name="roberta_converter_token_type", torch=lambda p: hf_roberta(p, trained_token_type=True), **ROBERTA,
    **FINDING, known_divergences=(ledger.declared("keras-hub-roberta-token-type", "forward"),),
    description="a fine-tuned RoBERTa's token-type embedding")
roberta_converter_norm_eps = LayerPair(
    name="roberta_converter_norm_eps", torch=lambda p: hf_roberta(p, layer_norm_eps=1e-12), **ROBERTA, **FINDING,
    known_divergences=epsilon("keras-hub-roberta-norm-eps"), description="RobertaConfig's default layer_norm_eps")


def hf_distilbert(p):
    return checkpoint("DistilBertForMaskedLM", "DistilBertConfig", vocab_size=p["vocab"], dim=hidden(p),
                      n_layers=p["layers"], n_heads=p["heads"], hidden_dim=p["intermediate"],
                      max_position_embeddings=MAX_SEQ, pad_token_id=None)


distilbert_converter = LayerPair(
    name="distilbert_converter", origin=_origin("DistilBertForMaskedLM", "DistilBertBackbone"), torch=hf_distilbert,
    tf=from_pretrained("DistilBertBackbone"), dims=TEXT, **TOKENS, **EVAL, known_divergences=GELU)


def hf_albert(p):
    """AlbertForPreTraining: the converter reads the pooler, which the masked-LM class has none of."""
    return checkpoint("AlbertForPreTraining", "AlbertConfig", vocab_size=p["vocab"], embedding_size=p["embedding"],
                      hidden_size=hidden(p), num_hidden_layers=p["layers"], num_attention_heads=p["heads"],
                      intermediate_size=p["intermediate"], num_hidden_groups=p["groups"],
                      inner_group_num=p["inner"], max_position_embeddings=MAX_SEQ, pad_token_id=None)


ALBERT_DIMS = {"groups": st.sampled_from([1, 2]), "inner": st.integers(1, 2), "embedding": st.integers(2, 8),
               **TEXT, "layers": lambda p: st.sampled_from([p["groups"], 2 * p["groups"]])}
albert_converter = LayerPair(
    name="albert_converter", origin=_origin("AlbertForPreTraining", "AlbertBackbone"), torch=hf_albert,
    tf=from_pretrained("AlbertBackbone"), dims=ALBERT_DIMS, inputs=(IDS, SEGMENTS, MASK),
    inputs_as={"torch": "kwargs", "tf": "dict"},
    outputs={"last_hidden_state": "sequence_output", "pooler_output": "pooled_output"}, **EVAL,
    known_divergences=GELU, description="ALBERT's shared layers: groups of layers, each repeated, drawn")


def hf_gpt2(p):
    return checkpoint("GPT2Model", "GPT2Config", base=False, vocab_size=p["vocab"], n_positions=MAX_SEQ,
                      n_embd=hidden(p), n_layer=p["layers"], n_head=p["heads"], bos_token_id=None, eos_token_id=None)


gpt2_converter = LayerPair(
    name="gpt2_converter", origin=_origin("GPT2Model", "GPT2Backbone"), torch=hf_gpt2,
    tf=from_pretrained("GPT2Backbone"), dims=TEXT, **TOKENS, side_kwargs={"torch": {"use_cache": False}},
    stages=(Stage("block", "h.*", "transformer_layers.*"),), **EVAL, known_divergences=GELU)


# --- decoders with rotary embeddings and grouped-query attention ------------------------------------------------------

DECODER = {
    "batch": st.integers(1, 2),
    "seq": st.integers(2, MAX_SEQ),
    "vocab": st.integers(4, 16),
    "layers": st.integers(1, 2),
    "kv_heads": st.sampled_from([1, 2]),
    "heads": lambda p: st.sampled_from([p["kv_heads"], 2 * p["kv_heads"]]),  # grouped-query attention, or not
    "head_dim": st.sampled_from([4, 2]),  # even: rotary embeddings rotate pairs of features
    "intermediate": st.integers(4, 16),
    "rope_theta": st.sampled_from([10000.0, 500000.0]),
    "tied": st.booleans(),
}
DECODING = {**TOKENS, "side_kwargs": {"torch": {"use_cache": False}},
            "stages": (Stage("decoder_layer", "model.layers.*", "transformer_layers.*"),),
            "known_divergences": in_float64("keras-hub-rms-norm-float32")}


def decoder(cls_name: str, config_name: str, p, **config):
    settings = {"vocab_size": p["vocab"], "hidden_size": hidden(p), "intermediate_size": p["intermediate"],
                "num_hidden_layers": p["layers"], "num_attention_heads": p["heads"],
                "num_key_value_heads": p["kv_heads"], "max_position_embeddings": MAX_SEQ,
                "tie_word_embeddings": p["tied"], "pad_token_id": None,
                "rope_parameters": {"rope_type": "default", "rope_theta": p["rope_theta"]}}
    return checkpoint(cls_name, config_name, **{**settings, **config})


def hf_llama(p, **config):
    """LlamaForCausalLM at the rms_norm_eps the converter leaves (LLAMA3_EPS), rope unscaled (LLAMA3_ROPE)."""
    return decoder("LlamaForCausalLM", "LlamaConfig", p, **{"rms_norm_eps": 1e-6, **config})


LLAMA3 = {"origin": _origin("LlamaForCausalLM", "Llama3Backbone"), "tf": from_pretrained("Llama3Backbone"),
          "dims": DECODER, **DECODING}
llama3_converter = LayerPair(name="llama3_converter", torch=hf_llama, **LLAMA3, **GRAPH)
llama3_converter_norm_eps = LayerPair(
    name="llama3_converter_norm_eps", torch=lambda p: hf_llama(p, rms_norm_eps=1e-5),
    **{**LLAMA3, **FINDING, "known_divergences": epsilon("keras-hub-llama3-norm-eps")},
    description="the Llama 3 releases' rms_norm_eps")
# Llama 3.1's factors, its 8192-token pretraining length shrunk with the model: every wavelength past 4 is scaled
LLAMA3_SCALING = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                  "original_max_position_embeddings": 4}
llama3_converter_rope_scaling = LayerPair(
    name="llama3_converter_rope_scaling",
    torch=lambda p: hf_llama(p, rope_parameters={**LLAMA3_SCALING, "rope_theta": p["rope_theta"]}),
    **{**LLAMA3, **FINDING, "known_divergences": (ledger.declared("keras-hub-llama3-rope-scaling", "forward"),)},
    description="Llama 3.1's rope scaling, as transformers 5 writes it")


def hf_mistral(p):
    return decoder("MistralForCausalLM", "MistralConfig", p, head_dim=p["head_dim"], sliding_window=p["window"],
                   rms_norm_eps=p["eps"])


mistral_converter = LayerPair(
    name="mistral_converter", origin=_origin("MistralForCausalLM", "MistralBackbone"), torch=hf_mistral,
    tf=from_pretrained("MistralBackbone"),
    dims={**DECODER, "tied": False, "window": st.sampled_from([4096, 2]), "eps": st.sampled_from([1e-6, 1e-5])},
    **{**DECODING, **EVAL, "known_divergences": (ledger.declared("keras-hub-mistral-float16", "forward"),
                                                 ledger.declared("keras-hub-mistral-float16", "gradient"))},
    description="Mistral's sliding window drawn below and above the sequence length")


def hf_qwen2(p):
    return decoder("Qwen2ForCausalLM", "Qwen2Config", p, rms_norm_eps=p["eps"])


qwen2_converter = LayerPair(
    name="qwen2_converter", origin=_origin("Qwen2ForCausalLM", "QwenBackbone"), torch=hf_qwen2,
    tf=from_pretrained("QwenBackbone"), dims={**DECODER, "eps": st.sampled_from([1e-6, 1e-5])}, **DECODING, **EVAL)


def hf_qwen3(p, **config):
    """Qwen3ForCausalLM at rms_norm_eps 1e-5: keras_hub's q/k norms use 1e-5 whatever the config (QWEN3_QK_EPS)."""
    return decoder("Qwen3ForCausalLM", "Qwen3Config", p, **{"head_dim": p["head_dim"], "rms_norm_eps": 1e-5,
                                                           **config})


QWEN3 = {"origin": _origin("Qwen3ForCausalLM", "Qwen3Backbone"), "tf": from_pretrained("Qwen3Backbone"),
         "dims": DECODER, **DECODING}
qwen3_converter = LayerPair(name="qwen3_converter", torch=hf_qwen3, **QWEN3, **EVAL)
qwen3_converter_qk_norm_eps = LayerPair(
    name="qwen3_converter_qk_norm_eps", torch=lambda p: hf_qwen3(p, rms_norm_eps=1e-6),
    **{**QWEN3, **FINDING, "known_divergences": epsilon("keras-hub-qwen3-qk-norm-eps")},
    description="the Qwen3 releases' rms_norm_eps")


def hf_gemma(p, **config):
    """GemmaForCausalLM at the releases' rms_norm_eps and rope_theta, which the converter leaves (GEMMA_CONFIG)."""
    return decoder("GemmaForCausalLM", "GemmaConfig", p, **{"head_dim": p["head_dim"], "rms_norm_eps": 1e-6, **config})


GEMMA = {"origin": _origin("GemmaForCausalLM", "GemmaBackbone"), "tf": from_pretrained("GemmaBackbone"),
         "dims": {**DECODER, "rope_theta": 10000.0, "tied": True}, **DECODING}
gemma_converter = LayerPair(name="gemma_converter", torch=hf_gemma, **GEMMA, **EVAL,
                            description="Gemma ties its embeddings in every release, as keras_hub's backbone does")
gemma_converter_config = LayerPair(
    name="gemma_converter_config",
    torch=lambda p: hf_gemma(p, rms_norm_eps=1e-5, rope_parameters={"rope_type": "default", "rope_theta": 500000.0}),
    **{**GEMMA, **FINDING, "known_divergences": (ledger.declared("keras-hub-gemma-config", "forward"),)},
    description="a Gemma checkpoint with another rms_norm_eps and rope_theta")


# --- vision -----------------------------------------------------------------------------------------------------------

VISION = {
    "batch": st.integers(1, 2),
    "patch": st.integers(2, 4),
    "grid": st.integers(1, 2),
    "image": lambda p: p["patch"] * p["grid"],
    "layers": st.integers(1, 2),
    "heads": st.integers(1, 2),
    "head_dim": st.sampled_from([4, 2]),
    "intermediate": st.integers(4, 16),
}
IMAGES = {"inputs": (Tensor("images", ("batch", 3, "image", "image"), layout="channels_first",
                            torch_key="pixel_values"),),
          "inputs_as": {"torch": "kwargs", "tf": "dict"}, "outputs": {"last_hidden_state": ""},
          "known_divergences": in_float64("keras-hub-image-input-float32")}


def vision(cls_name: str, config_name: str, p, **config):
    return checkpoint(cls_name, config_name, **{
        "image_size": p["image"], "patch_size": p["patch"], "num_channels": 3, "hidden_size": hidden(p),
        "num_hidden_layers": p["layers"], "num_attention_heads": p["heads"], **config})


def hf_vit(p, **config):
    """ViTForImageClassification at the layer_norm_eps the converter leaves (VIT_EPS)."""
    return vision("ViTForImageClassification", "ViTConfig", p, **{"intermediate_size": p["intermediate"],
                                                                 "layer_norm_eps": 1e-6, **config})


VIT = {"origin": _origin("ViTForImageClassification", "ViTBackbone"), "tf": from_pretrained("ViTBackbone"),
       "dims": VISION, **IMAGES}
vit_converter = LayerPair(name="vit_converter", torch=hf_vit, **VIT, **GRAPH)
vit_converter_norm_eps = LayerPair(
    name="vit_converter_norm_eps", torch=lambda p: hf_vit(p, layer_norm_eps=1e-12),
    **{**VIT, **FINDING, "known_divergences": epsilon("keras-hub-vit-norm-eps")},
    description="the ViT releases' layer_norm_eps")


def hf_deit(p):
    return vision("DeiTForImageClassification", "DeiTConfig", p, intermediate_size=p["intermediate"])


deit_converter = LayerPair(
    name="deit_converter", origin=_origin("DeiTForImageClassification", "DeiTBackbone"), torch=hf_deit,
    tf=from_pretrained("DeiTBackbone"), dims=VISION, **{**IMAGES, "inputs_as": {"torch": "kwargs"}}, **EVAL,
    description="keras_hub's DeiT backbone names no input: the images go positionally")


def hf_dinov2(p):
    return vision("Dinov2Model", "Dinov2Config", p, base=False, mlp_ratio=p["ratio"])


dinov2_converter = LayerPair(
    name="dinov2_converter", origin=_origin("Dinov2Model", "DINOV2Backbone"), torch=hf_dinov2,
    tf=from_pretrained("DINOV2Backbone"), dims={**VISION, "ratio": st.sampled_from([1, 2])},
    **{**IMAGES, "outputs": {"last_hidden_state": "", "pooler_output": None}}, **EVAL)
