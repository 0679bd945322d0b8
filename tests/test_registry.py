"""The registry: built-in and user pairs through one mechanism, with helpful refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import registry
from harness.spec import KnownDivergence, LayerPair, Origin, SpecError, Tensor, Tolerance

BROKEN = Path(__file__).with_name("broken_pairs.py")


def test_a_pair_file_is_loaded_and_its_pairs_remember_their_source():
    catalogue = registry.load([BROKEN], builtin=False)
    assert "correct_linear" in catalogue.pairs
    assert catalogue.sources["correct_linear"] == str(BROKEN)


def test_unknown_names_get_close_matches():
    catalogue = registry.load([BROKEN], builtin=False)
    with pytest.raises(registry.UnknownPairError, match="did you mean missing_transpose"):
        catalogue.select(["missing_transpos"])


def test_a_name_registered_twice_is_refused(tmp_path):
    copy = tmp_path / "again.py"
    copy.write_text(BROKEN.read_text())
    with pytest.raises(SpecError, match="registered twice"):
        registry.load([BROKEN, copy], builtin=False)


def test_a_missing_pair_file_says_so():
    with pytest.raises(FileNotFoundError, match="no such file"):
        registry.load(["nope.py"], builtin=False)


def _pair(**kw):
    base = dict(name="p", origin=Origin("s.txt", "P"), torch=id, tf=id, dims={"n": 1},
                inputs=(Tensor("x", ("n",)),))
    return LayerPair(**{**base, **kw})


@pytest.mark.parametrize("kw, message", [
    ({"name": "Bad-Name"}, "snake_case"),
    ({"inputs": ()}, "declares no inputs"),
    ({"checks": ("forward", "speed")}, "unknown checks"),
    ({"call_args": ("flag",)}, "not declared in dims"),
])
def test_specs_are_validated_when_declared(kw, message):
    with pytest.raises(SpecError, match=message):
        _pair(**kw)


def test_overrides_and_divergences_need_reasons():
    with pytest.raises(SpecError, match="needs a reason"):
        Tolerance(1e-3, 1e-3, reason=" ")
    with pytest.raises(SpecError, match="needs a reason"):
        KnownDivergence("forward", reason="")
    with pytest.raises(SpecError, match="layout must be one of"):
        Tensor("x", ("n",), layout="NHWC")
