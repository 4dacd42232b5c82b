"""Tests of the hidden checks of gradient_descent: reference, stubs, mistakes, alternatives."""

from __future__ import annotations

import doctest
import functools
import re

import nbformat
import numpy as np
import pytest

from autograder.scoring import run_checks
from autograder.submission import LocalSubmission
from tests.harness import GRADER_FAULT, ROOT, failed_checks_of, reference, released, score

ASSIGNMENT = "gradient_descent"
SOURCE = ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
FUNCTIONS = ("predict", "mse_loss", "mse_gradients", "gradient_descent")
#: Four or more numbers with decimals in a row: an array printed into a message.
LONG_FLOAT_RUN = re.compile(r"(-?\d+\.\d+[,;\s\]]+){4,}")


def stub_namespace() -> dict:
    """The released notebook's functions: stubs."""
    return released(ASSIGNMENT)


@functools.cache
def reference_results(seed: int) -> dict:
    return score(ASSIGNMENT, reference(ASSIGNMENT), seed=seed)


# --- the reference and the stubs ---------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_gets_full_marks(seed):
    failed = {name: r.output for name, r in reference_results(seed).items() if not r.passed}
    assert not failed


def test_every_function_is_checked_and_points_are_in_range():
    results = reference_results(0)
    for function in FUNCTIONS:
        assert any(name.startswith(f"test_{function}_") for name in results)
    assert all(1 <= r.max_score <= 3 for r in results.values())
    assert 15 <= sum(r.max_score for r in results.values()) <= 30


def test_released_stubs_get_zero_with_not_implemented_messages():
    results = score(ASSIGNMENT, stub_namespace(), seed=0)
    for name, result in results.items():
        assert result.score == 0, name
        assert "not implemented yet" in result.output, (name, result.output)


def test_docstring_examples_of_the_solution_hold():
    namespace = reference(ASSIGNMENT)
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(verbose=False)
    for function in FUNCTIONS:
        for test in finder.find(namespace[function], function, globs=dict(namespace)):
            runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


def test_notebook_has_one_solution_cell_per_function():
    notebook = nbformat.read(SOURCE, as_version=4)
    grade_ids = [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in notebook.cells]
    for function in FUNCTIONS:
        assert grade_ids.count(function) == 1
        assert grade_ids.count(f"test_{function}") == 1
    assert notebook.metadata["autograder"] == {"assignment": ASSIGNMENT}


# --- common mistakes ------------------------------------------------------------------------

