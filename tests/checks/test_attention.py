"""What the hidden checks of ``attention`` must do beyond the generic suite.

The reference, the stubs, the table's mistakes and alternatives
(``autograder/cases/attention.py``) are tried by ``test_every_assignment.py``; here:
the learning check's data and margins, and that no message reveals the expected
weights.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.checks import attention as checks
from autograder.scoring import run_checks
from autograder.submission import LocalSubmission
from tests.harness import (
    GRADER_FAULT,
    SyntheticTraining,
    assert_learning_outcome,
    mistaken,
    reference_training_run,
    score,
    training_requests,
)

ASSIGNMENT = "attention"
LEARNING_CHECK = "test_build_transformer_classifier_learns_token_order"
METRIC = "attention_order_task_accuracy"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_learning_run_reports_its_accuracy_and_gets_no_test_labels(seed):
    """The training receives one-hot training targets and the test inputs only."""
    _, submission = reference_training_run(ASSIGNMENT, seed)
    metric = submission.metrics[METRIC]
    assert metric["passed"] and metric["value"] >= metric["threshold"]
    (training,) = training_requests(submission)
    x_train, y_train, x_test = training["x_train"], training["y_train"], training["x_test"]
    assert np.asarray(y_train).shape == (len(x_train), 2)  # one-hot training targets
    assert len(x_test) != len(x_train)


@pytest.mark.slow
def test_classifier_without_positions_fails_the_learning_check():
    namespace = mistaken(ASSIGNMENT, "classifier_without_position_embedding")
    submission = LocalSubmission(namespace, seed=4)
    (result,) = run_checks(ASSIGNMENT, submission, lambda name: name == LEARNING_CHECK)
    assert not result.passed
    assert "position embedding" in result.output and "counts tokens" in result.output
    assert GRADER_FAULT not in result.output
    # Order-blind: near chance (0.5), far under the threshold.
    assert submission.metrics[METRIC]["value"] < 0.6


def _formats(value: float) -> list[str]:
    return [f"{value:{spec}}" for spec in (".6g", ".5g", ".4g")] + [repr(value)]


def test_messages_do_not_reveal_the_expected_weights():
    seen: list = []
    namespace = mistaken(ASSIGNMENT, "attention_without_scaling")
    unscaled = namespace["scaled_dot_product_attention"]

    def spy(q, k, v, mask=None):
        seen.append((np.array(q), np.array(k)))
        return unscaled(q, k, v, mask)

    namespace["scaled_dot_product_attention"] = spy
    results = score(ASSIGNMENT, namespace, seed=11, only="scaled_dot_product_attention")
    output = results["test_scaled_dot_product_attention_scales_scores_by_sqrt_dk"].output
    assert "not correct" in output
    q, k = seen[-1]
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    for value in weights.ravel()[:20]:
        for text in _formats(float(value)):
            assert text not in output, (text, output)


# ---------------------------------------------------------------------------
# Partial credit: a model that does not learn keeps at most half of the classifier's.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("share", "fraction"), [(0.3, 0.0), (0.5, 0.0), (0.65, 0.5), (0.8, 1.0)])
def test_learning_check_gives_partial_credit_from_chance(monkeypatch, share, fraction):
    """On made-up predictions (no Keras): full points from 80%, none at chance (50%)."""
    tasks: list = []
    original = checks._order_task
    monkeypatch.setattr(checks, "_order_task", lambda *a: tasks.append(original(*a)) or tasks[-1])

    def answer(payload):
        labels = tasks[-1][1]
        right = np.arange(len(labels)) < round(share * len(labels))
        rows = np.eye(2)[np.where(right, labels, 1 - labels)]
        return np.full_like(rows, 0.5), rows

    assert_learning_outcome(
        checks.test_build_transformer_classifier_learns_token_order, SyntheticTraining(answer),
        fraction, f"classified {share:.1%} of 1000 held-out sequences", "at least 80%",
        "at most 50% (chance",
    )  # fmt: skip
