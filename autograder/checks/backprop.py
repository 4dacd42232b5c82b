"""Hidden checks of the ``backprop`` assignment: a one-hidden-layer sigmoid network.

The student implements ``sigmoid``, ``init_params``, ``forward``, ``mse_loss``,
``backward`` and ``train`` (see curriculum.md, section 2). Each check draws its
inputs from ``rng`` with distinct sizes ``n_in``, ``n_hidden``, ``n_out`` and a
distinct number of rows, so that a transposed matrix has the wrong shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.checks._reference import sigmoid
from autograder.checks.common import (
    RTOL_ANALYTIC,
    RTOL_GRADIENT,
    Inputs,
    describe,
    diagnose,
    expect_array,
    expect_finite,
    expect_finite_array,
    expect_finite_number,
    expect_number,
    expect_shape,
    fail,
    how_far_off,
    numeric_gradient,
    points,
    rel_error,
    unchanged_check,
)

#: The student functions these checks grade (curriculum order).
FUNCTIONS = ("sigmoid", "init_params", "forward", "mse_loss", "backward", "train")

PARAM_NAMES = ("W1", "b1", "W2", "b2")

# ---------------------------------------------------------------------------
# Reference implementation (stays in the grader; sigmoid: _reference).
# ---------------------------------------------------------------------------


def _forward(X: np.ndarray, params: dict) -> tuple[np.ndarray, np.ndarray]:
    A1 = sigmoid(X @ params["W1"] + params["b1"])
    Y_hat = sigmoid(A1 @ params["W2"] + params["b2"])
    return Y_hat, A1


def _mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean((np.asarray(y_pred) - np.asarray(y_true)) ** 2))


def _loss(X: np.ndarray, Y: np.ndarray, params: dict) -> float:
    return _mse(Y, _forward(X, params)[0])


def _backward(X: np.ndarray, Y: np.ndarray, params: dict) -> dict:
    Y_hat, A1 = _forward(X, params)
    dZ2 = 2.0 * (Y_hat - Y) / Y_hat.size * Y_hat * (1.0 - Y_hat)
    dZ1 = (dZ2 @ params["W2"].T) * A1 * (1.0 - A1)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=0)}


def _gradient_descent(
    X: np.ndarray, Y: np.ndarray, params: dict, learning_rate: float, n_epochs: int
) -> tuple[dict, np.ndarray]:
    params = {name: np.array(params[name], dtype=float) for name in PARAM_NAMES}
    losses = np.zeros(n_epochs)
    for epoch in range(n_epochs):
        losses[epoch] = _loss(X, Y, params)
        grads = _backward(X, Y, params)
        params = {name: params[name] - learning_rate * grads[name] for name in PARAM_NAMES}
    return params, losses


# ---------------------------------------------------------------------------
# Inputs and guards.
# ---------------------------------------------------------------------------


def _sizes(rng: np.random.Generator) -> tuple[int, int, int, int]:
    """``(n, n_in, n_hidden, n_out)``, all different, so no transpose fits."""
    n_in, n_hidden, n_out = (int(v) for v in rng.choice(np.arange(2, 8), size=3, replace=False))
    n = int(rng.integers(8, 12))
    return n, n_in, n_hidden, n_out


def _shapes(n_in: int, n_hidden: int, n_out: int) -> dict[str, tuple[int, ...]]:
    return {"W1": (n_in, n_hidden), "b1": (n_hidden,), "W2": (n_hidden, n_out), "b2": (n_out,)}


def _random_params(rng: np.random.Generator, n_in: int, n_hidden: int, n_out: int) -> dict:
    """Weights and (non-zero) biases of a moderate size: no unit saturates."""
    return {
        name: rng.normal(scale=0.8, size=shape)
        for name, shape in _shapes(n_in, n_hidden, n_out).items()
    }


def _problem(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict]:
    n, n_in, n_hidden, n_out = _sizes(rng)
    X = rng.normal(size=(n, n_in))
    Y = rng.uniform(size=(n, n_out))
    return X, Y, _random_params(rng, n_in, n_hidden, n_out)


def _expect_params(call: str, value: Any, shapes: dict, *, what: str, hint: str = "") -> dict:
    """Fail unless ``value`` is a dict of finite arrays of the given shapes; return them as floats."""
    if not isinstance(value, dict):
        fail(
            f"`{call}` returned {describe(value)}; expected a dict with keys "
            f"{', '.join(PARAM_NAMES)}. {hint}".strip()
        )
    missing = [name for name in PARAM_NAMES if name not in value]
    if missing:
        fail(
            f"`{call}` returned a dict without the key(s) {', '.join(missing)}; expected the "
            f"keys {', '.join(PARAM_NAMES)} ({what}). {hint}".strip()
        )
    return {
        name: expect_finite_array(f"{call}['{name}']", value[name], shapes[name], hint=hint)
        for name in PARAM_NAMES
    }


def _call_forward(submission, X: np.ndarray, params: dict) -> tuple[np.ndarray, Any]:
    result = submission.call("forward", X, params)
    if not isinstance(result, tuple | list) or len(result) != 2:
        fail(
            f"`forward(X, params)` returned {describe(result)}; expected a tuple "
            "`(Y_hat, cache)`. Return both the output and what backward needs."
        )
    return result[0], result[1]


def _call_init_params(submission, n_in: int, n_hidden: int, n_out: int, seed: int) -> dict:
    call = f"init_params({n_in}, {n_hidden}, {n_out}, seed={seed})"
    result = submission.call("init_params", n_in, n_hidden, n_out, seed=seed)
    return _expect_params(call, result, _shapes(n_in, n_hidden, n_out), what="the parameters")


def _call_train(submission, X, Y, n_hidden, learning_rate, n_epochs, seed) -> tuple[dict, Any]:
    call = f"train(X, Y, n_hidden={n_hidden}, learning_rate={learning_rate:.3g}, n_epochs={n_epochs}, seed={seed})"
    result = submission.call("train", X, Y, n_hidden, learning_rate, n_epochs, seed=seed)
    if not isinstance(result, tuple | list) or len(result) != 2:
        fail(f"`{call}` returned {describe(result)}; expected a tuple `(params, losses)`.")
    shapes = _shapes(X.shape[1], n_hidden, Y.shape[1])
    params = _expect_params(call + "[0]", result[0], shapes, what="the trained parameters")
    losses = expect_finite_array(
        call + "[1]",
        result[1],
        (n_epochs,),
        hint="Record one loss per epoch, the mean squared error before that epoch's step, in an "
        "array of shape (n_epochs,).",
    )
    return params, losses


def _train_problem(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int, float, int, int]:
    n, n_in, n_hidden, n_out = _sizes(rng)
    X = rng.normal(size=(n, n_in))
    Y = (rng.uniform(size=(n, n_out)) < 0.5).astype(float)
    learning_rate = float(rng.uniform(0.5, 2.0))
    n_epochs = int(rng.integers(20, 40))
    seed = int(rng.integers(1, 100_000))
    return X, Y, n_hidden, learning_rate, n_epochs, seed


def _is_multiple(received: np.ndarray, expected: np.ndarray) -> bool:
    """True when ``received`` is a constant (not 1) times ``expected``."""
    scale = float(np.vdot(received, expected) / max(np.vdot(expected, expected), 1e-300))
    # loose: only chooses the hint, and finite differences carry errors near 1e-9
    return abs(scale - 1.0) > 1e-3 and rel_error(received, scale * expected) < 1e-4


# ---------------------------------------------------------------------------
# sigmoid
# ---------------------------------------------------------------------------


@points(2)
def test_sigmoid_values(submission, rng):
    """sigmoid(z) equals 1 / (1 + exp(-z)) elementwise, for any shape."""
    for shape in [(int(rng.integers(5, 9)),), (3, int(rng.integers(4, 7))), (2, 3, 4)]:
        z = rng.normal(scale=3.0, size=shape)
        got = submission.call("sigmoid", z)
        expect_array(
            f"sigmoid(z) for z of shape {shape}",
            got,
            sigmoid(z),
            hint="Apply 1 / (1 + exp(-z)) to every entry and keep the shape of z.",
        )


@points(1)
def test_sigmoid_finite_for_large_inputs(submission, rng):
    """sigmoid(z) is finite (0 or 1, not NaN) for |z| up to 1e4."""
    z = np.array([-1e4, -800.0, -50.0, 0.0, 50.0, 800.0, 1e4])
    z = z * rng.uniform(0.9, 1.0, size=z.shape)
    call = "sigmoid(z) for z between -1e4 and 1e4"
    hint = (
        "np.exp(z) overflows to inf for z > 709, and inf / inf is NaN. Use "
        "1 / (1 + np.exp(-z)), or compute exp(-|z|) only and pick the formula by the sign of z."
    )
    got = expect_finite(call, submission.call("sigmoid", z), hint=hint)
    expect_array(call, got, sigmoid(z), hint=hint)


# ---------------------------------------------------------------------------
# init_params
# ---------------------------------------------------------------------------


@points(1)
def test_init_params_shapes(submission, rng):
    """init_params returns finite W1 (n_in, n_hidden), b1 (n_hidden,), W2 (n_hidden, n_out), b2 (n_out,)."""
    _, n_in, n_hidden, n_out = _sizes(rng)
    call = f"init_params({n_in}, {n_hidden}, {n_out})"
    result = submission.call("init_params", n_in, n_hidden, n_out)
    _expect_params(
        call,
        result,
        _shapes(n_in, n_hidden, n_out),
        what="the parameters",
        hint="W1 maps n_in inputs to n_hidden units; the biases are 1-D vectors.",
    )


@points(1)
def test_init_params_zero_biases(submission, rng):
    """init_params sets b1 and b2 to zeros."""
    _, n_in, n_hidden, n_out = _sizes(rng)
    seed = int(rng.integers(0, 100_000))
    params = _call_init_params(submission, n_in, n_hidden, n_out, seed)
    for name in ("b1", "b2"):
        if np.any(params[name] != 0):
            fail(
                f"`init_params({n_in}, {n_hidden}, {n_out}, seed={seed})['{name}']` is not all "
                "zeros; expected zero biases. Start the biases at np.zeros: the random "
                "weights alone break the symmetry between units."
            )


@points(1)
def test_init_params_random_weights(submission, rng):
    """init_params draws W1 and W2 at random: not all zero, not all equal."""
    _, n_in, n_hidden, n_out = _sizes(rng)
    seed = int(rng.integers(0, 100_000))
    params = _call_init_params(submission, n_in, n_hidden, n_out, seed)
    for name in ("W1", "W2"):
        weights = params[name]
        # Exact, not statistical: weights drawn from any continuous law (normal, uniform,
        # scaled by the fan-in or not) are all equal with probability 0 (6 entries or more).
        if np.all(weights == weights.flat[0]):
            fail(
                f"`init_params({n_in}, {n_hidden}, {n_out}, seed={seed})['{name}']` has all "
                "entries equal; expected random weights. Hidden units that start equal get "
                "equal gradients and stay equal: draw the weights from "
                "np.random.default_rng(seed), e.g. rng.normal(size=...) / np.sqrt(fan_in)."
            )


@points(1)
def test_init_params_seed_reproducible(submission, rng):
    """init_params gives the same weights for the same seed and different weights for another seed."""
    _, n_in, n_hidden, n_out = _sizes(rng)
    seed = int(rng.integers(0, 100_000))
    other = seed + int(rng.integers(1, 1000))
    first = _call_init_params(submission, n_in, n_hidden, n_out, seed)
    again = _call_init_params(submission, n_in, n_hidden, n_out, seed)
    changed = _call_init_params(submission, n_in, n_hidden, n_out, other)
    hint = (
        "Make every random draw from rng = np.random.default_rng(seed) inside init_params, "
        "not from np.random's global state."
    )
    for name in ("W1", "W2"):
        if not np.array_equal(first[name], again[name]):
            fail(
                f"Two calls `init_params({n_in}, {n_hidden}, {n_out}, seed={seed})` returned "
                f"different `{name}`; expected the same weights for the same seed. {hint}"
            )
    # Exact too: two seeds give equal continuous weights with probability 0.
    if all(np.array_equal(first[name], changed[name]) for name in ("W1", "W2")):
        fail(
            f"`init_params(..., seed={seed})` and `init_params(..., seed={other})` returned the "
            f"same weights; expected the seed to change them. {hint}"
        )


# ---------------------------------------------------------------------------
# forward
# ---------------------------------------------------------------------------


@points(1)
def test_forward_output_shape_and_range(submission, rng):
    """forward(X, params) returns Y_hat of shape (n, n_out) with values in (0, 1)."""
    for n_out in (int(rng.integers(2, 5)), 1):
        n, n_in, n_hidden = int(rng.integers(5, 9)), 3, int(rng.integers(9, 12))
        X = rng.normal(size=(n, n_in))
        params = _random_params(rng, n_in, n_hidden, n_out)
        Y_hat, _ = _call_forward(submission, X, params)
        call = f"forward(X, params)[0] for X of shape {X.shape} and n_out = {n_out}"
        Y_hat = expect_finite_array(
            call,
            Y_hat,
            (n, n_out),
            hint="Keep one row per sample and one column per output (no squeeze, no transpose).",
        )
        if not np.all((Y_hat > 0) & (Y_hat < 1)):
            fail(
                f"`{call}` has values outside (0, 1); expected sigmoid outputs. "
                "Hint: apply sigmoid to the output layer too."
            )


@points(3)
def test_forward_matches_reference(submission, rng):
    """forward computes sigmoid(sigmoid(X @ W1 + b1) @ W2 + b2)."""
    X, Y, params = _problem(rng)
    Y_hat, _ = _call_forward(submission, X, params)
    expected = _forward(X, params)[0]
    call = f"forward(X, params)[0] for X of shape {X.shape}"
    got = expect_shape(call, Y_hat, expected.shape, hint="Y_hat has shape (n, n_out).")
    if rel_error(got, expected) <= RTOL_ANALYTIC:
        return
    no_b1 = dict(params, b1=np.zeros_like(params["b1"]))
    no_b2 = dict(params, b2=np.zeros_like(params["b2"]))
    hint = diagnose(
        got,
        [
            (
                _forward(X, no_b1)[0],
                "The output is what it would be without b1: add b1 to X @ W1 before the sigmoid.",
            ),
            (
                lambda: _forward(X, no_b2)[0],
                "The output is what it would be without b2: add b2 to A1 @ W2 before the sigmoid.",
            ),
        ],
        "Compute A1 = sigmoid(X @ W1 + b1), then Y_hat = sigmoid(A1 @ W2 + b2), with "
        "sigmoid on both layers.",
        rtol=RTOL_ANALYTIC,
    )
    expect_array(call, got, expected, hint=hint)


# ---------------------------------------------------------------------------
# mse_loss
# ---------------------------------------------------------------------------


@points(2)
def test_mse_loss_averages_over_all_entries(submission, rng):
    """mse_loss(y_true, y_pred) is the mean of (y_pred - y_true) ** 2 over all entries."""
    n, _, _, n_out = _sizes(rng)  # n_out >= 2
    y_true = rng.uniform(size=(n, n_out))
    y_pred = rng.uniform(size=(n, n_out))
    got = submission.call("mse_loss", y_true, y_pred)
    expected = _mse(y_true, y_pred)
    call = f"mse_loss(y_true, y_pred) for arrays of shape {y_true.shape}"
    expect_number(
        call,
        got,
        expected,
        hint="Return one number: the mean over all n * n_out entries (np.mean of the squared "
        "errors), not a sum over the outputs averaged over the rows.",
    )


@points(1)
def test_mse_loss_single_output_column(submission, rng):
    """mse_loss returns a single number for targets of shape (n, 1)."""
    n = int(rng.integers(5, 12))
    y_true = (rng.uniform(size=(n, 1)) < 0.5).astype(float)
    y_pred = rng.uniform(size=(n, 1))
    call = f"mse_loss(y_true, y_pred) for arrays of shape {y_true.shape}"
    hint = "Average (y_pred - y_true) ** 2 over all entries."
    got = submission.call("mse_loss", y_true, y_pred)
    expect_finite_number(call, got, hint=hint)
    expect_number(call, got, _mse(y_true, y_pred), hint=hint)


# ---------------------------------------------------------------------------
# backward
# ---------------------------------------------------------------------------

_SHAPE_HINT = (
    "Each gradient has the shape of its parameter: dW2 = A1.T @ dZ2 (not dZ2.T @ A1), "
    "dW1 = X.T @ dZ1, and the bias gradients sum over the rows (axis=0)."
)


def _student_gradients(submission, X, Y, params) -> dict:
    """Call the student's forward, then backward with its cache; check the shapes."""
    Y_hat, cache = _call_forward(submission, X, params)
    expect_array(
        "forward(X, params)[0], whose cache backward receives",
        Y_hat,
        _forward(X, params)[0],
        hint="backward is checked with the cache of your forward: fix forward first "
        "(see the forward checks).",
    )
    return _expect_gradients(submission.call("backward", X, Y, params, cache), params)


