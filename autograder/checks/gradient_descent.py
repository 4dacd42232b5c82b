"""Hidden checks of assignment 1, gradient_descent: linear regression by gradient descent.

The student writes ``predict``, ``mse_loss``, ``mse_gradients`` and
``gradient_descent`` (see curriculum.md). Every input is a fresh regression
problem drawn from ``rng`` with more examples than features (``n > d``), so a
transposed product cannot pass by accident.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.checks.common import (
    RTOL_GRADIENT,
    Inputs,
    describe,
    diagnose,
    expect_array,
    expect_finite_array,
    expect_finite_number,
    expect_number,
    fail,
    how_far_off,
    numeric_gradient,
    points,
    rel_error,
    unchanged_check,
)

#: The student functions these checks grade (curriculum order).
FUNCTIONS = ("predict", "mse_loss", "mse_gradients", "gradient_descent")

# --- reference solution (never leaves the grader) ---------------------------------------


def _predict(X, w, b):
    return X @ w + b


def _mse_loss(y_true, y_pred):
    return float(np.mean((y_pred - y_true) ** 2))


def _mse_gradients(X, y, w, b):
    err = _predict(X, w, b) - y
    return 2.0 / len(y) * (X.T @ err), 2.0 * float(np.mean(err))


def _gradient_descent(X, y, learning_rate, n_epochs):
    w, b = np.zeros(X.shape[1]), 0.0
    losses = np.zeros(n_epochs)
    for epoch in range(n_epochs):
        losses[epoch] = _mse_loss(y, _predict(X, w, b))
        dw, db = _mse_gradients(X, y, w, b)
        w, b = w - learning_rate * dw, b - learning_rate * db
    return w, b, losses


# --- inputs ---------------------------------------------------------------------------------


def _problem(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A noisy linear regression problem ``(X, y)`` with n in [7, 14] and d in [3, 6].

    d >= 3 keeps the mistakes "divided by d" and "sum without 2/n" apart (n/d != n/2).
    """
    n, d = int(rng.integers(7, 15)), int(rng.integers(3, 7))
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(0.0, 2.0, size=d) + rng.uniform(1.0, 3.0) + 0.3 * rng.normal(size=n)
    return X, y


def _parameters(rng: np.random.Generator, d: int) -> tuple[np.ndarray, float]:
    """Weights of shape ``(d,)`` and a bias clearly away from 0 (so a lost ``b`` shows)."""
    return rng.normal(size=d), float(rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 2.0))


def _stable_learning_rate(
    rng: np.random.Generator, X: np.ndarray, low: float, high: float
) -> float:
    """A learning rate between ``low`` and ``high`` times the largest stable one, 2 / lambda_max."""
    A = np.column_stack([X, np.ones(len(X))])
    lambda_max = float(np.linalg.eigvalsh(2.0 / len(X) * A.T @ A).max())
    return float(rng.uniform(low, high) * 2.0 / lambda_max)


# --- helpers --------------------------------------------------------------------------------


def _unpack(call: str, value: Any, names: tuple[str, ...]) -> tuple:
    """Fail unless ``value`` is a tuple (or list) with one entry per name."""
    if not isinstance(value, tuple | list) or len(value) != len(names):
        fail(
            f"`{call}` returned {describe(value)}; expected a tuple of {len(names)}: "
            f"`({', '.join(names)})`. Hint: end with `return {', '.join(names)}`."
        )
    return tuple(value)


# --- predict --------------------------------------------------------------------------------


@points(2)
def test_predict_matches_reference(submission, rng):
    """predict(X, w, b) returns X @ w + b, one value per row of X."""
    X, _ = _problem(rng)
    w, b = _parameters(rng, X.shape[1])
    got = submission.call("predict", X, w, b)
    hint = "Hint: " + diagnose(
        got,
        [(X @ w, "Your result is X @ w: add the bias b to every prediction.")],
        f"With X of shape {X.shape} and w of shape {w.shape}, `X @ w` gives one value per row; "
        "then add b.",
    )
    expect_array("predict(X, w, b)", got, _predict(X, w, b), hint=hint)


@points(1)
def test_predict_handles_one_example_and_one_feature(submission, rng):
    """predict works for a single example (n = 1) and for a single feature (d = 1)."""
    for n, d in ((1, int(rng.integers(3, 7))), (int(rng.integers(4, 9)), 1)):
        X = rng.normal(size=(n, d))
        w, b = _parameters(rng, d)
        expect_array(
            "predict(X, w, b)",
            submission.call("predict", X, w, b),
            _predict(X, w, b),
            hint=f"Hint: with X of shape {X.shape} and w of shape {w.shape} the result has "
            f"shape ({n},): one prediction per row, even when n or d is 1. Avoid `np.squeeze`, "
            "`.item()` and fixed sizes.",
        )


