"""What each framework does in training, found out by test: the facts the catalogue's declarations rest on.

These tests call the frameworks directly, not through the harness, so that a declared
divergence (``RUNNING_VARIANCE``) or a choice (the train-step learning rate) cites a measured
rule rather than a belief. If a framework release changes a rule, its test here fails first.
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.frameworks import keras, tf, torch

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.mark.parametrize("n", [2, 5, 64])
def test_torch_running_var_takes_the_unbiased_and_keras_the_biased_batch_variance(n):
    t, k = torch(), keras()
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, 3))
    batch_var = x.var(axis=0)  # biased: / n
    unbiased = x.var(axis=0, ddof=1)  # / (n - 1)
    momentum = 0.1  # torch's meaning: the weight of the new batch

    th = t.nn.BatchNorm1d(3, momentum=momentum, dtype=t.float64).train()
    th(t.tensor(x))
    kb = k.layers.BatchNormalization(momentum=1 - momentum, dtype="float64")
    kb(tf().constant(x), training=True)

    np.testing.assert_allclose(th.running_var.numpy(), (1 - momentum) * 1.0 + momentum * unbiased, rtol=1e-12)
    np.testing.assert_allclose(kb.moving_variance.numpy(), (1 - momentum) * 1.0 + momentum * batch_var, rtol=1e-12)
    # the size of the declared divergence after one call: momentum x biased variance / (n - 1)
    np.testing.assert_allclose(th.running_var.numpy() - kb.moving_variance.numpy(), momentum * batch_var / (n - 1),
                               rtol=1e-9)
    # and the running means follow the same rule on both sides
    np.testing.assert_allclose(th.running_mean.numpy(), kb.moving_mean.numpy(), rtol=1e-12)


def test_both_frameworks_normalise_a_training_batch_by_its_biased_variance():
    t, k = torch(), keras()
    x = np.random.default_rng(0).standard_normal((4, 2))
    th = t.nn.BatchNorm1d(2, eps=1e-3, dtype=t.float64).train()
    kb = k.layers.BatchNormalization(epsilon=1e-3, dtype="float64")
    expected = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3)
    np.testing.assert_allclose(th(t.tensor(x)).detach().numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(kb(tf().constant(x), training=True)), expected, rtol=1e-12)


def test_torch_batch_norm_refuses_one_value_per_channel_in_training_where_keras_returns_beta():
    t, k = torch(), keras()
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        t.nn.BatchNorm1d(2).train()(t.zeros(1, 2))
    beta = np.asarray(k.layers.BatchNormalization()(tf().ones((1, 2)), training=True))
    np.testing.assert_array_equal(beta, np.zeros((1, 2), dtype=np.float32))


def test_keras_sgd_rounds_the_learning_rate_to_float32_even_for_float64_weights():
    """Why the catalogue trains at lr = 1/8: 0.1 is not the same number in the two optimisers."""
    k = keras()
    variable = k.Variable(np.array([1.0]), dtype="float64")
    k.optimizers.SGD(learning_rate=0.1).apply_gradients([(tf().constant([1.0], dtype="float64"), variable)])
    assert variable.numpy()[0] == 1.0 - float(np.float32(0.1)) != 1.0 - 0.1

    exact = k.Variable(np.array([1.0]), dtype="float64")
    k.optimizers.SGD(learning_rate=0.125).apply_gradients([(tf().constant([1.0], dtype="float64"), exact)])
    assert exact.numpy()[0] == 1.0 - 0.125


def test_tf_batch_normalization_folds_the_mean_into_the_offset_and_loses_float32_digits():
    """What the catalogue's batch-norm precision records show: a tight batch around 1 normalised with eps 1e-5."""
    t = torch()
    x = np.array([0.9999, 1.0001], np.float32)
    mean, var, eps = x.mean(), x.var(), 1e-5
    exact = (x.astype(np.float64) - mean) / np.sqrt(np.float64(var) + eps)
    tf_out = tf().nn.batch_normalization(tf().constant(x), tf().constant(mean), tf().constant(var), None, None,
                                         eps).numpy()
    torch_out = t.nn.functional.batch_norm(t.tensor(x)[:, None], t.tensor([mean]), t.tensor([var]), eps=eps)
    assert np.abs(torch_out.numpy().ravel() / exact - 1).max() < 1e-6  # (x - mean) * s: a few ulps
    assert np.abs(tf_out / exact - 1).max() > 1e-5  # x * s + (-mean * s): the large terms cancel