def _expect_gradients(result: Any, params: dict) -> dict:
    """Fail unless backward's ``result`` holds a finite gradient of each parameter's shape."""
    shapes = {name: value.shape for name, value in params.items()}
    return _expect_params(
        "backward(X, Y, params, cache)",
        result,
        shapes,
        what="one gradient per parameter",
        hint=_SHAPE_HINT,
    )


def _array_error(received: np.ndarray, expected: np.ndarray) -> float:
    """Relative error of a whole array, ||x - y|| / (||x|| + ||y||), as in CS231n's gradient checks.

    Finite differences carry an absolute noise near 1e-11; an elementwise relative error
    turns that into 1e-4 on an entry that happens to be near 1e-7, a whole-array error does not.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        diff = float(np.linalg.norm(received - expected))
        size = float(np.linalg.norm(received) + np.linalg.norm(expected))
    error = diff / max(1e-8, size)
    return error if np.isfinite(error) else np.inf


def _gradient_hint(grads: dict, expected: dict, rtol: float) -> str:
    # loose (at least 1e-6): only chooses the hint
    threshold = max(rtol, 1e-6)
    wrong = [name for name in PARAM_NAMES if _array_error(grads[name], expected[name]) > threshold]
    if all(_is_multiple(grads[name], expected[name]) for name in wrong):
        return (
            "Your gradient is a constant multiple of the right one: the derivative of the mean "
            "of (Y_hat - Y) ** 2 over all n * n_out entries is 2 (Y_hat - Y) / (n * n_out)."
        )
    if set(wrong) <= {"b1", "b2"}:
        return (
            "The weight gradients are right: sum dZ over the rows (axis=0) for the bias gradients."
        )
    if "W2" in wrong or "b2" in wrong:
        return (
            "Start from dZ2 = 2 / (n * n_out) * (Y_hat - Y) * Y_hat * (1 - Y_hat): the output "
            "sigmoid's derivative Y_hat (1 - Y_hat) is part of it, and Y_hat, A1 from the cache "
            "are the activations after the sigmoid."
        )
    return (
        "The output layer's gradients are right, so look at the hidden layer: "
        "dA1 = dZ2 @ W2.T, dZ1 = dA1 * A1 * (1 - A1) (the sigmoid derivative from the "
        "activations A1, not from Z1 and not sigmoid(A1)), dW1 = X.T @ dZ1."
    )


def _check_gradients(grads: dict, expected: dict, names: tuple[str, ...]) -> None:
    """Compare ``names`` of ``grads`` with the reference; the hint looks at all four."""
    hint = _gradient_hint(grads, expected, RTOL_ANALYTIC)
    for name in names:
        expect_array(
            f"backward(X, Y, params, cache)['{name}']",
            grads[name],
            expected[name],
            hint=hint,
        )


def _check_against_finite_differences(grads: dict, numeric: dict) -> None:
    """Compare all four gradients with finite differences, as whole arrays."""
    hint = _gradient_hint(grads, numeric, RTOL_GRADIENT)
    for name in PARAM_NAMES:
        error = _array_error(grads[name], numeric[name])
        if not error <= RTOL_GRADIENT:
            fail(
                f"`backward(X, Y, params, cache)['{name}']` does not match centred finite "
                f"differences of the loss: it is {how_far_off(grads[name], numeric[name])}. "
                f"{hint}"
            )


@points(1)
def test_backward_gradient_shapes(submission, rng):
    """backward returns a dict W1, b1, W2, b2 of finite gradients, each the shape of its parameter."""
    X, Y, params = _problem(rng)
    _student_gradients(submission, X, Y, params)


@points(2)
def test_backward_output_layer_gradients(submission, rng):
    """backward's W2 and b2 gradients equal those of the mean squared error."""
    X, Y, params = _problem(rng)
    grads = _student_gradients(submission, X, Y, params)
    _check_gradients(grads, _backward(X, Y, params), ("W2", "b2"))


