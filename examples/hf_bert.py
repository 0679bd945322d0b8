"""HF ``transformers`` BertModel against keras_hub's BertBackbone: a real port, checked.

Tiny, randomly initialised models of any depth, weights mapped as keras_hub's own HF converter
maps them (``keras_hub/src/utils/transformers/convert_bert.py``), on real inputs: token ids,
segment ids and a padding mask. ``bert_backbone`` is the port done right and passes every
check. The ``bert_*`` pairs after it are ports at the libraries' *defaults*, each a divergence
that a user porting a checkpoint meets, declared with what it is and a one-line reproduction.

    conform run --pairs-from examples/hf_bert.py

Needs the ``models`` extra (``make`` installs it: transformers, and keras-hub without its
tensorflow-text dependency).
"""

from __future__ import annotations

from hypothesis import strategies as st

from harness import TRANSPOSE, KnownDivergence, LayerPair, Link, Origin, Reshape, Stage, Tensor, ledger

ORIGIN = Origin(seed="examples", tutorial_name="HF BertModel -> keras_hub BertBackbone",
                note="transformers.BertModel vs keras_hub.models.BertBackbone")
MAX_SEQ = 8
DIMS = {
    "batch": st.integers(1, 2),
    "seq": st.integers(1, MAX_SEQ),
    "vocab": st.integers(1, 12),
    "layers": st.integers(1, 2),
    "heads": st.integers(1, 2),
    "head_dim": st.integers(1, 3),
    "intermediate": st.integers(1, 6),
}
INPUTS = (
    Tensor("token_ids", ("batch", "seq"), dtype="int64", high="vocab", torch_key="input_ids"),
    Tensor("segment_ids", ("batch", "seq"), dtype="int64", high=2, torch_key="token_type_ids"),
    Tensor("padding_mask", ("batch", "seq"), dtype="int64", mask=True, torch_key="attention_mask"),
)
SPLIT_HEADS = TRANSPOSE.then(Reshape("split_heads", to=(-1, "heads", "head_dim")))  # (h*d, H) -> (H, h, d)
MERGE_HEADS = TRANSPOSE.then(Reshape("merge_heads", to=("heads", "head_dim", -1)))  # (H, h*d) -> (h, d, H)
BIAS_HEADS = Reshape("bias_heads", to=("heads", "head_dim"))
LAYER, ATTENTION = "transformer_layers.*", "transformer_layers.*._self_attention_layer"
WEIGHTS = {
    "embeddings.word_embeddings.weight": "token_embedding.embeddings",
    "embeddings.position_embeddings.weight": "position_embedding.position_embeddings",
    "embeddings.token_type_embeddings.weight": "segment_embedding.embeddings",
    "embeddings.LayerNorm.weight": "embeddings_layer_norm.gamma",
    "embeddings.LayerNorm.bias": "embeddings_layer_norm.beta",
    **{f"encoder.layer.*.attention.self.{p}.weight": Link(f"{ATTENTION}._{p}_dense.kernel", SPLIT_HEADS)
       for p in ("query", "key", "value")},
    **{f"encoder.layer.*.attention.self.{p}.bias": Link(f"{ATTENTION}._{p}_dense.bias", BIAS_HEADS)
       for p in ("query", "key", "value")},
    "encoder.layer.*.attention.output.dense.weight": Link(f"{ATTENTION}._output_dense.kernel", MERGE_HEADS),
    "encoder.layer.*.attention.output.dense.bias": f"{ATTENTION}._output_dense.bias",
    "encoder.layer.*.attention.output.LayerNorm.weight": f"{LAYER}._self_attention_layer_norm.gamma",
    "encoder.layer.*.attention.output.LayerNorm.bias": f"{LAYER}._self_attention_layer_norm.beta",
    "encoder.layer.*.intermediate.dense.weight": Link(f"{LAYER}._feedforward_intermediate_dense.kernel", TRANSPOSE),
    "encoder.layer.*.intermediate.dense.bias": f"{LAYER}._feedforward_intermediate_dense.bias",
    "encoder.layer.*.output.dense.weight": Link(f"{LAYER}._feedforward_output_dense.kernel", TRANSPOSE),
    "encoder.layer.*.output.dense.bias": f"{LAYER}._feedforward_output_dense.bias",
    "encoder.layer.*.output.LayerNorm.weight": f"{LAYER}._feedforward_layer_norm.gamma",
    "encoder.layer.*.output.LayerNorm.bias": f"{LAYER}._feedforward_layer_norm.beta",
    "pooler.dense.weight": Link("pooled_dense.kernel", TRANSPOSE),
    "pooler.dense.bias": "pooled_dense.bias",
}


