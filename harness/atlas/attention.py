"""nn.MultiheadAttention against MultiHeadAttention, and nn.Embedding against Embedding.

Attention: torch packs the query, key and value projections into one ``in_proj_weight``
(3*E, E), each block ``(heads*head_dim, E)``; Keras keeps three ``EinsumDense`` kernels
(E, heads, head_dim): split in three, transpose, split the heads. Where ``kdim`` / ``vdim``
differ from ``embed_dim`` torch keeps three separate ``*_proj_weight`` instead, one per
kernel. The output projection ``out_proj.weight`` (E, heads*head_dim) is Keras's
(heads, head_dim, E) kernel. torch's forward is ``(query, key, value)`` and returns
``(output, averaged weights)`` unless ``need_weights=False``; Keras's call is ``(query, value,
key)`` and returns the output: the correct pairs pass the three by keyword and ask torch for
no weights.

Embedding: the (num_embeddings, dim) table is Keras's ``embeddings`` as it is.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from harness import ledger
from harness.atlas.core import ALL_MODES, Convention, Counterpart, Example, Setting, keras, torch_nn
from harness.layouts import TRANSPOSE, Reshape, Split
from harness.spec import Link, Tensor

SCALE_FLOAT64 = tuple(ledger.declared("keras-mha-scale-float32", check, dtypes=("float64",))
                      for check in ("forward", "gradient"))

_NO_WEIGHTS = {"torch": {"need_weights": False}}
_BY_KEYWORD = {"torch": "kwargs", "tf": "kwargs"}
_PROJECTIONS = ("query_dense", "key_dense", "value_dense")
# How each convention's effect was measured: the pair's own layers, weights and inputs, as a run draws them.
MEASURED = ("float64, 10 normal-regime cases drawn from the pair's dims, weights and inputs drawn as a run draws "
            "them (harness.engine.prepare and run_both)")


def _mha_accepts(m: Any) -> str | None:
    if m.bias_k is not None:
        return "add_bias_kv=True: Keras's MultiHeadAttention appends no learned key/value bias to the sequence"
    if m.add_zero_attn:
        return "add_zero_attn=True: Keras's MultiHeadAttention appends no zero key/value to the sequence"
    return None


def _has_bias(m: Any) -> bool:
    return m.in_proj_bias is not None


def _mha_to_keras(m: Any) -> Any:
    return keras().layers.MultiHeadAttention(num_heads=m.num_heads, key_dim=m.head_dim, value_dim=m.head_dim,
                                             dropout=m.dropout, use_bias=_has_bias(m))


def _dim(layer: Any, dense: str, axis: int) -> int:
    return int(getattr(layer, dense).kernel.shape[axis])


def _mha_to_torch(layer: Any) -> Any:
    config = layer.get_config()
    heads, key_dim, value_dim = config["num_heads"], config["key_dim"], config["value_dim"] or config["key_dim"]
    embed = _dim(layer, "query_dense", 0)
    if heads * key_dim != embed or value_dim != key_dim or _dim(layer, "output_dense", -1) != embed:
        raise ValueError(f"num_heads={heads}, key_dim={key_dim}, value_dim={value_dim} on queries of {embed} "
                         f"features: torch's heads split embed_dim ({embed}) into num_heads * head_dim, one "
                         "head_dim for keys and values, and its output has embed_dim features")
    if config["use_gate"] or config["attention_axes"] not in (None, (1,), [1]) or config.get("sliding_window"):
        raise ValueError("use_gate, attention_axes and sliding_window have no nn.MultiheadAttention counterpart")
    return torch_nn().MultiheadAttention(embed, heads, dropout=config["dropout"], bias=config["use_bias"],
                                         batch_first=True, kdim=_dim(layer, "key_dense", 0),
                                         vdim=_dim(layer, "value_dense", 0))


def _mha_weights(m: Any) -> dict[str, Link]:
    heads, head_dim = m.num_heads, m.head_dim
    split_heads = TRANSPOSE.then(Reshape("split_heads", to=(-1, heads, head_dim)))  # (h*d, E) -> (E, h, d)
    if m._qkv_same_embed_dim:
        out = {"in_proj_weight": Link(tuple(f"{d}.kernel" for d in _PROJECTIONS),
                                      Split("qkv", count=3, axis=0, each=split_heads))}
    else:
        out = {f"{p}_proj_weight": Link(f"{d}.kernel", split_heads) for p, d in zip("qkv", _PROJECTIONS, strict=True)}
    merge_heads = TRANSPOSE.then(Reshape("merge_heads", to=(heads, head_dim, -1)))  # (E, h*d) -> (h, d, E)
    out["out_proj.weight"] = Link("output_dense.kernel", merge_heads)
    if _has_bias(m):
        out["in_proj_bias"] = Link(tuple(f"{d}.bias" for d in _PROJECTIONS),
                                   Split("qkv_bias", count=3, axis=0, each=Reshape("bias_heads", to=(heads, head_dim))))
        out["out_proj.bias"] = Link("output_dense.bias")
    return out


def _mha(p: Any, **given: Any) -> Any:
    kwargs = {"bias": p["bias"], "batch_first": True, "kdim": p["kdim"], "vdim": p["vdim"], **given}
    return torch_nn().MultiheadAttention(p["embed"], p["heads"], **kwargs)


def _keras_mha(p: Any) -> Any:
    return keras().layers.MultiHeadAttention(num_heads=p["heads"], key_dim=p["head_dim"])


def _mha_dims(**extra: Any) -> dict[str, Any]:
    """head_dim from 2: at 1, Keras adds the projections' biases along the wrong axis (the key_dim_1 pair)."""
    dims = {"batch": st.integers(1, 3), "heads": st.integers(1, 3), "head_dim": st.integers(2, 3),
            "embed": lambda p: p["heads"] * p["head_dim"], "tgt": st.integers(1, 4), "src": st.integers(1, 4),
            "kdim": lambda p: p["embed"], "vdim": lambda p: p["embed"], "bias": True}
    return {**dims, **extra}