@points(2)
def test_backward_hidden_layer_gradients(submission, rng):
    """backward's W1 and b1 gradients equal those of the mean squared error."""
    X, Y, params = _problem(rng)
    grads = _student_gradients(submission, X, Y, params)
    _check_gradients(grads, _backward(X, Y, params), ("W1", "b1"))


def _numeric_gradients(X: np.ndarray, Y: np.ndarray, params: dict) -> dict:
    """Centred finite differences of the reference loss for each parameter."""
    numeric = {}
    for name in PARAM_NAMES:

        def loss_of(value: np.ndarray, name: str = name) -> float:
            return _loss(X, Y, dict(params, **{name: value}))

        numeric[name] = numeric_gradient(loss_of, params[name])
    return numeric


@points(2)
def test_backward_gradients_match_finite_differences(submission, rng):
    """backward's gradients equal centred finite differences of the loss, also for one sample."""
    for n_rows in (None, 1):  # a full batch, then a single sample
        X, Y, params = _problem(rng)
        X, Y = X[:n_rows], Y[:n_rows]
        grads = _student_gradients(submission, X, Y, params)
        _check_against_finite_differences(grads, _numeric_gradients(X, Y, params))


# ---------------------------------------------------------------------------
# train
# ---------------------------------------------------------------------------