MISTAKES = {
    "predict_without_bias": (
        "predict",
        """
def predict(X, w, b):
    return X @ w
""",
    ),
    "predict_squeezes_to_scalar": (
        "predict",
        """
def predict(X, w, b):
    return np.squeeze(X @ w.reshape(-1, 1)) + b
""",
    ),
    "mse_loss_sum_not_mean": (
        "mse_loss",
        """
def mse_loss(y_true, y_pred):
    return float(np.sum((y_pred - y_true) ** 2))
""",
    ),
    "mse_loss_absolute_error": (
        "mse_loss",
        """
def mse_loss(y_true, y_pred):
    return float(np.mean(np.abs(y_pred - y_true)))
""",
    ),
    "mse_loss_per_example": (
        "mse_loss",
        """
def mse_loss(y_true, y_pred):
    return (y_pred - y_true) ** 2
""",
    ),
    "mse_loss_in_place": (
        "mse_loss",
        """
def mse_loss(y_true, y_pred):
    y_pred -= y_true
    return float(np.mean(y_pred ** 2))
""",
    ),
    "gradients_missing_factor_2": (
        "mse_gradients",
        """
def mse_gradients(X, y, w, b):
    err = X @ w + b - y
    return X.T @ err / len(y), float(np.mean(err))
""",
    ),
    "gradients_sum_not_mean": (
        "mse_gradients",
        """
def mse_gradients(X, y, w, b):
    err = X @ w + b - y
    return 2 * X.T @ err, 2 * float(np.sum(err))
""",
    ),
    "gradients_wrong_sign": (
        "mse_gradients",
        """
def mse_gradients(X, y, w, b):
    err = y - (X @ w + b)
    return 2 / len(y) * X.T @ err, 2 * float(np.mean(err))
""",
    ),
    "gradients_dw_divided_by_d": (
        "mse_gradients",
        """
def mse_gradients(X, y, w, b):
    err = X @ w + b - y
    return 2 * X.T @ err / X.shape[1], 2 * float(np.mean(err))
""",
    ),
    "gradients_dw_mean_over_everything": (
        "mse_gradients",
        """
def mse_gradients(X, y, w, b):
    err = X @ w + b - y
    return 2 * np.mean(X * err[:, None]), 2 * float(np.mean(err))
""",
    ),
    "gradients_db_without_factor_2": (
        "mse_gradients",
        """
def mse_gradients(X, y, w, b):
    err = X @ w + b - y
    return 2 / len(y) * X.T @ err, float(np.mean(err))
""",
    ),
    "descent_records_loss_after_step": (
        "gradient_descent",
        """
def gradient_descent(X, y, learning_rate, n_epochs):
    w, b, losses = np.zeros(X.shape[1]), 0.0, []
    for _ in range(n_epochs):
        dw, db = mse_gradients(X, y, w, b)
        w, b = w - learning_rate * dw, b - learning_rate * db
        losses.append(mse_loss(y, predict(X, w, b)))
    return w, b, np.array(losses)
""",
    ),
    "descent_starts_at_ones": (
        "gradient_descent",
        """
def gradient_descent(X, y, learning_rate, n_epochs):
    w, b, losses = np.ones(X.shape[1]), 1.0, []
    for _ in range(n_epochs):
        losses.append(mse_loss(y, predict(X, w, b)))
        dw, db = mse_gradients(X, y, w, b)
        w, b = w - learning_rate * dw, b - learning_rate * db
    return w, b, np.array(losses)
""",
    ),
    "descent_steps_uphill": (
        "gradient_descent",
        """
def gradient_descent(X, y, learning_rate, n_epochs):
    w, b, losses = np.zeros(X.shape[1]), 0.0, []
    for _ in range(n_epochs):
        losses.append(mse_loss(y, predict(X, w, b)))
        dw, db = mse_gradients(X, y, w, b)
        w, b = w + learning_rate * dw, b + learning_rate * db
    return w, b, np.array(losses)
""",
    ),
    "descent_never_updates_bias": (
        "gradient_descent",
        """
def gradient_descent(X, y, learning_rate, n_epochs):
    w, b, losses = np.zeros(X.shape[1]), 0.0, []
    for _ in range(n_epochs):
        losses.append(mse_loss(y, predict(X, w, b)))
        dw, db = mse_gradients(X, y, w, b)
        w = w - learning_rate * dw
    return w, b, np.array(losses)
""",
    ),
    "descent_uses_gradient_at_start_every_epoch": (
        "gradient_descent",
        """
def gradient_descent(X, y, learning_rate, n_epochs):
    w, b, losses = np.zeros(X.shape[1]), 0.0, []
    dw, db = mse_gradients(X, y, w, b)
    for _ in range(n_epochs):
        losses.append(mse_loss(y, predict(X, w, b)))
        w, b = w - learning_rate * dw, b - learning_rate * db
    return w, b, np.array(losses)
""",
    ),
    "descent_records_final_loss_too": (
        "gradient_descent",
        """
def gradient_descent(X, y, learning_rate, n_epochs):
    w, b, losses = np.zeros(X.shape[1]), 0.0, []
    for _ in range(n_epochs):
        losses.append(mse_loss(y, predict(X, w, b)))
        dw, db = mse_gradients(X, y, w, b)
        w, b = w - learning_rate * dw, b - learning_rate * db
    losses.append(mse_loss(y, predict(X, w, b)))
    return w, b, np.array(losses)
""",
    ),
    "descent_centres_X_in_place": (
        "gradient_descent",
        """
def gradient_descent(X, y, learning_rate, n_epochs):
    X -= X.mean(axis=0)
    w, b, losses = np.zeros(X.shape[1]), 0.0, []
    for _ in range(n_epochs):
        losses.append(mse_loss(y, predict(X, w, b)))
        dw, db = mse_gradients(X, y, w, b)
        w, b = w - learning_rate * dw, b - learning_rate * db
    return w, b, np.array(losses)
""",
    ),
}


class RecordingSubmission(LocalSubmission):
    """A LocalSubmission that remembers every call, to work out what the checks expected."""

    def __init__(self, namespace: dict) -> None:
        super().__init__(namespace)
        self.calls: list[tuple[str, tuple, object]] = []

    def _call(self, function, args, kwargs, return_args):
        reply = super()._call(function, args, kwargs, return_args)
        self.calls.append((function, args, reply[0]))
        return reply


@functools.cache
def mistake_run(mistake: str) -> tuple[dict, list]:
    """The check results of a mistake and the calls the checks made (cached: runs once)."""
    submission = RecordingSubmission(reference(ASSIGNMENT, MISTAKES[mistake][1]))
    results = run_checks(ASSIGNMENT, submission)
    return {r.name: r for r in results}, submission.calls


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_mistake_fails_a_check_of_its_function_with_a_helpful_message(mistake):
    function = MISTAKES[mistake][0]
    failed = failed_checks_of(mistake_run(mistake)[0], function, FUNCTIONS)
    assert failed, f"no check of {function} caught {mistake}"
    for result in failed:
        assert GRADER_FAULT not in result.output, result.output
        assert f"`{function}" in result.output, result.output


