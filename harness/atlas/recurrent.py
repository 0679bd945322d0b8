"""nn.RNN / nn.LSTM / nn.GRU against SimpleRNN / LSTM / GRU, one layer, uni- or bidirectional.

The weights: torch's ``weight_ih_l0`` (gates*units, in) is Keras's ``cell.kernel`` (in,
gates*units) transposed, ``weight_hh_l0`` the ``cell.recurrent_kernel``. The gates come in
the same order for the LSTM (i, f, g, o) = (i, f, c, o); the GRU's are (r, z, n) in torch and
(z, r, h) in Keras (:class:`~harness.layouts.Blocks`). torch keeps two biases per layer where
the LSTM and SimpleRNN keep their sum (``Part(summed=True)``); the GRU with ``reset_after=True``
keeps both, as the two rows of its (2, 3*units) bias. A bidirectional module's ``*_reverse``
tensors are the ``backward_layer`` of ``Bidirectional(..., merge_mode="concat")``.

The outputs: torch returns ``(output, h_n)`` (the LSTM ``(output, (h_n, c_n))``), the states
shaped (directions, batch, units); Keras with ``return_sequences=True`` returns the sequence,
which is what the pairs compare (torch's states are left out: ``h_n`` is a step of the
sequence, and every weight reaches the sequence, so its gradient covers them all).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from harness.atlas.core import ALL_MODES, Convention, Counterpart, Example, Setting, keras, torch_nn
from harness.layouts import IDENTITY, TRANSPOSE, Blocks, Reshape, Transform
from harness.spec import Link, Part, Tensor, TorchOnly

# torch GRU gates (reset, update, new) -> Keras (update, reset, candidate)
GRU_GATES = Blocks("gru_gates", order=(1, 0, 2))
BIAS_ROW = Reshape("bias_row", to=(1, -1))  # one of the GRU bias's two rows (input, recurrent)
_KERAS_CLASS = {"RNN": "SimpleRNN", "LSTM": "LSTM", "GRU": "GRU"}
# torch's outputs beside the sequence: the final states, left out of the comparison (see the docstring)
_STATES = {"RNN": ("1",), "LSTM": ("1.0", "1.1"), "GRU": ("1",)}
# How each convention's effect was measured: the pair's own layers, weights and inputs, as a run draws them.
MEASURED = ("float64, 10 normal-regime cases drawn from the pair's dims, weights and inputs drawn as a run draws "
            "them (harness.engine.prepare and run_both)")


def _outputs(kind: str) -> dict[str, str | None]:
    return {"0": "", **dict.fromkeys(_STATES[kind])}


def _bidirectional(layer: Any) -> bool:
    return type(layer).__name__ == "Bidirectional"


def _inner(layer: Any) -> Any:
    """The recurrent layer itself (a Bidirectional's forward layer)."""
    return layer.forward_layer if _bidirectional(layer) else layer


def _config(key: str) -> Any:
    return lambda layer: _inner(layer).get_config()[key]


def _accepts(m: Any) -> str | None:
    if m.num_layers > 1:
        return (f"num_layers={m.num_layers}: stack Keras layers, one per torch layer"
                + (f", with keras.layers.Dropout({m.dropout}) between them" if m.dropout else ""))
    if getattr(m, "proj_size", 0):
        return f"proj_size={m.proj_size}: Keras's LSTM has no projection of its hidden state"
    return None


def _to_keras(kind: str) -> Any:
    def build(m: Any) -> Any:
        layers = keras().layers
        common = {"units": m.hidden_size, "use_bias": m.bias, "return_sequences": True}
        if kind == "RNN":
            layer = layers.SimpleRNN(activation=m.nonlinearity, **common)
        elif kind == "LSTM":
            layer = layers.LSTM(activation="tanh", recurrent_activation="sigmoid", **common)
        else:
            layer = layers.GRU(activation="tanh", recurrent_activation="sigmoid", reset_after=True, **common)
        return layers.Bidirectional(layer, merge_mode="concat") if m.bidirectional else layer

    return build


def _to_torch(kind: str) -> Any:
    def build(layer: Any) -> Any:
        inner = _inner(layer)
        if _bidirectional(layer) and layer.merge_mode != "concat":
            raise ValueError(f"Bidirectional merge_mode={layer.merge_mode!r}: torch concatenates the directions")
        config = inner.get_config()
        kwargs = {"input_size": int(inner.cell.kernel.shape[0]), "hidden_size": int(config["units"]),
                  "bias": bool(config["use_bias"]), "batch_first": True, "bidirectional": _bidirectional(layer)}
        if kind == "RNN":
            if config["activation"] not in ("tanh", "relu"):
                raise ValueError(f"activation={config['activation']!r}: nn.RNN has tanh or relu")
            kwargs["nonlinearity"] = config["activation"]
        elif config["activation"] != "tanh" or config["recurrent_activation"] != "sigmoid":
            raise ValueError(f"activation={config['activation']!r}, recurrent_activation="
                             f"{config['recurrent_activation']!r}: torch's {kind} has tanh and sigmoid")
        if kind == "GRU" and not config["reset_after"]:
            raise ValueError("reset_after=False: torch's GRU applies the reset gate after the recurrent matmul")
        return getattr(torch_nn(), kind)(**kwargs)

    return build


def _map(kind: str, bidirectional: bool, bias: bool, gates: Transform, gru_bias: str = "rows") -> dict[str, Link]:
    """A module's map; ``gates`` reorders the gate blocks, ``gru_bias`` is ``rows`` (reset_after) or ``summed``."""
    directions = [("", "forward_layer." if bidirectional else "")] + ([("_reverse", "backward_layer.")]
                                                                      if bidirectional else [])
    out: dict[str, Link] = {}
    for suffix, prefix in directions:
        out[f"weight_ih_l0{suffix}"] = Link(f"{prefix}cell.kernel", gates.then(TRANSPOSE))
        out[f"weight_hh_l0{suffix}"] = Link(f"{prefix}cell.recurrent_kernel", gates.then(TRANSPOSE))
        if not bias:
            continue
        for index, name in enumerate(("bias_ih_l0", "bias_hh_l0")):
            if kind == "GRU" and gru_bias == "rows":
                out[f"{name}{suffix}"] = Link(f"{prefix}cell.bias", gates.then(BIAS_ROW), part=Part(index, of=2))
            else:
                out[f"{name}{suffix}"] = Link(f"{prefix}cell.bias", gates, part=Part(index, of=2, summed=True))
    return out


def _weights(kind: str) -> Any:
    def weights(m: Any) -> dict[str, Link]:
        return _map(kind, m.bidirectional, m.bias, GRU_GATES if kind == "GRU" else IDENTITY)

    return weights


def _settings(kind: str) -> tuple[Setting, ...]:
    common = (
        Setting("hidden_size", "hidden_size", _config("units")),
        Setting("input_size", "input_size", lambda layer: int(_inner(layer).cell.kernel.shape[0])),
        Setting("bias", "bias", _config("use_bias"), torch_default=True, keras_default=True),
        Setting("num_layers", "num_layers", lambda _layer: 1, torch_default=1,
                meaning="one Keras layer per torch layer"),
        Setting("bidirectional", "bidirectional", _bidirectional, torch_default=False, keras_default=False),
        Setting("merge_mode", lambda m: "concat" if m.bidirectional else None,
                lambda layer: layer.merge_mode if _bidirectional(layer) else None,
                meaning="torch concatenates the two directions' outputs"),
        Setting("return_sequences", lambda _m: True, _config("return_sequences"), torch_default=True,
                keras_default=False, meaning="torch always returns every step's output"),
        Setting("go_backwards", lambda _m: False, _config("go_backwards"), torch_default=False, keras_default=False),
        Setting("dropout", lambda _m: 0.0, _config("dropout"), torch_default=0.0, keras_default=0.0,
                meaning="torch drops only between stacked layers (none in one layer); Keras drops the cell's inputs"),
        Setting("recurrent_dropout", lambda _m: 0.0, _config("recurrent_dropout"), torch_default=0.0,
                keras_default=0.0, meaning="torch never drops the recurrent state"),
        Setting("stateful", lambda _m: False, _config("stateful"), torch_default=False, keras_default=False,
                meaning="torch starts every call from h0 (zeros unless given)"),
    )
    if kind == "RNN":
        return (*common, Setting("nonlinearity", "nonlinearity", _config("activation"),
                                 torch_default="tanh", keras_default="tanh"))
    fixed = (
        Setting("activation", lambda _m: "tanh", _config("activation"), torch_default="tanh", keras_default="tanh"),
        Setting("recurrent_activation", lambda _m: "sigmoid", _config("recurrent_activation"),
                torch_default="sigmoid", keras_default="sigmoid"),
    )
    if kind == "GRU":
        fixed += (Setting("reset_after", lambda _m: True, _config("reset_after"), torch_default=True,
                          keras_default=True, meaning="torch applies the reset gate after the recurrent matmul"),)
    return (*common, *fixed)


def _torch(kind: str, **fixed: Any) -> Any:
    def build(p: Any) -> Any:
        kwargs = {"bias": p["bias"], "batch_first": True, **fixed}
        return getattr(torch_nn(), kind)(p["features"], p["hidden"], **kwargs)

    return build


def _keras_at_defaults(kind: str, **given: Any) -> Any:
    def build(p: Any) -> Any:
        return getattr(keras().layers, _KERAS_CLASS[kind])(p["hidden"], **given)

    return build


def _dims(**extra: Any) -> dict[str, Any]:
    return {"batch": st.integers(1, 3), "seq": st.integers(1, 4), "features": st.integers(1, 5),
            "hidden": st.integers(1, 5), "bias": True, **extra}


SEQUENCE = (Tensor("x", ("batch", "seq", "features")),)


def _examples(kind: str, stem: str) -> tuple[Example, ...]:
    torch_name, keras_name = f"nn.{kind}", _KERAS_CLASS[kind]
    return (
        Example(stem, _torch(kind), dims=_dims(bias=st.booleans()), inputs=SEQUENCE, modes=ALL_MODES,
                spec={"outputs": _outputs(kind)},
                description=f"{torch_name}(batch_first=True), one layer, with or without bias, vs {keras_name}"
                            "(return_sequences=True): the output sequences (torch's final states left out)."),
        Example(f"{stem}_bidirectional", _torch(kind, bidirectional=True), dims=_dims(), inputs=SEQUENCE,
                modes=ALL_MODES, spec={"outputs": _outputs(kind)},
                description=f"{torch_name}(batch_first=True, bidirectional=True) vs Bidirectional({keras_name}"
                            "(return_sequences=True), merge_mode='concat'): both directions' outputs, concatenated."),
    )


def _batch_first(kind: str, measured: str) -> Convention:
    return Convention(
        "batch_first", "batch_first", "False (input (seq, batch, features))",
        "always batch-major (input (batch, seq, features))",
        effect=(f"A torch {kind} at its default fed the (batch, seq, features) tensor a Keras port takes runs "
                f"its recurrence along the batch axis: the outputs keep their shape but not their values, max "
                f"|diff| {measured} ({MEASURED}; batch and seq 2-3). Only output[0, 0] agrees."),
        torch=lambda p: getattr(torch_nn(), kind)(p["features"], p["hidden"]),
        tf=_keras_at_defaults(kind, return_sequences=True),
        dims=_dims(batch=st.integers(2, 3), seq=st.integers(2, 3)), inputs=SEQUENCE,
        spec={"outputs": _outputs(kind)},
    )


def _return_sequences(kind: str) -> Convention:
    return Convention(
        "return_sequences", "return_sequences", "every step's output (and the final states)",
        "return_sequences=False: the last step's output only",
        effect=(f"torch's {kind} returns the output of every step, (batch, seq, units); Keras's {_KERAS_CLASS[kind]} "
                "at its default the last step's, (batch, units): the forward check reports a structure mismatch "
                "(output shapes differ) on every case."),
        torch=_torch(kind), tf=_keras_at_defaults(kind), dims=_dims(), inputs=SEQUENCE,
        spec={"outputs": _outputs(kind)},
    )


def _two_biases(kind: str, measured: str) -> Convention:
    keras_name = _KERAS_CLASS[kind]
    copied = {
        "weight_ih_l0": Link("cell.kernel", TRANSPOSE),
        "weight_hh_l0": Link("cell.recurrent_kernel", TRANSPOSE),
        "bias_ih_l0": Link("cell.bias"),
        "bias_hh_l0": TorchOnly(f"a port that copies bias_ih_l0 into {keras_name}'s one bias has nowhere for it"),
    }
    return Convention(
        "two_biases", "bias", "two biases, bias_ih_l0 and bias_hh_l0, both trained",
        "one bias (their sum)",
        effect=(f"torch's {kind} adds two biases where {keras_name} has one: their sum must be copied (the "
                f"correct map sums them). A port copying bias_ih_l0 alone drops bias_hh_l0: max |diff| of the "
                f"output sequence {measured} (float64, 10 modules at torch's default init, hidden 1-5, input (2, 3, "
                f"3) ~ N(0, 1), against the same {keras_name} with the two biases summed, which agrees to 1e-12). "
                "The pair reproduces the structure: the map that copies one bias is refused by the parameters "
                "check (a torch parameter with no Keras variable)."),
        torch=_torch(kind), tf=_keras_at_defaults(kind, return_sequences=True), dims=_dims(), inputs=SEQUENCE,
        check="parameters", checks=("parameters",), weights=copied, spec={"outputs": _outputs(kind)},
    )


def _gru_conventions() -> tuple[Convention, ...]:
    unmoved = _map("GRU", False, True, IDENTITY)
    return (
        Convention(
            "gate_order", "gate order", "(reset, update, new)", "(update, reset, candidate)",
            effect=("Weights copied in torch's gate order without reordering swap Keras's reset and update gates: "
                    f"the output sequences differ by max |diff| 0.26-0.78, median 0.62 ({MEASURED}). Reorder the "
                    "blocks: Blocks(order=(1, 0, 2))."),
            torch=_torch("GRU"), tf=_keras_at_defaults("GRU", return_sequences=True), dims=_dims(), inputs=SEQUENCE,
            weights=unmoved, spec={"outputs": _outputs("GRU")},
        ),
        Convention(
            "reset_after", "reset_after", "reset gate applied after the recurrent matmul (no option)",
            "reset_after=True",
            effect=("Agree: torch's n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) is Keras's reset_after=True "
                    "candidate, the two biases the two rows of Keras's (2, 3*units) bias; the pair passes at both "
                    "frameworks' defaults: max |diff| of outputs and gradients under 2e-15 in float64 (conform run "
                    "--pairs atlas_gru_reset_after --checks forward,gradient --dtype float64)."),
            torch=_torch("GRU"), tf=_keras_at_defaults("GRU", return_sequences=True), dims=_dims(), inputs=SEQUENCE,
            agrees=True, checks=("forward", "gradient"), spec={"outputs": _outputs("GRU")},
        ),
        Convention(
            "reset_after_false", "reset_after", "reset gate applied after the recurrent matmul (no option)",
            "reset_after=False (Keras 2's original GRU, CuDNN-incompatible; the default is True)",
            effect=("Keras's reset_after=False applies the reset gate before the recurrent matmul, "
                    "tanh(W x + b + U (r * h)), and keeps one bias: with the gates reordered and the biases summed "
                    f"the sequences still differ by max |diff| 0.004-0.59, median 0.21 ({MEASURED}), from the first "
                    "step on: torch gates its recurrent bias b_hn by r, Keras adds it ungated."),
            torch=_torch("GRU"), tf=_keras_at_defaults("GRU", return_sequences=True, reset_after=False),
            dims=_dims(), inputs=SEQUENCE, weights=_map("GRU", False, True, GRU_GATES, gru_bias="summed"),
            spec={"outputs": _outputs("GRU")},
        ),
    )


RNN = Counterpart(
    name="rnn",
    torch=("RNN",),
    keras=("SimpleRNN", "Bidirectional"),
    to_keras=_to_keras("RNN"),
    to_torch=_to_torch("RNN"),
    weights=_weights("RNN"),
    settings=_settings("RNN"),
    accepts=_accepts,
    examples=_examples("RNN", "rnn"),
    conventions=(
        _batch_first("RNN", "0.27-1.3, median 0.52"),
        _return_sequences("RNN"),
        _two_biases("RNN", "0.17-0.77, median 0.43"),
    ),
)

LSTM = Counterpart(
    name="lstm",
    torch=("LSTM",),
    keras=("LSTM", "Bidirectional"),
    to_keras=_to_keras("LSTM"),
    to_torch=_to_torch("LSTM"),
    weights=_weights("LSTM"),
    settings=_settings("LSTM"),
    accepts=_accepts,
    examples=_examples("LSTM", "lstm"),
    conventions=(
        _batch_first("LSTM", "0.011-0.76, median 0.14"),
        _return_sequences("LSTM"),
        _two_biases("LSTM", "0.069-0.20, median 0.16"),
    ),
)

GRU = Counterpart(
    name="gru",
    torch=("GRU",),
    keras=("GRU", "Bidirectional"),
    to_keras=_to_keras("GRU"),
    to_torch=_to_torch("GRU"),
    weights=_weights("GRU"),
    settings=_settings("GRU"),
    accepts=_accepts,
    examples=_examples("GRU", "gru"),
    conventions=(
        _batch_first("GRU", "0.12-0.67, median 0.42"),
        _return_sequences("GRU"),
        *_gru_conventions(),
    ),
)

COUNTERPARTS = (RNN, LSTM, GRU)