# --- mse_loss -------------------------------------------------------------------------------


@points(2)
def test_mse_loss_matches_reference(submission, rng):
    """mse_loss(y_true, y_pred) returns mean((y_pred - y_true) ** 2) as a single number."""
    n = int(rng.integers(7, 15))
    y_true = rng.normal(0.0, 2.0, size=n)
    y_pred = y_true + rng.normal(0.0, 1.5, size=n)
    got = submission.call("mse_loss", y_true, y_pred)
    err = y_pred - y_true
    hint = "Hint: " + diagnose(
        got,
        [
            (np.sum(err**2), "Your result is the sum of the squared errors: take the mean."),
            (np.mean(np.abs(err)), "Your result is the mean absolute error: square the errors."),
            (np.sqrt(np.mean(err**2)), "Your result is the root of the MSE: drop the square root."),
            (0.5 * np.mean(err**2), "Your result is half the MSE: do not multiply by 1/2."),
            (err**2, "You returned one squared error per example: average them into one number."),
        ],
        "Square the differences y_pred - y_true and average them with `np.mean`.",
    )
    expect_number("mse_loss(y_true, y_pred)", got, _mse_loss(y_true, y_pred), hint=hint)


# --- mse_gradients --------------------------------------------------------------------------


def _student_gradients(submission, X, y, w, b) -> tuple[np.ndarray, float]:
    """Call mse_gradients; fail unless it returns dw of shape (d,) and db a single number."""
    call = "mse_gradients(X, y, w, b)"
    return _expect_gradients(call, submission.call("mse_gradients", X, y, w, b), X, w)


def _expect_gradients(call: str, result: Any, X, w) -> tuple[np.ndarray, float]:
    """Fail unless ``result`` is ``(dw, db)``: dw finite of w's shape, db one finite number."""
    dw, db = _unpack(call, result, ("dw", "db"))
    dw = expect_finite_array(
        call + "[0]",
        dw,
        w.shape,
        hint=f"Hint: dw has one entry per weight, the shape of w: {w.shape} for X of shape "
        f"{X.shape}.",
    )
    db = expect_finite_number(
        call + "[1]", db, hint="Hint: db is the derivative for the single bias b."
    )
    return dw, db


@points(3)
def test_mse_gradients_match_reference(submission, rng):
    """mse_gradients returns dw = 2/n X^T e of shape (d,) and db = 2/n sum(e), e = X w + b - y."""
    X, y = _problem(rng)
    w, b = _parameters(rng, X.shape[1])
    n, d = X.shape
    dw, db = _student_gradients(submission, X, y, w, b)
    dw_ref, db_ref = _mse_gradients(X, y, w, b)
    mistakes = [
        (0.5, "Your gradient is half the right one: the square gives a factor 2."),
        (n / 2, "Your gradient is the plain sum over the examples: multiply it by 2/n."),
        (float(n), "Your gradient is n times too large: divide the sum by n (take the mean)."),
        (-1.0, "Your gradient has the wrong sign: the error is prediction minus target."),
        (
            n / d,
            "Your dw is divided by the number of features d: divide by the number of examples n.",
        ),
    ]
    default = "With the error e = X w + b - y (shape (n,)): dw = 2/n X^T e and db = 2/n sum(e)."
    expect_array(
        "mse_gradients(X, y, w, b)[0]",
        dw,
        dw_ref,
        hint="Hint: "
        + diagnose(dw, [(factor * dw_ref, hint) for factor, hint in mistakes], default),
    )
    expect_number(
        "mse_gradients(X, y, w, b)[1]",
        db,
        db_ref,
        hint="Hint: "
        + diagnose(db, [(factor * db_ref, hint) for factor, hint in mistakes], default),
    )