@pytest.mark.parametrize(
    ("mistake", "phrase"),
    [
        ("predict_without_bias", "add the bias b"),
        ("mse_loss_sum_not_mean", "sum of the squared errors"),
        ("mse_loss_absolute_error", "mean absolute error"),
        ("mse_loss_per_example", "one squared error per example"),
        ("gradients_missing_factor_2", "factor 2"),
        ("gradients_sum_not_mean", "n times too large"),
        ("gradients_wrong_sign", "wrong sign"),
        ("gradients_dw_divided_by_d", "number of features d"),
        ("descent_records_loss_after_step", "before stepping"),
        ("descent_steps_uphill", "uphill"),
        ("descent_never_updates_bias", "b did not move"),
        ("descent_centres_X_in_place", "modified its argument `X`"),
    ],
)
def test_mistake_gets_its_specific_hint(mistake, phrase):
    function = MISTAKES[mistake][0]
    outputs = " ".join(
        r.output for r in failed_checks_of(mistake_run(mistake)[0], function, FUNCTIONS)
    )
    assert phrase in outputs, outputs


def renderings_in(message: str, values) -> list[str]:
    """Renderings of ``values`` (as a message might format them) that ``message`` contains."""
    found = []
    for value in np.ravel(np.asarray(values, dtype=float)):
        for text in {f"{value:.3g}", f"{value:.4g}", f"{value:.6g}", f"{value:.3f}", repr(value)}:
            digits = sum(ch.isdigit() for ch in text)
            if digits >= 3 and re.search(rf"(?<![\d.]){re.escape(text)}(?!\d)", message):
                found.append(text)
    return found


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_mistake_messages_reveal_no_expected_values(mistake):
    results, calls = mistake_run(mistake)
    messages = "\n".join(r.output for r in results.values() if not r.passed)
    assert not LONG_FLOAT_RUN.search(messages), messages
    solution = reference(ASSIGNMENT)
    # A message may quote what the student's function returned, even where that happens to
    # be a right value of another quantity (a loss one step late); never anything else.
    returned = set()
    for _, _, result in calls:
        for part in result if isinstance(result, tuple | list) else (result,):
            returned.update(renderings_in(messages, part))
    for function, args, _ in calls:
        expected = solution[function](*args)
        for part in expected if isinstance(expected, tuple) else (expected,):
            leaked = set(renderings_in(messages, part)) - returned
            assert not leaked, (function, leaked, messages)


# --- correct alternatives -------------------------------------------------------------------

ALTERNATIVES = {
    "loops_over_examples": """
def predict(X, w, b):
    out = np.zeros(len(X))
    for i in range(len(X)):
        for j in range(len(w)):
            out[i] += X[i, j] * w[j]
        out[i] += b
    return out

def mse_loss(y_true, y_pred):
    total = 0.0
    for t, p in zip(y_true, y_pred):
        total += (p - t) ** 2
    return total / len(y_true)

def mse_gradients(X, y, w, b):
    n, d = X.shape
    dw, db = [0.0] * d, 0.0
    for i in range(n):
        e = sum(X[i, j] * w[j] for j in range(d)) + b - y[i]
        for j in range(d):
            dw[j] += 2 * e * X[i, j] / n
        db += 2 * e / n
    return np.array(dw), db
""",
    "broadcast_mean_and_numpy_scalars": """
def mse_loss(y_true, y_pred):
    return np.mean(np.square(y_true - y_pred))

def mse_gradients(X, y, w, b):
    err = predict(X, w, b) - y
    return np.mean(2 * err[:, None] * X, axis=0), np.mean(2 * err)
""",
    "dot_and_einsum": """
def predict(X, w, b):
    return np.einsum("nd,d->n", X, w) + b

def mse_loss(y_true, y_pred):
    err = np.asarray(y_pred) - np.asarray(y_true)
    return np.dot(err, err) / err.size

def mse_gradients(X, y, w, b):
    err = predict(X, w, b) - y
    return 2 * np.dot(err, X) / len(y), np.array(2 * err.sum() / len(y))
""",
    "descent_in_place_with_list_and_list_result": """
def gradient_descent(X, y, learning_rate, n_epochs):
    w = np.zeros(X.shape[1])
    b = np.float64(0)
    losses = []
    for _ in range(n_epochs):
        losses.append(mse_loss(y, predict(X, w, b)))
        dw, db = mse_gradients(X, y, w, b)
        w -= learning_rate * dw
        b -= learning_rate * db
    return [w, np.array([b]), losses]
""",
    "descent_with_inline_gradients": """
def gradient_descent(X, y, learning_rate, n_epochs):
    n, d = X.shape
    params = np.zeros(d + 1)
    A = np.hstack([X, np.ones((n, 1))])
    losses = np.empty(n_epochs)
    for k in range(n_epochs):
        err = A @ params - y
        losses[k] = err @ err / n
        params = params - learning_rate * (2 / n) * (A.T @ err)
    return params[:d], float(params[d]), losses.tolist()
""",
}


@pytest.mark.parametrize("alternative", sorted(ALTERNATIVES))
def test_correct_alternative_gets_full_marks(alternative):
    results = score(ASSIGNMENT, reference(ASSIGNMENT, ALTERNATIVES[alternative]), seed=4)
    failed = {name: r.output for name, r in results.items() if not r.passed}
    assert not failed
