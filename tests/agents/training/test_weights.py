"""Loss weights: class balance with asymmetric errors, and weighted retraining (paper III-E/F)."""

from __future__ import annotations

import numpy as np
import pytest

from agents.training.weights import class_weights, retraining_weights
from grasp_env.errors import InvalidObservation


def test_retraining_weights_match_the_formula_by_hand():
    rewards = np.array([1.0, 0.0, 1.0, 0.0])
    psi = np.array([0.8, 0.3, 0.1, 0.0])
    # 1 - |r - psi| = 0.8, 0.7, 0.1, 1.0; their sum is 2.6; N = 4
    expected = [4 * 0.8 / 2.6, 4 * 0.7 / 2.6, 4 * 0.1 / 2.6, 4 * 1.0 / 2.6]
    w = retraining_weights(rewards, psi)
    np.testing.assert_allclose(w, expected, rtol=1e-6)
    np.testing.assert_allclose(w, [1.2307692, 1.0769231, 0.15384616, 1.5384616], rtol=1e-6)
    assert w.sum() == pytest.approx(4.0)


def test_retraining_weights_all_wrong_falls_back_to_ones():
    np.testing.assert_array_equal(retraining_weights([1, 0], [0.0, 1.0]), [1.0, 1.0])
    assert retraining_weights([], []).shape == (0,)


def test_retraining_weights_refuse_mismatched_or_out_of_range():
    with pytest.raises(InvalidObservation, match=r"shape \(2,\), got \(3,\)"):
        retraining_weights([1, 0], [0.1, 0.2, 0.3])
    with pytest.raises(InvalidObservation, match=r"\[0, 1\]"):
        retraining_weights([1, 0], [0.1, 1.2])


def test_class_weights_balance_to_a_mean_reward_of_one_half():
    rewards = np.array([1, 0, 0, 0, 0, 0, 0, 0, 1, 0], np.float32)  # p = 0.2
    w = class_weights(rewards, false_positive_factor=1.0)
    assert np.average(rewards, weights=w) == pytest.approx(0.5)
    assert w.mean() == pytest.approx(1.0)


def test_class_weights_count_failures_more():
    rewards = np.array([1, 0, 0, 0], np.float32)  # p = 0.25
    w = class_weights(rewards, false_positive_factor=2.0)
    # success 0.5 / 0.25 = 2, failure 2 * 0.5 / 0.75 = 4/3, then mean 1
    raw = np.array([2.0, 4 / 3, 4 / 3, 4 / 3])
    np.testing.assert_allclose(w, raw / raw.mean(), rtol=1e-6)
    assert w[1] / w[0] == pytest.approx(2.0 * 0.25 / 0.75)


def test_class_weights_single_class_and_empty():
    np.testing.assert_array_equal(class_weights(np.zeros(5)), np.ones(5))
    np.testing.assert_array_equal(class_weights(np.ones(3), 3.0), np.ones(3))
    assert class_weights(np.zeros(0)).shape == (0,)
    with pytest.raises(InvalidObservation, match="false_positive_factor > 0, got 0"):
        class_weights(np.ones(2), 0.0)
