"""Per-attempt loss weights: class balance, asymmetric errors, and weighted retraining.

Paper III-F: the dataset should look as if its mean reward were 0.5, and a false positive (a
predicted success that fails) is a real grasp error, worse than a missed chance, so the loss
counts failures more. :func:`class_weights` gives each attempt

    success: 0.5 / p,    failure: false_positive_factor * 0.5 / (1 - p),

with p the mean reward, then scales all to a mean weight of 1. With one class only (p = 0 or
p = 1) there is nothing to balance and every weight is 1.

Paper III-E, weighted retraining: after a first training with w_i = 1, the network predicts
psi_i for every training attempt and the weights become

    w_i = N (1 - |r_i - psi_i|) / sum_j (1 - |r_j - psi_j|),

so attempts the network explains get more weight and likely mismeasured ones less
(:func:`retraining_weights`). The loss weight of an attempt is the product of the two.
"""

from __future__ import annotations

import numpy as np

from grasp_env.errors import InvalidObservation


def class_weights(rewards: np.ndarray, false_positive_factor: float = 1.0) -> np.ndarray:
    """Balance to a mean reward of 0.5 and count failures ``false_positive_factor`` times.

    Args:
        rewards: (N,) rewards in [0, 1]; r >= 0.5 counts as a success.
        false_positive_factor: extra weight of failed attempts relative to successes (> 0).

    Returns:
        float32 (N,) weights with mean 1 (all ones with a single class or no attempt).
    """
    if not false_positive_factor > 0:
        raise InvalidObservation(f"expected false_positive_factor > 0, got {false_positive_factor}")
    rewards = np.asarray(rewards, dtype=np.float64)
    n = rewards.size
    if n == 0:
        return np.zeros(0, np.float32)
    success = rewards >= 0.5
    p = success.mean()
    if p in (0.0, 1.0):
        return np.ones(n, np.float32)
    w = np.where(success, 0.5 / p, false_positive_factor * 0.5 / (1.0 - p))
    return (w / w.mean()).astype(np.float32)


def retraining_weights(rewards: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """Weighted retraining's w_i = N (1 - |r_i - psi_i|) / sum_j (1 - |r_j - psi_j|).

    Args:
        rewards: (N,) measured rewards r_i.
        predictions: (N,) the first network's predicted success probability psi_i.

    Returns:
        float32 (N,) weights summing to N; all ones if every attempt is predicted exactly
        wrong (the sum is 0).

    Raises:
        InvalidObservation: the arrays differ in shape or a prediction is outside [0, 1].
    """
    r = np.asarray(rewards, dtype=np.float64).ravel()
    psi = np.asarray(predictions, dtype=np.float64).ravel()
    if r.shape != psi.shape:
        raise InvalidObservation(
            f"expected predictions of the rewards' shape {r.shape}, got {psi.shape}"
        )
    if psi.size and (not np.isfinite(psi).all() or psi.min() < 0 or psi.max() > 1):
        raise InvalidObservation("expected predictions in [0, 1], got values outside it")
    agreement = 1.0 - np.abs(r - psi)
    total = agreement.sum()
    if r.size == 0:
        return np.zeros(0, np.float32)
    if total <= 0:
        return np.ones(r.size, np.float32)
    return (r.size * agreement / total).astype(np.float32)


__all__ = ["class_weights", "retraining_weights"]
