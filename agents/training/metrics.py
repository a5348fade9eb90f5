"""Test-set figures of a value model: loss, accuracy, precision, recall and F1 (paper Fig. 6).

A prediction counts as a success at probability >= 0.5; a reward counts as a success at
r >= 0.5. Ratios with a zero denominator (no predicted or no actual success) are 0, never NaN.
"""

from __future__ import annotations

import numpy as np


def binary_cross_entropy(probabilities: np.ndarray, rewards: np.ndarray) -> float:
    """Mean cross entropy of ``rewards`` under ``probabilities``; 0 for no attempt."""
    p = np.clip(np.asarray(probabilities, np.float64), 1e-7, 1 - 1e-7)
    r = np.asarray(rewards, np.float64)
    if r.size == 0:
        return 0.0
    return float(-(r * np.log(p) + (1 - r) * np.log(1 - p)).mean())


def classification_metrics(probabilities: np.ndarray, rewards: np.ndarray) -> dict[str, float]:
    """Loss, accuracy, precision, recall and F1 of predictions against rewards.

    Returns:
        {"loss", "accuracy", "precision", "recall", "f1", "count"} as floats.
    """
    p = np.asarray(probabilities, np.float64).ravel()
    r = np.asarray(rewards, np.float64).ravel() >= 0.5
    predicted = p >= 0.5
    tp = float(np.sum(predicted & r))
    fp = float(np.sum(predicted & ~r))
    fn = float(np.sum(~predicted & r))
    n = float(p.size)
    precision = tp / (tp + fp) if tp + fp > 0 else 0.0
    recall = tp / (tp + fn) if tp + fn > 0 else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {
        "loss": binary_cross_entropy(p, r),
        "accuracy": float(np.mean(predicted == r)) if n else 0.0,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "count": n,
    }


__all__ = ["binary_cross_entropy", "classification_metrics"]
