"""The spec's rules for the checks and modes beyond one inference forward."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import strategies as st

from harness.coverage import minimal_case
from harness.spec import Dropout, KnownDivergence, SpecError, TrainStep
from tests import broken_pairs as bp

STEP = TrainStep(torch_loss=lambda: None, tf_loss=lambda: None)


def test_declaring_dropout_or_a_train_step_adds_its_check():
    pair = replace(bp.correct_linear, dropout=Dropout(0.5), train_step=STEP)
    assert {"statistics", "train_step"} <= set(pair.checks)
    assert "serialization" in bp.correct_linear.checks and "train_step" not in bp.correct_linear.checks


def test_a_check_without_its_declaration_or_a_stray_train_dim_is_refused_at_declaration():
    with pytest.raises(SpecError, match="need the pair's `dropout`"):
        replace(bp.correct_linear, checks=("statistics",))
    with pytest.raises(SpecError, match="train_dims"):
        replace(bp.correct_linear, train_dims={"height": st.just(2)})
    with pytest.raises(SpecError, match="modes"):
        KnownDivergence("state", "x", modes=("training",))


def test_each_check_runs_in_the_modes_where_its_question_exists():
    pair = replace(bp.correct_linear, modes=("eval", "train", "graph"), train_step=STEP)
    assert pair.modes_for("forward") == ("eval", "train", "graph")
    assert pair.modes_for("serialization") == ("eval",)
    assert pair.modes_for("train_step") == ("train",)
    stochastic = replace(pair, dropout=Dropout(0.5))
    assert stochastic.modes_for("gradient") == ("eval", "graph")  # training is the statistics check's
    assert stochastic.modes_for("statistics") == ("train",)


def test_a_declared_divergence_covers_only_its_tensors_and_modes():
    declared = KnownDivergence("state", "variance rule", modes=("train",), tensors=("state *running_var*",))
    assert declared.covers("state bn.running_var (call 2)")
    assert not declared.covers("state bn.running_mean (call 2)")
    pair = replace(bp.correct_linear, known_divergences=(declared,))
    assert pair.declared("state", "float32", "train") == (declared,)
    assert pair.declared("state", "float32", "eval") == ()


def test_training_mode_draws_from_train_dims():
    pair = replace(bp.correct_linear, train_dims={"batch": st.integers(2, 3)})
    assert minimal_case(pair, "train").params["batch"] == 2
    assert minimal_case(pair, "eval").params["batch"] == 1
