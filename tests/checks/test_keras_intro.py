"""What the hidden checks of ``keras_intro`` must do beyond the generic suite.

The reference, the stubs, the table's mistakes and alternatives
(``autograder/cases/keras_intro.py``) are tried by ``test_every_assignment.py``; here:
that the grader's data are the notebook's, that the normalize problem separates every
wrong statistic, the learning checks' data and margins, what a builder that does not learn is told, and that no message reveals the
expected z-scores or one-hot rows.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder import cases, registry
from autograder.checks import keras_intro as checks
from autograder.scoring import run_checks
from autograder.submission import LocalSubmission
from tests.harness import (
    FLOAT_RUN,
    GRADER_FAULT,
    ROOT,
    SyntheticTraining,
    assert_learning_outcome,
    learning_outcome,
    mistaken,
    reference,
    reference_training_run,
    score,
    training_requests,
)

ASSIGNMENT = "keras_intro"
SOURCE = ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
METRICS = {
    "build_regression_model": "keras_intro_regression_mse_ratio_to_mean",
    "build_classification_model": "keras_intro_classification_accuracy",
}

# A mistake drops the target column with inplace=True, which pandas 3.1 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")


def _fast_checks_of(function: str):
    """Accepts the checks of ``function`` that train no model."""
    book = registry.assignment(ASSIGNMENT)
    return {c.name for c in book.checks_of(function) if not c.trains}.__contains__


# ---------------------------------------------------------------------------
# The grader's data are the notebook's.
# ---------------------------------------------------------------------------


def test_grader_reads_the_data_sets_of_scikit_learn():
    from sklearn.datasets import load_diabetes, load_wine

    diabetes = load_diabetes(scaled=False)
    features, target = checks._diabetes()
    assert np.array_equal(features, diabetes.data) and np.array_equal(target, diabetes.target)
    wine = load_wine()
    features, labels = checks._wine()
    assert np.array_equal(features, wine.data) and np.array_equal(labels, wine.target)
    assert checks._held_out(442).sum() == 88 and checks._held_out(178).sum() == 35


def test_notebook_keeps_back_the_rows_the_grader_holds_out():
    """The notebook's rule, written out in its data cells, leaves out exactly the held-out rows."""
    import nbformat

    notebook = nbformat.read(SOURCE, as_version=4)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert code.count("keep = np.arange(len(diabetes)) % 5 != 4") == 1
    assert code.count("keep = np.arange(len(wine)) % 5 != 4") == 1
    for n_rows in (442, 178):
        keep = np.arange(n_rows) % 5 != 4
        assert np.array_equal(keep, ~checks._held_out(n_rows))


def test_normalize_problem_separates_every_wrong_statistic():
    """The test rows' own statistics, and the combined ones, give far different z-scores."""
    for seed in range(20):
        _, train, test = checks._normalize_problem(np.random.default_rng(seed))
        right = [checks._zscores(train, test, ddof)[1] for ddof in (0, 1)]
        combined = np.concatenate([train, test])
        wrong = [checks._zscores(test, test, 0)[1], checks._zscores(combined, test, 0)[1]]
        for w in wrong:
            assert all(np.max(np.abs(w - r)) > 100 * checks.Z_ATOL for r in right)
        # The two standard deviations differ by far more than the tolerance, too.
        assert np.max(np.abs(right[0] - right[1])) > 100 * checks.Z_ATOL


# ---------------------------------------------------------------------------
# The table's mistakes on every check of their function, not only the one meant for them.
# ---------------------------------------------------------------------------

SLOW_MISTAKES = [m.id for m in cases.load(ASSIGNMENT).mistakes if m.slow]


def test_task_errors_name_the_students_function():
    """A builder that raises is reported under its own name, with what the grader was doing."""
    broken = """
def build_regression_model(n_features):
    return keras.Sequential([keras.layers.Dense(1)]).compile(loss="mse")
"""
    results = score(
        ASSIGNMENT,
        reference(ASSIGNMENT, broken),
        seed=2,
        only=_fast_checks_of("build_regression_model"),
    )
    assert results
    for result in results.values():
        assert not result.passed
        assert "build_regression_model" in result.output and GRADER_FAULT not in result.output
        assert "keras_models" not in result.output and "keras_intro." not in result.output