def hf_bert(p, **config):
    """HF's BertModel at the drawn size; ``config`` overrides the settings that make it keras_hub's twin."""
    import transformers

    settings = {"hidden_act": "gelu_pytorch_tanh", "pad_token_id": None, **config}  # keras_hub: tanh GELU, no pad row
    return transformers.BertModel(transformers.BertConfig(
        vocab_size=p["vocab"], hidden_size=p["heads"] * p["head_dim"], num_hidden_layers=p["layers"],
        num_attention_heads=p["heads"], intermediate_size=p["intermediate"], max_position_embeddings=MAX_SEQ,
        type_vocab_size=2, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, **settings))


def keras_hub_bert(p):
    import keras_hub

    return keras_hub.models.BertBackbone(
        vocabulary_size=p["vocab"], num_layers=p["layers"], num_heads=p["heads"], hidden_dim=p["heads"] * p["head_dim"],
        intermediate_dim=p["intermediate"], dropout=0.0, max_sequence_length=MAX_SEQ, num_segments=2)


PORT = {
    "origin": ORIGIN, "torch": hf_bert, "tf": keras_hub_bert, "dims": DIMS, "inputs": INPUTS,
    "inputs_as": {"torch": "kwargs", "tf": "dict"}, "weights": WEIGHTS,
    "outputs": {"last_hidden_state": "sequence_output", "pooler_output": "pooled_output"},
    "stages": (Stage("encoder_layer", "encoder.layer.*", LAYER),),
}

# keras.ops.add on the TF backend sends a (k, 1) operand through tf.nn.bias_add: EinsumDense's (heads, 1) bias of a
# key_dim-1 attention lands on the sequence axis when seq == heads (the ledger's keras-ops-add-broadcast).
# Declared where it bites, and shown alone below.
def add_bias_bug_bites(p) -> bool:
    return p["head_dim"] == 1 and p["heads"] == p["seq"] and p["heads"] > 1


# In a float64 run TF rounds two constants through float32: tf.nn.gelu(approximate=True)'s 0.044715 and Keras's
# attention scale (the ledger's tf-gelu-tanh-float32-constant and keras-mha-scale-float32). The effect is
# 1e-9..1e-8: beyond the float64 tolerance only where activations are large enough.
FLOAT32_IN_FLOAT64 = ("tf-gelu-tanh-float32-constant", "keras-mha-scale-float32")

bert_backbone = LayerPair(
    name="bert_backbone", **PORT, checks=("forward", "gradient", "serialization"),
    known_divergences=(
        # strict=False: with hidden = heads = 2 the final LayerNorm keeps only signs, so the corner shows only sometimes
        *(ledger.declared("keras-ops-add-broadcast", check, where=add_bias_bug_bites, strict=False)
          for check in ("forward", "gradient")),
        *(ledger.declared(defect, check, dtypes=("float64",), strict=False)
          for defect in FLOAT32_IN_FLOAT64 for check in ("forward", "gradient")),
    ),
    description="the whole backbone, any depth, localised per encoder layer",
)

# --- the divergences, each alone: ports at a library's default, or the corner where a bug bites ----------------------

bert_keras_add_bias = LayerPair(
    name="bert_keras_add_bias", **{**PORT, "dims": {**DIMS, "seq": 3, "heads": 3, "head_dim": 1}},
    checks=("forward",), modes=("eval",),
    known_divergences=(ledger.declared("keras-ops-add-broadcast", "forward"),),
    description="key_dim 1 and seq == heads: keras.ops.add puts the attention biases on the sequence axis",
)
bert_hf_exact_gelu = LayerPair(
    name="bert_hf_exact_gelu", **{**PORT, "torch": lambda p: hf_bert(p, hidden_act="gelu")},
    checks=("forward",), modes=("eval",),
    known_divergences=(KnownDivergence("forward", (
        "HF BertConfig's default hidden_act='gelu' is the exact GELU; keras_hub's BertBackbone hard-codes the tanh "
        "approximation (1e-3 apart at O(1) activations, hidden under HF's 0.02 init). Reproduce: F.gelu(x) - "
        "F.gelu(x, approximate='tanh') for torch.nn.functional as F and x = torch.tensor(1.)")),),
    description="HF's default activation against keras_hub's: exact vs tanh GELU",
)
bert_hf_padding_idx = LayerPair(
    name="bert_hf_padding_idx", **{**PORT, "torch": lambda p: hf_bert(p, pad_token_id=0)},
    checks=("gradient",), modes=("eval",),
    known_divergences=(KnownDivergence("gradient", (
        "HF's word_embeddings has padding_idx=pad_token_id (0 by default): torch gives row 0 no gradient, Keras does. "
        "Reproduce: nn.Embedding(5, 3, padding_idx=0) gets a zero gradient for id 0, keras.layers.Embedding does not"),
        tensors=("grad embeddings.word_embeddings.weight",)),),
    description="HF's default pad_token_id: the padding row's embedding gets no gradient in torch",
)