@points(1)
def test_train_returns_losses_per_epoch(submission, rng):
    """train returns finite (params, losses): the parameters' shapes and one loss per epoch."""
    X, Y, n_hidden, learning_rate, n_epochs, seed = _train_problem(rng)
    _call_train(submission, X, Y, n_hidden, learning_rate, n_epochs, seed)


@points(2)
def test_train_first_loss_is_initial_loss(submission, rng):
    """losses[0] of train is the loss at init_params(n_in, n_hidden, n_out, seed), before any step."""
    X, Y, n_hidden, learning_rate, n_epochs, seed = _train_problem(rng)
    _, losses = _call_train(submission, X, Y, n_hidden, learning_rate, n_epochs, seed)
    start = _call_init_params(submission, X.shape[1], n_hidden, Y.shape[1], seed)
    expected = _loss(X, Y, start)
    if rel_error(losses[0], expected) <= RTOL_ANALYTIC:
        return
    after_step = _gradient_descent(X, Y, start, learning_rate, 2)[1][1]
    seed_zero = _call_init_params(submission, X.shape[1], n_hidden, Y.shape[1], 0)
    hint = diagnose(  # loose (1e-6, its default): only chooses the hint
        losses[0],
        [
            (
                after_step,
                "It is the loss after the first step: record the loss of the current parameters "
                "before you update them.",
            ),
            (
                lambda: _loss(X, Y, seed_zero),
                "It is the loss of init_params(..., seed=0): pass train's seed on to init_params.",
            ),
        ],
        "Start from params = init_params(X.shape[1], n_hidden, Y.shape[1], seed=seed) and "
        "record mse_loss(Y, forward(X, params)[0]) before the first update.",
    )
    expect_number(f"train(X, Y, ..., seed={seed})[1][0]", losses[0], expected, hint=hint)