QKV = (Tensor("query", ("batch", "tgt", "embed")), Tensor("key", ("batch", "src", "kdim")),
       Tensor("value", ("batch", "src", "vdim")))
SELF_SHAPED = (Tensor("query", ("batch", "seq", "embed")), Tensor("key", ("batch", "seq", "embed")),
               Tensor("value", ("batch", "seq", "embed")))


MULTIHEAD_ATTENTION = Counterpart(
    name="multihead_attention",
    torch=("MultiheadAttention",),
    keras=("MultiHeadAttention",),
    to_keras=_mha_to_keras,
    to_torch=_mha_to_torch,
    weights=_mha_weights,
    accepts=_mha_accepts,
    settings=(
        Setting("num_heads", "num_heads", "num_heads"),
        Setting("head_dim", "head_dim", "key_dim", meaning="Keras's key_dim is torch's embed_dim // num_heads"),
        Setting("value_head_dim", "head_dim", lambda layer: layer.get_config()["value_dim"] or
                layer.get_config()["key_dim"], meaning="torch's values have head_dim features per head too"),
        Setting("embed_dim", "embed_dim", lambda layer: _dim(layer, "output_dense", -1),
                meaning="torch's output has embed_dim features"),
        Setting("kdim", "kdim", lambda layer: _dim(layer, "key_dense", 0)),
        Setting("vdim", "vdim", lambda layer: _dim(layer, "value_dense", 0)),
        Setting("bias", _has_bias, "use_bias", torch_default=True, keras_default=True),
        Setting("dropout", "dropout", "dropout", torch_default=0.0, keras_default=0.0,
                meaning="both drop attention probabilities in training"),
        Setting("use_gate", lambda _m: False, "use_gate", torch_default=False, keras_default=False),
        Setting("attention_axes", lambda _m: (1,), lambda layer: tuple(layer.get_config()["attention_axes"] or (1,)),
                meaning="torch attends over the sequence axis only (Keras's None on a 3-d input)"),
        Setting("sliding_window", lambda _m: None, lambda layer: layer.get_config().get("sliding_window")),
    ),
    examples=(
        Example("multihead_attention", _mha, dims=_mha_dims(bias=st.booleans()), inputs=QKV, modes=ALL_MODES,
                spec={"inputs_as": _BY_KEYWORD, "side_kwargs": _NO_WEIGHTS, "known_divergences": SCALE_FLOAT64},
                description="nn.MultiheadAttention(batch_first=True), with or without bias, vs MultiHeadAttention"
                            "(key_dim=embed_dim // num_heads): query, key and value by keyword, torch asked "
                            "need_weights=False; the packed in_proj_weight split into three kernels."),
        Example("multihead_attention_kdim", _mha,
                dims=_mha_dims(kdim=st.integers(1, 5), vdim=st.integers(1, 5)), inputs=QKV, modes=ALL_MODES,
                spec={"inputs_as": _BY_KEYWORD, "side_kwargs": _NO_WEIGHTS, "known_divergences": SCALE_FLOAT64},
                description="nn.MultiheadAttention with kdim / vdim of their own (separate q/k/v_proj_weight) vs "
                            "MultiHeadAttention on keys and values of those widths."),
    ),
    conventions=(
        Convention(
            "batch_first", "batch_first", "False (inputs (seq, batch, embed))", "always batch-major",
            effect=("A torch MultiheadAttention at its default fed the (batch, seq, embed) tensors a Keras port "
                    f"takes attends across the batch axis: same shape, other values, max |diff| 0.96-3.4, median "
                    f"1.9 ({MEASURED}; batch and seq 2-3)."),
            torch=lambda p: torch_nn().MultiheadAttention(p["embed"], p["heads"]), tf=_keras_mha,
            dims=_mha_dims(batch=st.integers(2, 3), seq=st.integers(2, 3)), inputs=SELF_SHAPED,
            spec={"inputs_as": _BY_KEYWORD, "side_kwargs": _NO_WEIGHTS},
        ),
        Convention(
            "call_order", "call argument order", "forward(query, key, value)", "call(query, value, key)",
            effect=("The same three tensors passed positionally: Keras takes torch's key as its value and "
                    f"torch's value as its key: max |diff| 0.26-4.7, median 1.8 ({MEASURED}). Pass them by "
                    "keyword."),
            torch=_mha, tf=_keras_mha, dims=_mha_dims(), inputs=QKV, spec={"side_kwargs": _NO_WEIGHTS},
        ),
        Convention(
            "need_weights", "need_weights", "True: returns (output, head-averaged attention weights)",
            "return_attention_scores=False: returns the output",
            effect=("torch returns two tensors, the output and the weights averaged over heads (batch, tgt, src); "
                    "Keras one: the forward check reports a structure mismatch (output count 2 vs 1) on every "
                    "case. Ask torch need_weights=False (or Keras return_attention_scores=True: per-head scores, "
                    "(batch, heads, tgt, src), still not torch's average)."),
            torch=_mha, tf=_keras_mha, dims=_mha_dims(), inputs=QKV, spec={"inputs_as": _BY_KEYWORD},
        ),
        Convention(
            "key_dim_1", "key_dim=1 with a bias", "head_dim=1: each head's bias added to that head",
            "key_dim=1: the (num_heads, 1) bias added along the sequence axis where num_heads equals its length",
            effect=("A Keras bug, not a convention: on the TensorFlow backend keras.ops.add(x, bias) takes a bias "
                    "that squeezes to one axis for tf.nn.bias_add, NCHW where its length equals x.shape[1]; the "
                    "query/key/value EinsumDense outputs (batch, seq, heads, 1) plus their (heads, 1) bias thus get "
                    "bias[t] at sequence position t instead of bias[h] on head h whenever num_heads == seq: "
                    f"max |diff| 0.096-3.6, median 0.79 ({MEASURED}; heads = tgt = src, 2-3). The correct pairs "
                    "draw head_dim from 2; this pair turns red when Keras fixes it."),
            torch=_mha, tf=_keras_mha,
            dims=_mha_dims(heads=st.integers(2, 3), head_dim=1, tgt=lambda p: p["heads"], src=lambda p: p["heads"]),
            inputs=QKV, spec={"inputs_as": _BY_KEYWORD, "side_kwargs": _NO_WEIGHTS},
        ),
        Convention(
            "mask_polarity", "boolean attention mask", "attn_mask True = may NOT attend",
            "attention_mask True = may attend",
            effect=("The same boolean (tgt, src) mask given to both masks the complementary positions: max |diff| "
                    f"0.69-4.4, median 1.7 ({MEASURED}). A row torch masks entirely (all True) gives no NaN: torch "
                    "2.13 attends to nothing there (a zero attention output, the output projection's bias alone). "
                    "Pass torch ~mask, or Keras the logical not."),
            torch=_mha, tf=_keras_mha, dims=_mha_dims(),
            inputs=(*QKV, Tensor("mask", ("tgt", "src"), dtype="bool", mask=True, torch_key="attn_mask",
                                 tf_key="attention_mask")),
            spec={"inputs_as": _BY_KEYWORD, "side_kwargs": _NO_WEIGHTS},
        ),
    ),
)