def test_every_function_has_three_alternatives():
    """The table holds three correct versions of each function at least (the builders' slow)."""
    table = cases.load(ASSIGNMENT)
    graded = registry.assignment(ASSIGNMENT).functions
    for function in graded:
        written = [a for a in table.alternatives if function in a.functions(graded)]
        assert len(written) >= 3, function
        if function.startswith("build_"):
            assert all(a.slow for a in written), function


# ---------------------------------------------------------------------------
# The learning checks (slow): margins, what the training receives, builders that do not learn.
# ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_passes_the_learning_checks_by_a_margin(seed):
    _, submission = reference_training_run(ASSIGNMENT, seed)
    ratio = submission.metrics[METRICS["build_regression_model"]]
    assert ratio["passed"] and ratio["value"] < ratio["threshold"] - 0.1
    accuracy = submission.metrics[METRICS["build_classification_model"]]
    assert accuracy["passed"] and accuracy["value"] > accuracy["threshold"] + 0.05


@pytest.mark.slow
def test_learning_tasks_get_no_held_out_targets():
    """Each training task gets training data and held-out features only, perturbed."""
    _, submission = reference_training_run(ASSIGNMENT, 0)
    trainings = training_requests(submission)
    assert len(trainings) == 2
    builders = [args[0] for _, args, _ in submission.tasks]
    public = {
        "build_regression_model": checks._diabetes()[0],
        "build_classification_model": checks._wine()[0],
    }
    for builder, training in zip(builders, trainings, strict=True):
        x_train, y_train, x_test = training["x_train"], training["y_train"], training["x_test"]
        assert len(y_train) == len(x_train) and len(x_test) != len(x_train)
        held = checks._held_out(len(public[builder]))
        assert len(x_train) == int((~held).sum())
        copies = len(x_test) // int(held.sum())
        assert copies >= 3 and len(x_test) == copies * int(held.sum())
        # The held-out rows arrive standardised with noise: none equals a clean row.
        features = public[builder]
        mean, std = features[~held].mean(axis=0), features[~held].std(axis=0)
        clean = (features[held] - mean) / std
        distances = np.abs(x_test[:, None, :] - clean[None, :, :]).max(axis=2)
        assert distances.min() > 1e-3


@pytest.mark.slow
@pytest.mark.parametrize("mistake_id", SLOW_MISTAKES)
def test_builder_that_does_not_learn_is_told_so_without_numbers_and_misses_the_metric(mistake_id):
    """The builders that do not learn (plain SGD, learning rate 1e-5): the message gives no
    array, and the learning check's metric records the miss."""
    mistake = cases.load(ASSIGNMENT).mistake(mistake_id)
    submission = LocalSubmission(mistaken(ASSIGNMENT, mistake_id), seed=7)
    (result,) = run_checks(ASSIGNMENT, submission, lambda name: name == mistake.check)
    assert not result.passed
    assert mistake.words in result.output and GRADER_FAULT not in result.output, result.output
    assert not FLOAT_RUN.search(result.output), result.output
    (metric,) = submission.metrics.values()
    assert not metric["passed"]


# ---------------------------------------------------------------------------
# Messages reveal no hidden values.
# ---------------------------------------------------------------------------


def _formats(value: float) -> list[str]:
    return [f"{value:{spec}}" for spec in (".6g", ".4g", ".3g", ".2f")] + [repr(value)]