@points(3)
def test_train_matches_gradient_descent(submission, rng):
    """train takes n_epochs full-batch steps params -= learning_rate * grads from init_params(seed)."""
    X, Y, n_hidden, learning_rate, n_epochs, seed = _train_problem(rng)
    params, losses = _call_train(submission, X, Y, n_hidden, learning_rate, n_epochs, seed)
    start = _call_init_params(submission, X.shape[1], n_hidden, Y.shape[1], seed)
    expected_params, expected_losses = _gradient_descent(X, Y, start, learning_rate, n_epochs)
    hint = (
        "Each epoch: forward, record the loss, backward, then W -= learning_rate * dW for "
        "all four parameters, starting from init_params(..., seed=seed). If forward or "
        "backward fails its checks, fix it first."
    )
    # Rounding differences of correct alternatives grow over the epochs, still far below 1e-7.
    expect_array(
        f"train(X, Y, ..., n_epochs={n_epochs}, seed={seed})[1]",
        losses,
        expected_losses,
        hint=hint,
    )
    for name in PARAM_NAMES:
        expect_array(
            f"train(X, Y, ..., n_epochs={n_epochs}, seed={seed})[0]['{name}']",
            params[name],
            expected_params[name],
            hint=hint,
        )


@points(1)
def test_train_loss_decreases(submission, rng):
    """With a small learning rate the training loss goes down."""
    X, Y, n_hidden, _, n_epochs, seed = _train_problem(rng)
    learning_rate = 0.5
    params, losses = _call_train(submission, X, Y, n_hidden, learning_rate, n_epochs, seed)
    if not losses[-1] < losses[0]:
        fail(
            f"`train(X, Y, ..., learning_rate=0.5, n_epochs={n_epochs})` returned losses that "
            "do not go down from the first epoch to the last; expected gradient descent to "
            "reduce the loss. Hint: step against the gradient (params -= learning_rate * grads)."
        )
    if not _loss(X, Y, params) < losses[0]:
        fail(
            f"The parameters returned by `train(X, Y, ..., n_epochs={n_epochs})` have a loss no "
            "lower than losses[0]; expected the trained parameters, after the last update."
        )