def _embedding_accepts(m: Any) -> str | None:
    if m.max_norm is not None:
        return (f"max_norm={m.max_norm}: torch renormalises the looked-up rows in place on every call; Keras has "
                "no counterpart (an embeddings_constraint acts after optimizer steps, on every row)")
    if m.scale_grad_by_freq:
        return "scale_grad_by_freq=True: Keras does not scale the gradient by the ids' frequency in the batch"
    return None


def _embedding(p: Any, **given: Any) -> Any:
    return torch_nn().Embedding(p["vocab"], p["dim"], **given)


EMBEDDING = Counterpart(
    name="embedding",
    torch=("Embedding",),
    keras=("Embedding",),
    to_keras=lambda m: keras().layers.Embedding(m.num_embeddings, m.embedding_dim),
    to_torch=lambda layer: torch_nn().Embedding(layer.input_dim, layer.output_dim),
    weights=lambda _m: {"weight": Link("embeddings")},
    accepts=_embedding_accepts,
    settings=(
        Setting("num_embeddings", "num_embeddings", "input_dim"),
        Setting("embedding_dim", "embedding_dim", "output_dim"),
        Setting("padding_idx", "padding_idx", lambda _layer: None, torch_default=None,
                meaning="torch's padding row gets no gradient; Keras has no such row"),
        Setting("mask_zero", lambda _m: False, "mask_zero", torch_default=False, keras_default=False,
                meaning="torch makes no mask; Keras's mask_zero=True makes later layers skip id 0"),
    ),
    examples=(
        Example("embedding", _embedding,
                dims={"batch": st.integers(1, 3), "seq": st.integers(1, 4), "vocab": st.integers(1, 8),
                      "dim": st.integers(1, 6)},
                inputs=(Tensor("ids", ("batch", "seq"), dtype="int64", high="vocab"),), modes=ALL_MODES,
                description="nn.Embedding vs Embedding: a row lookup by int64 ids; the table's gradient is "
                            "compared (no gradient for the ids)."),
    ),
    conventions=(
        Convention(
            "padding_idx", "padding_idx", "padding_idx=0: that row's gradient is always zero",
            "no padding row (mask_zero=True masks later layers, not this row's gradient)",
            effect=("The forward passes agree (the row is looked up like any other); the table's gradient "
                    "differs in row 0 only, which torch keeps at zero and Keras accumulates: max |diff| 1.4-4.7 "
                    f"({MEASURED}; ids in [0, 2), so most cases hold a 0; one that holds none agrees)."),
            torch=lambda p: _embedding(p, padding_idx=0), tf=lambda p: keras().layers.Embedding(p["vocab"], p["dim"]),
            dims={"batch": st.integers(2, 3), "seq": st.integers(2, 4), "vocab": st.integers(2, 6),
                  "dim": st.integers(1, 4)},
            inputs=(Tensor("ids", ("batch", "seq"), dtype="int64", high=2),),
            check="gradient", checks=("forward", "gradient"),
        ),
    ),
)

COUNTERPARTS = (MULTIHEAD_ATTENTION, EMBEDDING)
