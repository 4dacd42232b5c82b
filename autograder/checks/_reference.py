"""The grader's own versions of the functions several assignments share.

Every check module that needs a sigmoid or a softmax imports it from here, so the
grader's answer to one formula is written once.

Example:
    >>> sigmoid(np.array([-800.0, 0.0, 800.0]))
    array([0. , 0.5, 1. ])
    >>> softmax(np.array([[0.0, 0.0]]))
    array([[0.5, 0.5]])
"""

from __future__ import annotations

import numpy as np


def sigmoid(z) -> np.ndarray:
    """``1 / (1 + exp(-z))``, written so that no ``exp`` overflows (float64, any shape)."""
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax(z, axis: int = -1) -> np.ndarray:
    """``exp(z) / sum(exp(z))`` along ``axis``, shifted by the maximum so nothing overflows."""
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