def test_messages_do_not_reveal_the_expected_z_scores():
    """A normalize that uses the test set's statistics: the right test_n is not in the message."""
    seen: list = []
    spy = """
def normalize(train, test):
    _seen.append((train.to_numpy().copy(), test.to_numpy().copy()))
    return (train - train.mean()) / train.std(), (test - test.mean()) / test.std()
"""
    namespace = reference(ASSIGNMENT, spy)
    namespace["_seen"] = seen
    results = score(ASSIGNMENT, namespace, seed=11, only="normalize")
    output = results["test_normalize_uses_training_statistics_for_test"].output
    assert "not the test rows' z-scores" in output
    train, test = seen[-1]
    expected = checks._zscores(train, test, 1)[1]
    for value in expected.ravel()[:30]:
        if abs(value) < 0.01:
            continue  # digits like 0.00 are too common to mean anything
        for text in _formats(float(value)):
            assert text not in output, (text, output)


def test_messages_do_not_reveal_the_one_hot_rows():
    """A to_one_hot off by one: the message names the mistake, not the expected matrix."""
    namespace = mistaken(ASSIGNMENT, "one_hot_labels_counted_from_1")
    results = score(ASSIGNMENT, namespace, seed=12, only="to_one_hot")
    output = results["test_to_one_hot_rows_are_one_hot"].output
    assert "one column to the left" in output
    assert "[[" not in output and "0., 1." not in output and "1., 0." not in output


# ---------------------------------------------------------------------------
# Partial credit: a model that does not learn keeps at most half of a builder's points.
# ---------------------------------------------------------------------------


def _captured(monkeypatch, name: str) -> dict:
    """Keep what the check's data function ``name`` returns, for a made-up judge to answer."""
    seen: dict = {}
    original = getattr(checks, name)
    monkeypatch.setattr(checks, name, lambda rng: seen.setdefault("data", original(rng)))
    return seen


@pytest.mark.parametrize(
    ("ratio", "fraction"),
    [(1.3, 0.0), (1.0, 0.0), (0.95, 0.25), (0.9, 0.5), (0.8, 1.0), (0.5, 1.0)],
)
def test_regression_check_gives_partial_credit_from_the_mean(monkeypatch, ratio, fraction):
    """On made-up predictions (no Keras): full points at 0.8 of the mean's error, none at 1."""
    seen = _captured(monkeypatch, "_regression_data")

    def answer(payload):  # c * y has (1 - c)^2 times the error of predicting 0, the mean
        y_test = seen["data"][3]
        return np.full((len(y_test), 1), 2.0), ((1 - np.sqrt(ratio)) * y_test)[:, None]

    assert_learning_outcome(
        checks.test_build_regression_model_beats_the_mean,
        SyntheticTraining(answer),
        fraction,
        f"error {ratio:.2f} times that of predicting the training mean",
        "at most 0.80",
        "at least 1.00 (what predicting",
    )


@pytest.mark.parametrize(("share", "fraction"), [(0.2, 0.0), (0.6, None), (0.8, None), (1.0, 1.0)])
def test_classification_check_gives_partial_credit_from_the_majority_class(
    monkeypatch, share, fraction
):
    """Full points from 85%, none at the majority class's rate of the training wines."""
    seen = _captured(monkeypatch, "_classification_data")

    def answer(payload):
        _, y_train, _, y_test = seen["data"]
        n_classes = y_train.shape[1]
        right = np.arange(len(y_test)) < round(share * len(y_test))
        rows = np.eye(n_classes)[np.where(right, y_test, (y_test + 1) % n_classes)]
        return np.full_like(rows, 1 / n_classes), rows

    got, message = learning_outcome(
        checks.test_build_classification_model_beats_the_majority_class, SyntheticTraining(answer)
    )
    _, y_train, _, y_test = seen["data"]
    majority = checks._majority_rate(y_train)
    assert 0.3 < majority < 0.5  # three cultivars, the largest 40% of the wines
    accuracy = round(share * len(y_test)) / len(y_test)
    expected = fraction if fraction is not None else (accuracy - majority) / (0.85 - majority)
    assert got == pytest.approx(expected, abs=0.01) and got <= max(expected, 0)
    if got < 1:
        assert f"at most {majority:.0%} (about what always answering the most common" in message