# ---------------------------------------------------------------------------
# Inputs unchanged: one shared check per function (common.unchanged_check)
# ---------------------------------------------------------------------------

#: Graded functions without an inputs-unchanged check, and why.
UNCHANGED_EXEMPT = {"init_params": "takes only sizes and a seed, no array"}


def _sigmoid_inputs(rng: np.random.Generator) -> Inputs:
    z = rng.normal(scale=3.0, size=(3, int(rng.integers(4, 7))))
    return Inputs({"z": z}, {}, lambda call, answer: expect_finite_array(call, answer, z.shape))


def _forward_inputs(rng: np.random.Generator) -> Inputs:
    X, _, params = _problem(rng)
    n_out = params["W2"].shape[1]

    def well_formed(call: str, answer: Any) -> None:
        if not isinstance(answer, tuple | list) or len(answer) != 2:
            fail(f"`{call}` returned {describe(answer)}; expected a tuple `(Y_hat, cache)`.")
        expect_finite_array(call + "[0]", answer[0], (len(X), n_out))

    return Inputs({"X": X, "params": params}, {}, well_formed)


def _mse_loss_inputs(rng: np.random.Generator) -> Inputs:
    shape = (int(rng.integers(5, 12)), int(rng.integers(2, 5)))
    return Inputs(
        {"y_true": rng.uniform(size=shape), "y_pred": rng.uniform(size=shape)},
        {},
        lambda call, answer: expect_finite_number(call, answer, hint="The loss is one number."),
    )


