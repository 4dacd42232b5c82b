"""What the hidden checks of ``backprop`` must do beyond the generic suite.

The reference, the stubs, the table's mistakes and alternatives
(``autograder/cases/backprop.py``) are tried by ``test_every_assignment.py``; here:
that no message reveals the expected loss.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder import cases, registry
from tests.harness import (
    reference,
    score,
)

ASSIGNMENT = "backprop"
FUNCTIONS = registry.assignment(ASSIGNMENT).functions
MISTAKES = [m.id for m in cases.load(ASSIGNMENT).mistakes]
#: The seed of the mistakes' runs, as in test_every_assignment.py.
SEED = 7

# Plain sigmoid formulas overflow on purpose in some of the table's mistakes.
pytestmark = pytest.mark.filterwarnings(
    "ignore:overflow encountered:RuntimeWarning", "ignore:invalid value encountered:RuntimeWarning"
)


def _formats(value: float) -> list[str]:
    # The messages print numbers with 6 significant digits; 5 still pins the value down.
    return [f"{value:{spec}}" for spec in (".6g", ".5g")] + [repr(value)]


def test_messages_do_not_reveal_the_expected_loss():
    seen: list = []
    spy = """
def mse_loss(y_true, y_pred):
    _seen.append((np.array(y_true, dtype=float), np.array(y_pred, dtype=float)))
    return float(np.mean(np.sum((np.asarray(y_pred) - np.asarray(y_true)) ** 2, axis=1)))
"""
    namespace = reference(ASSIGNMENT)
    namespace["_seen"] = seen
    exec(spy, namespace)
    check = "test_mse_loss_averages_over_all_entries"
    output = score(ASSIGNMENT, namespace, seed=11, only={check}.__contains__)[check].output
    assert seen and "not correct" in output
    y_true, y_pred = seen[0]
    expected = float(np.mean((y_pred - y_true) ** 2))
    for text in _formats(expected):
        assert text not in output, (text, output)


def test_messages_do_not_reveal_the_expected_first_loss():
    seen: list = []
    spy = """
def train(X, Y, n_hidden, learning_rate, n_epochs, seed=0):
    _seen.append((np.array(X), np.array(Y), n_hidden, seed))
    params = init_params(X.shape[1], n_hidden, Y.shape[1], seed=seed + 1)
    losses = np.zeros(n_epochs)
    for epoch in range(n_epochs):
        Y_hat, cache = forward(X, params)
        losses[epoch] = mse_loss(Y, Y_hat)
        grads = backward(X, Y, params, cache)
        params = {k: params[k] - learning_rate * grads[k] for k in params}
    return params, losses
"""
    namespace = reference(ASSIGNMENT)
    namespace["_seen"] = seen
    exec(spy, namespace)
    check = "test_train_first_loss_is_initial_loss"  # the only check run: seen[0] is its call
    output = score(ASSIGNMENT, namespace, seed=13, only={check}.__contains__)[check].output
    assert seen and "not correct" in output
    X, Y, n_hidden, seed = seen[0]
    start = namespace["init_params"](X.shape[1], n_hidden, Y.shape[1], seed=seed)
    expected = namespace["mse_loss"](Y, namespace["forward"](X, start)[0])
    for text in _formats(expected):
        assert text not in output, (text, output)
