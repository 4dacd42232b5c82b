"""What holds for the hidden checks of ``rbm`` only (the rest: test_every_assignment.py)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.checks.test_every_assignment import mistake_results
from tests.harness import reference, score

ASSIGNMENT = "rbm"

# Overflowing softplus and sigmoid formulas are among the table's mistakes.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _formats(value: float) -> list[str]:
    return [f"{value:{spec}}" for spec in (".6g", ".5g", ".4g", ".3g")] + [repr(value)]


def test_messages_do_not_reveal_the_expected_free_energy():
    seen: list = []
    spy = """
def free_energy(v, W, b_v, b_h):
    _seen.append((np.array(v), np.array(W), np.array(b_v), np.array(b_h)))
    return -np.logaddexp(0, v @ W + b_h).sum(axis=1)
"""
    namespace = reference(ASSIGNMENT)
    namespace["_seen"] = seen
    exec(spy, namespace)
    output = score(ASSIGNMENT, namespace, seed=11, only="free_energy")["test_free_energy_values"]
    output = output.output
    assert seen and "not correct" in output
    v, W, b_v, b_h = seen[0]
    expected = -v @ b_v - np.logaddexp(0, v @ W + b_h).sum(axis=1)
    for value in expected:
        for text in _formats(float(value)):
            assert text not in output, (text, output)


def test_messages_do_not_reveal_the_expected_update():
    """The CD messages give distances in standard errors, never an expected update."""
    results = mistake_results(ASSIGNMENT, "contrastive_divergence_sign_flipped")
    output = results["test_contrastive_divergence_expected_cd1_update"].output
    assert "standard errors" in output
    numbers = re.findall(r"-?\d+\.\d+", output)
    # Only the learning rate of the call, the distance and the allowed distance are printed.
    assert len(numbers) <= 3, numbers