def _backward_inputs(rng: np.random.Generator, submission) -> Inputs:
    """X, Y, params and the cache of the student's own forward (whose format is theirs)."""
    X, Y, params = _problem(rng)
    _, cache = _call_forward(submission, X, params)
    return Inputs(
        {"X": X, "Y": Y, "params": params, "cache": cache},
        {},
        lambda call, answer: _expect_gradients(answer, params),
    )


def _train_inputs(rng: np.random.Generator) -> Inputs:
    X, Y, n_hidden, learning_rate, n_epochs, seed = _train_problem(rng)
    n_epochs = min(n_epochs, 5)
    shapes = _shapes(X.shape[1], n_hidden, Y.shape[1])

    def well_formed(call: str, answer: Any) -> None:
        if not isinstance(answer, tuple | list) or len(answer) != 2:
            fail(f"`{call}` returned {describe(answer)}; expected a tuple `(params, losses)`.")
        _expect_params(call + "[0]", answer[0], shapes, what="the trained parameters")
        expect_finite_array(call + "[1]", answer[1], (n_epochs,))

    return Inputs(
        {"X": X, "Y": Y, "n_hidden": n_hidden, "learning_rate": learning_rate,
         "n_epochs": n_epochs},
        {"seed": seed},
        well_formed,
    )  # fmt: skip


test_sigmoid_does_not_modify_input = unchanged_check("sigmoid", _sigmoid_inputs)
test_forward_does_not_modify_inputs = unchanged_check("forward", _forward_inputs)
test_mse_loss_does_not_modify_inputs = unchanged_check("mse_loss", _mse_loss_inputs)
test_backward_does_not_modify_inputs = unchanged_check(
    "backward", _backward_inputs, doc="backward leaves X, Y, params and cache unchanged."
)
test_train_does_not_modify_inputs = unchanged_check("train", _train_inputs)
