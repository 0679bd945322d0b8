"""The numpy bridge: exact round trips, and a weight map that does not fit is refused whole."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from harness import bridge, layouts
from harness.bridge import Entry, WeightMapError
from harness.spec import Link

NAMED = [layouts.IDENTITY, layouts.TRANSPOSE, layouts.CONV2D_OIHW_TO_HWIO, layouts.CONV_TRANSPOSE2D_IOHW_TO_HWOI,
         layouts.channels_last(3), layouts.channels_last(4), layouts.channels_last(5)]


@st.composite
def transform_and_array(draw):
    transform = draw(st.sampled_from(NAMED) | st.permutations(range(draw(st.integers(1, 5)))).map(
        lambda axes: layouts.Permute("random", tuple(axes))))
    rank = len(transform.axes) if isinstance(transform, layouts.Permute) else draw(st.integers(0, 4))
    shape = draw(hnp.array_shapes(min_dims=rank, max_dims=rank, min_side=1, max_side=4)) if rank else ()
    values = draw(hnp.arrays(np.float64, shape, elements=st.floats(allow_nan=True, allow_infinity=True)))
    return transform, values


@given(transform_and_array())
def test_round_trips_are_bit_exact(case):
    transform, x = case
    back = transform.inverse(transform.forward(x))
    assert back.shape == x.shape
    assert back.tobytes() == x.tobytes()
    assert transform.forward(x).shape == transform.shape(x.shape)


def test_named_layouts_move_the_axes_they_claim():
    oihw = np.zeros((8, 3, 5, 7))
    assert layouts.CONV2D_OIHW_TO_HWIO.forward(oihw).shape == (5, 7, 3, 8)
    iohw = np.zeros((3, 8, 2, 2))
    assert layouts.CONV_TRANSPOSE2D_IOHW_TO_HWOI.forward(iohw).shape == (2, 2, 8, 3)
    nchw = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    nhwc = layouts.channels_last(4).forward(nchw)
    assert nhwc.shape == (2, 4, 5, 3) and nhwc[1, 2, 3, 0] == nchw[1, 0, 2, 3]
    assert layouts.channels_last(2) is layouts.IDENTITY


def test_permute_refuses_wrong_rank_and_non_permutations():
    with pytest.raises(ValueError, match="permutes 2 axes but got an array of shape"):
        layouts.TRANSPOSE.forward(np.zeros(3))
    with pytest.raises(ValueError, match="must be a permutation"):
        layouts.Permute("bad", (0, 0))


class FakeTF:
    """A TF side reduced to what the bridge sees: attribute paths -> (key, entry)."""

    def __init__(self, variables: dict[str, Entry]):
        self.variables = variables

    def resolve(self, path):
        return (f"layer/{path}", self.variables[path]) if path in self.variables else None

    @property
    def entries(self):
        return {f"layer/{p}": e for p, e in self.variables.items()}


def plan(weight_map, torch_entries, tf_variables):
    fake = FakeTF(tf_variables)
    links = {k: Link(v) if isinstance(v, str) else v for k, v in weight_map.items()}
    return bridge.plan("p", links, torch_entries, fake.resolve, fake.entries)


def test_plan_maps_every_entry_and_wildcards_expand_indices():
    torch_entries = {"layers.0.weight": Entry((4, 3), True), "layers.1.weight": Entry((2, 4), True),
                     "stat": Entry((2,), False)}
    tf_vars = {"dense.0.kernel": Entry((3, 4), True), "dense.1.kernel": Entry((4, 2), True),
               "stat": Entry((2,), False)}
    slots = plan({"layers.*.weight": Link("dense.*.kernel", layouts.TRANSPOSE), "stat": "stat"}, torch_entries, tf_vars)
    assert [(s.canonical, s.tf_paths[0], s.trainable) for s in slots] == [
        ("layers.0.weight", "dense.0.kernel", True), ("layers.1.weight", "dense.1.kernel", True),
        ("stat", "stat", False)]
    canonical = {"layers.0.weight": np.arange(12.0).reshape(4, 3), "layers.1.weight": np.ones((2, 4)),
                 "stat": np.array([1.0, 2.0])}
    tf_arrays = bridge.to_tf(canonical, slots)
    assert tf_arrays["layer/dense.0.kernel"].shape == (3, 4)
    back = bridge.from_tf(tf_arrays, slots)
    assert all(np.array_equal(back[k], canonical[k]) for k in canonical)


def test_a_misfit_map_names_every_missing_extra_misshaped_and_trainability_problem():
    torch_entries = {"w": Entry((4, 3), True), "b": Entry((4,), True), "unmapped": Entry((1,), True),
                     "rm": Entry((4,), False), "gone": Entry((2,), True)}
    tf_vars = {"kernel": Entry((4, 3), True), "bias": Entry((5,), True), "rm": Entry((4,), True),
               "orphan": Entry((7,), True)}
    weight_map = {"w": Link("kernel", layouts.TRANSPOSE), "b": "bias", "rm": "rm", "gone": "nowhere",
                  "stale": "kernel"}
    with pytest.raises(WeightMapError) as info:
        plan(weight_map, torch_entries, tf_vars)
    problems = info.value.problems
    text = str(info.value)
    assert any("mis-shaped: torch 'w' has shape (4, 3), transpose gives (3, 4), but TF 'kernel' has shape (4, 3)" in p
               for p in problems)
    assert any("mis-shaped: torch 'b' has shape (4,)" in p and "(5,)" in p for p in problems)
    assert any("missing: torch parameter 'unmapped' shape (1,) has no entry" in p for p in problems)
    assert any("trainability: torch 'rm' is a buffer but TF 'rm' is trainable" in p for p in problems)
    assert any("missing: torch parameter 'gone' shape (2,) maps to TF 'nowhere'" in p for p in problems)
    assert any("extra: map entry 'stale'" in p for p in problems)
    assert any("extra: TF trainable variable 'layer/orphan' shape (7,)" in p for p in problems)
    assert f"({len(problems)} problems)" in text and "Fix the pair's `weights=` mapping" in text


def test_a_plain_tensor_that_became_a_trainable_tf_weight_is_an_extra_variable():
    """002's Demo: the torch side's plain tensor must not become a trainable TF weight."""
    with pytest.raises(WeightMapError, match="extra: TF trainable variable 'layer/not_learnable'"):
        plan({"learnable": "learnable"}, {"learnable": Entry((3, 3), True)},
             {"learnable": Entry((3, 3), True), "not_learnable": Entry((3, 3), True)})


def test_torch_only_buffers_are_skipped_but_torch_only_parameters_are_refused():
    from harness.spec import TorchOnly

    entries = {"w": Entry((2,), True), "count": Entry((), False)}
    slots = plan({"w": "w", "count": TorchOnly("no counter in Keras")}, entries, {"w": Entry((2,), True)})
    assert [s.canonical for s in slots] == ["w"]
    with pytest.raises(WeightMapError, match="torch-only: torch parameter 'w'"):
        plan({"w": TorchOnly("x"), "count": TorchOnly("y")}, entries, {})


def test_the_value_kind_travels_with_the_slot():
    slots = plan({"var": Link("var", init="positive")}, {"var": Entry((3,), False)}, {"var": Entry((3,), False)})
    assert slots[0].init == "positive"


# --- transforms for real ports: reshape, split, join, gate order; each bound to the drawn dims ---------------------


@st.composite
def port_transform_and_array(draw):
    """A random head split (after a transpose), packed split, or gate reorder, bound to random dims."""
    heads, head_dim, hidden = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    params = {"heads": heads, "head_dim": head_dim}
    kind = draw(st.sampled_from(["heads", "packed", "gates", "chain_of_gates"]))
    if kind == "heads":  # nn.Linear (heads*head_dim, hidden) -> EinsumDense (hidden, heads, head_dim)
        transform = layouts.TRANSPOSE.then(layouts.Reshape("split_heads", to=(-1, "heads", "head_dim")))
        shape = (heads * head_dim, hidden)
    elif kind == "packed":  # in_proj_weight (3*E, E) -> three (E, heads, head_dim) kernels
        each = layouts.TRANSPOSE.then(layouts.Reshape("heads", to=lambda p: (-1, p["heads"], p["head_dim"])))
        transform = layouts.Split("qkv", count=3, axis=0, each=each)
        shape = (3 * heads * head_dim, heads * head_dim)
    else:  # torch GRU gates (r, z, n) -> Keras (z, r, h), possibly after a transpose
        gates = layouts.Blocks("gru_gates", order=(1, 0, 2), axis=0)
        transform = gates if kind == "gates" else gates.then(layouts.TRANSPOSE)
        shape = (3 * hidden, head_dim)
    x = draw(hnp.arrays(np.float64, shape, elements=st.floats(allow_nan=True, allow_infinity=True)))
    return transform.bind(params, shape), x


@given(port_transform_and_array())
def test_port_transforms_invert_exactly_and_predict_their_shapes(case):
    transform, x = case
    made = transform.forward(x)
    shapes = [m.shape for m in made] if transform.parts > 1 else made.shape
    assert (list(transform.shape(x.shape)) if transform.parts > 1 else transform.shape(x.shape)) == shapes
    back = transform.inverse(made)
    assert back.shape == x.shape and back.tobytes() == x.tobytes()


def test_a_head_split_puts_each_head_where_keras_reads_it():
    weight = np.arange(6 * 2).reshape(6, 2)  # heads=3, head_dim=2, hidden=2: row h*2+d is head h, dim d
    kernel = layouts.TRANSPOSE.then(layouts.Reshape("split", to=(-1, "heads", "head_dim"))).bind(
        {"heads": 3, "head_dim": 2}, weight.shape).forward(weight)
    assert kernel.shape == (2, 3, 2) and kernel[1, 2, 0] == weight[2 * 2 + 0, 1]
    gates = layouts.Blocks("gru", order=(1, 0, 2)).forward(np.array([0, 0, 1, 1, 2, 2]))
    assert gates.tolist() == [1, 1, 0, 0, 2, 2]


def test_an_unbound_or_impossible_reshape_says_why():
    reshape = layouts.Reshape("split", to=(-1, "heads"))
    with pytest.raises(ValueError, match="must be bound"):
        reshape.shape((4, 2))
    with pytest.raises(ValueError, match="names dim 'heads' that the pair does not draw"):
        reshape.bind({}, (4, 2))
    with pytest.raises(ValueError, match=r"cannot reshape \(5,\)"):
        layouts.Reshape("r", to=(2, -1)).bind({}, (5,)).shape((5,))
    with pytest.raises(ValueError, match="cannot split axis 0"):
        layouts.Split("qkv", count=3).shape((4, 2))


def test_split_and_joined_entries_carry_values_and_gradients_both_ways():
    rng = np.random.default_rng(0)
    packed = {"in_proj": Link(("q", "k", "v"), layouts.Split("qkv", count=3, each=layouts.TRANSPOSE))}
    slots = plan(packed, {"in_proj": Entry((6, 2), True)}, {p: Entry((2, 2), True) for p in "qkv"})
    w = rng.standard_normal((6, 2))
    tf = bridge.to_tf({"in_proj": w}, slots)
    assert np.array_equal(tf["layer/k"], w[2:4].T)
    assert bridge.from_tf(tf, slots)["in_proj"].tobytes() == w.tobytes()
    # a gradient reaching only one of the three kernels: the other two parts are zeros
    only_q = bridge.from_tf({"layer/q": tf["layer/q"]}, slots)["in_proj"]
    assert np.array_equal(only_q[:2], w[:2]) and not only_q[2:].any()

    from harness.spec import Part

    joined = {f"{n}.weight": Link("qkv", layouts.TRANSPOSE, part=Part(i, of=3, axis=1)) for i, n in enumerate("qkv")}
    slots = plan(joined, {f"{n}.weight": Entry((2, 4), True) for n in "qkv"}, {"qkv": Entry((4, 6), True)})
    ws = {f"{n}.weight": rng.standard_normal((2, 4)) for n in "qkv"}
    fused = bridge.to_tf(ws, slots)["layer/qkv"]
    assert np.array_equal(fused[:, 2:4], ws["k.weight"].T)
    back = bridge.from_tf({"layer/qkv": fused}, slots)
    assert all(back[k].tobytes() == v.tobytes() for k, v in ws.items())


def test_a_split_with_the_wrong_number_of_paths_is_refused_when_declared():
    from harness.spec import SpecError

    with pytest.raises(SpecError, match="makes 3 part"):
        Link(("q", "k"), layouts.Split("qkv", count=3))