@points(2)
def test_mse_gradients_match_finite_differences(submission, rng):
    """dw and db agree with centred finite differences of the MSE."""
    X, y = _problem(rng)
    w, b = _parameters(rng, X.shape[1])
    dw, db = _student_gradients(submission, X, y, w, b)
    numeric_dw = numeric_gradient(lambda v: _mse_loss(y, _predict(X, v, b)), w)
    numeric_db = numeric_gradient(lambda v: _mse_loss(y, _predict(X, w, float(v))), np.array(b))
    for name, analytic, numeric in (("dw", dw, numeric_dw), ("db", db, numeric_db)):
        error = rel_error(analytic, numeric)
        if not error <= RTOL_GRADIENT:
            fail(
                f"`mse_gradients(X, y, w, b)` returned a {name} that disagrees with centred "
                "finite differences (L(p + h) - L(p - h)) / 2h of mse_loss(y, predict(X, w, b)): "
                f"it is {how_far_off(analytic, numeric)}. Hint: derive the "
                "gradient of mean((X w + b - y) ** 2) again: a factor 2 from the square, a mean "
                "over the n examples, and the error is prediction minus target."
            )


# --- gradient_descent -----------------------------------------------------------------------

_BUILDS_ON = (
    "If a check of predict, mse_loss or mse_gradients fails too, fix that first: "
    "gradient_descent builds on them."
)


def _student_descent(submission, X, y, learning_rate: float, n_epochs: int):
    """Call gradient_descent; fail unless it returns w (d,), b a number and losses (n_epochs,).

    Returns:
        ``(call, w, b, losses)``, with ``call`` the call as written in messages.
    """
    call = _descent_call(learning_rate, n_epochs)
    result = submission.call("gradient_descent", X, y, learning_rate, n_epochs)
    return (call, *_expect_descent(call, result, X, n_epochs))


def _descent_call(learning_rate: float, n_epochs: int) -> str:
    return f"gradient_descent(X, y, learning_rate={learning_rate:.3g}, n_epochs={n_epochs})"


def _expect_descent(
    call: str, result: Any, X, n_epochs: int
) -> tuple[np.ndarray, float, np.ndarray]:
    """Fail unless ``result`` is a finite ``(w, b, losses)``: shapes (d,), a number, (n_epochs,)."""
    w, b, losses = _unpack(call, result, ("w", "b", "losses"))
    w = expect_finite_array(
        call + "[0]",
        w,
        (X.shape[1],),
        hint=f"Hint: w has one weight per column of X, shape ({X.shape[1]},) for X of shape "
        f"{X.shape}.",
    )
    b = expect_finite_number(call + "[1]", b, hint="Hint: b is the single bias of the model.")
    losses = expect_finite_array(
        call + "[2]",
        losses,
        (n_epochs,),
        hint="Hint: losses holds exactly one loss per epoch, recorded before that epoch's step.",
    )
    return w, b, losses


@points(1)
def test_gradient_descent_returns_shapes(submission, rng):
    """gradient_descent returns finite (w, b, losses): w (d,), b a number and losses (n_epochs,)."""
    X, y = _problem(rng)
    _student_descent(
        submission, X, y, _stable_learning_rate(rng, X, 0.2, 0.6), int(rng.integers(3, 9))
    )


@points(2)
def test_gradient_descent_first_loss_is_at_zero_parameters(submission, rng):
    """losses[0] is the loss at the starting point w = 0, b = 0, recorded before the first step."""
    X, y = _problem(rng)
    learning_rate = _stable_learning_rate(rng, X, 0.2, 0.6)
    call, _, _, losses = _student_descent(submission, X, y, learning_rate, int(rng.integers(3, 9)))
    _, _, losses_ref = _gradient_descent(X, y, learning_rate, 2)
    hint = "Hint: " + diagnose(
        losses[0],
        [(losses_ref[1], "It is the loss after the first step: record the loss before stepping.")],
        "Start from w = np.zeros(d) and b = 0.0, and record mse_loss(y, predict(X, w, b)) at "
        f"the start of each epoch, before updating w and b. {_BUILDS_ON}",
    )
    expect_number(call + "[2][0]", losses[0], losses_ref[0], hint=hint)


@points(2)
def test_gradient_descent_takes_one_step_downhill(submission, rng):
    """With n_epochs=1, w and b move from zero by -learning_rate times the gradient at zero."""
    X, y = _problem(rng)
    learning_rate = _stable_learning_rate(rng, X, 0.2, 0.6)
    call, w, b, _ = _student_descent(submission, X, y, learning_rate, 1)
    dw, db = _mse_gradients(X, y, np.zeros(X.shape[1]), 0.0)
    uphill = (
        "You stepped uphill: subtract learning_rate times the gradient, do not add it "
        f"(or, if mse_gradients fails its checks, fix its sign). {_BUILDS_ON}"
    )
    default = (
        "Start from w = np.zeros(d) and b = 0.0, and step against the gradient: "
        f"w = w - learning_rate * dw, b = b - learning_rate * db. {_BUILDS_ON}"
    )
    expect_array(
        call + "[0]",
        w,
        -learning_rate * dw,
        hint="Hint: "
        + diagnose(
            w, [(learning_rate * dw, uphill), (0 * dw, "w did not move: update it.")], default
        ),
    )
    expect_number(
        call + "[1]",
        b,
        -learning_rate * db,
        hint="Hint: "
        + diagnose(
            b, [(learning_rate * db, uphill), (0.0, "b did not move: update it too.")], default
        ),
    )


@points(3)
def test_gradient_descent_matches_reference(submission, rng):
    """After n_epochs steps, w, b and losses equal those of full-batch descent from zero."""
    X, y = _problem(rng)
    learning_rate = _stable_learning_rate(rng, X, 0.1, 0.9)
    n_epochs = int(rng.integers(15, 40))
    call, w, b, losses = _student_descent(submission, X, y, learning_rate, n_epochs)
    w_ref, b_ref, losses_ref = _gradient_descent(X, y, learning_rate, n_epochs)
    hint = (
        "Hint: start from zeros; in each epoch record the loss at the current (w, b), then "
        "dw, db = mse_gradients(X, y, w, b), then w = w - learning_rate * dw and "
        f"b = b - learning_rate * db. {_BUILDS_ON}"
    )
    expect_array(call + "[2]", losses, losses_ref, hint=hint)
    expect_array(call + "[0]", w, w_ref, hint=hint)
    expect_number(call + "[1]", b, b_ref, hint=hint)


@points(1)
def test_gradient_descent_decreases_loss_for_small_learning_rate(submission, rng):
    """With a small learning rate the loss never goes up and ends below where it started."""
    X, y = _problem(rng)
    learning_rate = _stable_learning_rate(rng, X, 0.1, 0.4)
    call, _, _, losses = _student_descent(
        submission, X, y, learning_rate, int(rng.integers(20, 40))
    )
    # A step below 2 / lambda_max never raises a quadratic loss; 1e-9 only absorbs rounding.
    rises = np.flatnonzero(np.diff(losses) > 1e-9 * np.abs(losses[:-1]))
    if rises.size or not losses[-1] < losses[0]:
        where = f"it went up after epoch {int(rises[0])}" if rises.size else "it did not go down"
        fail(
            f"`{call}` returned losses that do not decrease ({where}), although this learning "
            "rate is well below the largest stable one. Hint: step against the gradient "
            f"(w = w - learning_rate * dw) and check the gradient's sign and scale. {_BUILDS_ON}"
        )


# --- inputs unchanged (one shared check per function: common.unchanged_check) ---------------


def _predict_inputs(rng):
    X, _ = _problem(rng)
    w, b = _parameters(rng, X.shape[1])
    return Inputs(
        {"X": X, "w": w, "b": b},
        {},
        lambda call, answer: expect_finite_array(
            call, answer, (len(X),), hint="Hint: one prediction per row of X."
        ),
    )


def _mse_loss_inputs(rng):
    n = int(rng.integers(7, 15))
    return Inputs(
        {"y_true": rng.normal(size=n), "y_pred": rng.normal(size=n)},
        {},
        lambda call, answer: expect_finite_number(
            call, answer, hint="Hint: the loss is one number."
        ),
    )


def _mse_gradients_inputs(rng):
    X, y = _problem(rng)
    w, b = _parameters(rng, X.shape[1])
    return Inputs(
        {"X": X, "y": y, "w": w, "b": b},
        {},
        lambda call, answer: _expect_gradients(call, answer, X, w),
    )


def _gradient_descent_inputs(rng):
    X, y = _problem(rng)
    learning_rate, n_epochs = _stable_learning_rate(rng, X, 0.2, 0.6), 5
    return Inputs(
        {"X": X, "y": y, "learning_rate": learning_rate, "n_epochs": n_epochs},
        {},
        lambda call, answer: _expect_descent(call, answer, X, n_epochs),
        call=_descent_call(learning_rate, n_epochs),
    )


test_predict_does_not_modify_inputs = unchanged_check("predict", _predict_inputs)
test_mse_loss_does_not_modify_inputs = unchanged_check("mse_loss", _mse_loss_inputs)
test_mse_gradients_do_not_modify_inputs = unchanged_check("mse_gradients", _mse_gradients_inputs)
test_gradient_descent_does_not_modify_inputs = unchanged_check(
    "gradient_descent", _gradient_descent_inputs
)
