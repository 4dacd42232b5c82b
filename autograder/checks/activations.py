"""Hidden checks of `activations`: activation functions, softmax and vanishing gradients.

Every elementwise function is compared with a private reference on arrays of
several shapes (0-d, 1-D, 2-D non-square, 3-D) drawn from ``rng``; every
derivative also against centred differences of the reference function, away
from the kink of ReLU at 0 (where either value is accepted). Large inputs
(|z| up to 1e4) must give finite values with the right limits.

``softmax`` must subtract the maximum of each slice along ``axis``: subtracting
one global maximum of the whole array avoids overflow but makes a row far below
that maximum underflow to 0 / 0 = nan, so it fails
``test_softmax_finite_for_large_inputs`` (a batch holding rows near +1e4 and
rows near -1e4). Any other stable formula (log-sum-exp, ...) passes.

``layer_gradient_norms`` gets ``np.sin`` / ``np.cos`` as the activation and its
derivative (``NumpyFunc`` markers), so that it is graded apart from the
student's own activation functions.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from autograder.checks._reference import sigmoid, softmax
from autograder.checks.common import (
    RTOL_ANALYTIC,
    RTOL_GRADIENT,
    Inputs,
    NumpyFunc,
    diagnose,
    expect_array,
    expect_finite,
    expect_finite_array,
    expect_shape,
    fail,
    numeric_gradient,
    points,
    unchanged_check,
)

#: The student functions these checks grade (curriculum order).
FUNCTIONS = (
    "sigmoid",
    "sigmoid_derivative",
    "tanh",
    "tanh_derivative",
    "relu",
    "relu_derivative",
    "leaky_relu",
    "leaky_relu_derivative",
    "softmax",
    "layer_gradient_norms",
)

#: Largest |value| accepted where a limit is exactly 0 (sigmoid(-1e4), derivatives at
#: +-1e4): the true values there are below 1e-4000, so anything visible is a mistake.
ATOL_LIMIT = 1e-12
#: Step of the centred differences of the elementwise functions (as in numeric_gradient).
STEP = 1e-5

# --------------------------------------------------------------------------------------
# Reference implementation (stays in the grader; sigmoid and softmax: _reference).
# --------------------------------------------------------------------------------------


def _sigmoid_derivative(z):
    s = sigmoid(z)
    return s * (1.0 - s)


def _tanh(z):
    return np.tanh(np.asarray(z, dtype=float))


def _tanh_derivative(z):
    return 1.0 - _tanh(z) ** 2


def _relu(z):
    return np.maximum(np.asarray(z, dtype=float), 0.0)


def _relu_derivative(z):
    return (np.asarray(z, dtype=float) > 0).astype(float)


def _leaky_relu(z, negative_slope=0.01):
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, z, negative_slope * z)


def _leaky_relu_derivative(z, negative_slope=0.01):
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, 1.0, negative_slope)


def _forward(x, weights, activation):
    """Pre-activations a_1..a_L and activations h_0..h_L of the bias-free stack."""
    hs, pre = [x], []
    for W in weights:
        pre.append(hs[-1] @ W)  # (N, d_l)
        hs.append(activation(pre[-1]))
    return pre, hs


def _layer_gradient_norms(x, weights, activation, derivative, output_derivative=True):
    """Frobenius norms of d(h_L.sum())/dW_l, first layer first.

    ``derivative(a, h)`` gives activation'(a) for pre-activation ``a`` and its
    activation ``h``; the hints of the checks also run wrong variants (``h``
    instead of ``a``, no derivative at the output) to name a student's mistake.
    """
    pre, hs = _forward(x, weights, activation)
    delta = derivative(pre[-1], hs[-1])  # (N, d_L): loss = h_L.sum()
    if not output_derivative:
        delta = np.ones_like(delta)
    norms = np.zeros(len(weights))
    for layer in range(len(weights) - 1, -1, -1):
        norms[layer] = np.linalg.norm(hs[layer].T @ delta)  # (d_{l-1}, d_l)
        if layer > 0:
            delta = (delta @ weights[layer].T) * derivative(pre[layer - 1], hs[layer])
    return norms


def _sin_network_norms(x, weights):
    return _layer_gradient_norms(x, weights, np.sin, lambda a, h: np.cos(a))


# --------------------------------------------------------------------------------------
# Inputs.
# --------------------------------------------------------------------------------------

#: Shapes every elementwise function must handle: 0-d, 1-D, 2-D non-square, 3-D.
SHAPES = [(), (7,), (3, 5), (2, 3, 4)]


def _arrays(rng: np.random.Generator, scale: float = 3.0) -> list[np.ndarray]:
    return [np.asarray(rng.normal(scale=scale, size=shape), dtype=float) for shape in SHAPES]


def _away_from_zero(rng: np.random.Generator, shape: tuple, low=0.1, high=5.0) -> np.ndarray:
    """Values with low <= |z| <= high and random signs; low = 0.1 keeps ReLU's kink out of reach."""
    signs = rng.choice([-1.0, 1.0], size=shape)
    return np.asarray(signs * rng.uniform(low, high, size=shape), dtype=float)


def _large_inputs(rng: np.random.Generator) -> np.ndarray:
    """A (3, 6) array holding +-1e4, +-1e3, +-710 (where exp overflows) and random large values."""
    fixed = np.array([-1e4, 1e4, -1e3, 1e3, -710.0, 710.0, -50.0, 50.0, 0.0])
    drawn = rng.uniform(-1e4, 1e4, size=9)
    values = np.concatenate([fixed, drawn])
    return rng.permutation(values).reshape(3, 6)


def _centred_difference(f: Callable, z: np.ndarray) -> np.ndarray:
    """(f(z + h) - f(z - h)) / 2h entry by entry: the derivative of an elementwise f."""
    return (f(z + STEP) - f(z - STEP)) / (2 * STEP)


def _shape_note(z: np.ndarray) -> str:
    return " with z a 0-d array" if z.shape == () else f" with z of shape {z.shape}"


# --------------------------------------------------------------------------------------
# Shared check bodies.
# --------------------------------------------------------------------------------------


def _check_values(submission, name, reference, arrays, hint, **kwargs):
    extra = "".join(f", {key}={value:.3g}" for key, value in kwargs.items())
    for z in arrays:
        call = f"{name}(z{extra})" + _shape_note(z)
        got = submission.call(name, z, **kwargs)
        expect_finite(call, got, hint=hint)
        expect_array(call, got, reference(z, **kwargs), hint=hint)


def _check_finite_differences(submission, name, function, arrays, hint, **kwargs):
    extra = "".join(f", {key}={value:.3g}" for key, value in kwargs.items())
    for z in arrays:
        call = f"{name}(z{extra})" + _shape_note(z)
        got = submission.call(name, z, **kwargs)
        numeric = _centred_difference(lambda t: function(t, **kwargs), z)
        expect_array(call, got, numeric, rtol=RTOL_GRADIENT, hint=hint)


def _check_large(submission, rng, name, reference, low_limit, high_limit, hint):
    """Finite for |z| up to 1e4, the given limits at z = -1e4 and 1e4, and the reference."""
    z = _large_inputs(rng)
    call = f"{name}(z) with z of shape {z.shape} holding values from -1e4 to 1e4"
    got = submission.call(name, z)
    array = expect_shape(call, got, z.shape, hint=hint)
    expect_finite(call, array, hint=hint)
    for point, limit in ((-1e4, low_limit), (1e4, high_limit)):
        value = float(array[z == point][0])
        if not abs(value - limit) <= ATOL_LIMIT:
            fail(
                f"`{call}` gave {value:.6g} where z = {point:g}; expected {limit:g} "
                f"(to within {ATOL_LIMIT:g}), the limit of `{name}` there. {hint}"
            )
    expect_array(call, array, reference(z), hint=hint)


# --------------------------------------------------------------------------------------
# sigmoid
# --------------------------------------------------------------------------------------

_SIGMOID_HINT = (
    "sigmoid(z) = 1 / (1 + exp(-z)), elementwise. For a stable version use exp(-|z|), "
    "which never overflows: 1 / (1 + e) where z >= 0 and e / (1 + e) where z < 0."
)


@points(1)
def test_sigmoid_values_match_reference(submission, rng):
    """sigmoid(z) equals 1 / (1 + exp(-z)) elementwise, for arrays of any shape."""
    _check_values(submission, "sigmoid", sigmoid, _arrays(rng), _SIGMOID_HINT)


@points(1)
def test_sigmoid_finite_for_large_inputs(submission, rng):
    """sigmoid(z) is finite for |z| up to 1e4, with sigmoid(-1e4) = 0 and sigmoid(1e4) = 1."""
    _check_large(
        submission,
        rng,
        "sigmoid",
        sigmoid,
        0.0,
        1.0,
        "np.exp(z) overflows to inf for z > 709, and inf / inf is nan (as in "
        "exp(z) / (1 + exp(z))). Write sigmoid with exp(-|z|), which is at most 1.",
    )


@points(1)
def test_sigmoid_derivative_matches_finite_differences(submission, rng):
    """sigmoid_derivative(z) is the slope of sigmoid at z (centred differences)."""
    _check_finite_differences(
        submission,
        "sigmoid_derivative",
        sigmoid,
        [_away_from_zero(rng, (4, 6), low=0.0), _away_from_zero(rng, (2, 3, 5), low=0.0)],
        "The derivative is sigmoid(z) * (1 - sigmoid(z)): both factors are sigmoid(z), "
        "not z. The argument is the pre-activation z, not sigmoid(z).",
    )


@points(1)
def test_sigmoid_derivative_values_match_reference(submission, rng):
    """sigmoid_derivative(z) equals sigmoid(z) (1 - sigmoid(z)), finite and -> 0 at |z| = 1e4."""
    values_hint = (
        "Use sigmoid_derivative(z) = s * (1 - s) with s = sigmoid(z): both factors are "
        "sigmoid(z), and the argument is the pre-activation z."
    )
    large_hint = (
        "Compute s = sigmoid(z) with a stable sigmoid, then s * (1 - s); "
        "exp(-z) / (1 + exp(-z))**2 is inf / inf = nan for z = -1e4."
    )
    _check_values(submission, "sigmoid_derivative", _sigmoid_derivative, _arrays(rng), values_hint)
    _check_large(submission, rng, "sigmoid_derivative", _sigmoid_derivative, 0.0, 0.0, large_hint)


# --------------------------------------------------------------------------------------
# tanh
# --------------------------------------------------------------------------------------

_TANH_HINT = (
    "tanh(z) = (exp(z) - exp(-z)) / (exp(z) + exp(-z)); np.tanh computes it stably, "
    "and so does 2 * sigmoid(2 z) - 1 with a stable sigmoid."
)


@points(1)
def test_tanh_values_match_reference(submission, rng):
    """tanh(z) equals the hyperbolic tangent elementwise, for arrays of any shape."""
    _check_values(submission, "tanh", _tanh, _arrays(rng), _TANH_HINT)


@points(1)
def test_tanh_finite_for_large_inputs(submission, rng):
    """tanh(z) is finite for |z| up to 1e4, with tanh(-1e4) = -1 and tanh(1e4) = 1."""
    _check_large(
        submission,
        rng,
        "tanh",
        _tanh,
        -1.0,
        1.0,
        "exp(z) overflows to inf for z > 709 and inf / inf is nan: use np.tanh, or "
        "2 * sigmoid(2 z) - 1 with a stable sigmoid.",
    )


@points(1)
def test_tanh_derivative_matches_finite_differences(submission, rng):
    """tanh_derivative(z) is the slope of tanh at z (centred differences)."""
    _check_finite_differences(
        submission,
        "tanh_derivative",
        _tanh,
        [_away_from_zero(rng, (4, 6), low=0.0, high=3.0), _away_from_zero(rng, (5,), 0.0, 3.0)],
        "The derivative is 1 - tanh(z)**2: square tanh(z), not z. The argument is the "
        "pre-activation z.",
    )


@points(1)
def test_tanh_derivative_values_match_reference(submission, rng):
    """tanh_derivative(z) equals 1 - tanh(z)**2, finite and -> 0 at |z| = 1e4."""
    values_hint = "Use 1 - tanh(z)**2: square tanh(z), not z."
    large_hint = (
        "Use 1 - tanh(z)**2 with a stable tanh (np.tanh): exp(z) overflows for z > 709 "
        "and inf / inf is nan."
    )
    _check_values(submission, "tanh_derivative", _tanh_derivative, _arrays(rng), values_hint)
    _check_large(submission, rng, "tanh_derivative", _tanh_derivative, 0.0, 0.0, large_hint)


# --------------------------------------------------------------------------------------
# relu
# --------------------------------------------------------------------------------------

_RELU_HINT = "relu(z) = max(0, z) elementwise: np.maximum(z, 0) keeps the shape of z."


@points(1)
def test_relu_values_match_reference(submission, rng):
    """relu(z) equals max(0, z) elementwise, for arrays of any shape."""
    _check_values(submission, "relu", _relu, _arrays(rng), _RELU_HINT)
    _check_values(submission, "relu", _relu, [_large_inputs(rng)], _RELU_HINT)


@points(1)
def test_relu_derivative_matches_finite_differences(submission, rng):
    """relu_derivative(z) is the slope of relu at z: 0 for z < 0, 1 for z > 0."""
    _check_finite_differences(
        submission,
        "relu_derivative",
        _relu,
        [_away_from_zero(rng, (4, 6)), _away_from_zero(rng, (2, 3, 5))],
        "relu has slope 1 where z > 0 and slope 0 where z < 0, so the derivative is "
        "(z > 0) as floats, not relu(z) itself.",
    )


@points(1)
def test_relu_derivative_values_match_reference(submission, rng):
    """relu_derivative(z) is 0 for z < 0 and 1 for z > 0, for any shape and |z| up to 1e4."""
    hint = "Return 1.0 where z > 0 and 0.0 where z < 0, as floats of the shape of z."
    arrays = [_away_from_zero(rng, shape) for shape in SHAPES] + [_large_inputs(rng)]
    arrays[-1][arrays[-1] == 0] = 1.0  # the value at the kink is not graded
    _check_values(submission, "relu_derivative", _relu_derivative, arrays, hint)


# --------------------------------------------------------------------------------------
# leaky_relu
# --------------------------------------------------------------------------------------

_LEAKY_HINT = (
    "leaky_relu(z) is z where z > 0 and negative_slope * z where z < 0; use the "
    "`negative_slope` argument, not a fixed number."
)


def _slope(rng: np.random.Generator) -> float:
    """A slope far from the default 0.01, so a hard-coded 0.01 cannot pass."""
    return float(rng.uniform(0.1, 0.5))


@points(1)
def test_leaky_relu_values_match_reference(submission, rng):
    """leaky_relu(z) is z for z > 0 and 0.01 z for z < 0 (the default slope), any shape."""
    _check_values(submission, "leaky_relu", _leaky_relu, _arrays(rng), _LEAKY_HINT)


@points(1)
def test_leaky_relu_honours_negative_slope(submission, rng):
    """leaky_relu(z, negative_slope=s) multiplies the negative entries by s."""
    for z in [rng.normal(size=(4, 6)), _large_inputs(rng)]:
        _check_values(
            submission, "leaky_relu", _leaky_relu, [z], _LEAKY_HINT, negative_slope=_slope(rng)
        )


@points(1)
def test_leaky_relu_derivative_matches_finite_differences(submission, rng):
    """leaky_relu_derivative(z) is the slope of leaky_relu at z (default slope 0.01)."""
    _check_finite_differences(
        submission,
        "leaky_relu_derivative",
        _leaky_relu,
        [_away_from_zero(rng, (4, 6)), _away_from_zero(rng, (2, 3, 5))],
        "leaky_relu has slope 1 where z > 0 and slope negative_slope (not 0) where z < 0.",
    )


@points(1)
def test_leaky_relu_derivative_honours_negative_slope(submission, rng):
    """leaky_relu_derivative(z, negative_slope=s) is 1 for z > 0 and s for z < 0, any shape."""
    hint = (
        "Return 1.0 where z > 0 and `negative_slope` (the argument, not 0.01 and not 0) "
        "where z < 0."
    )
    arrays = [_away_from_zero(rng, shape) for shape in SHAPES]
    for z in arrays:
        _check_values(
            submission,
            "leaky_relu_derivative",
            _leaky_relu_derivative,
            [z],
            hint,
            negative_slope=_slope(rng),
        )
    _check_finite_differences(
        submission,
        "leaky_relu_derivative",
        _leaky_relu,
        [arrays[2]],
        hint,
        negative_slope=_slope(rng),
    )


# --------------------------------------------------------------------------------------
# softmax
# --------------------------------------------------------------------------------------

_SOFTMAX_HINT = (
    "Subtract the maximum along `axis` (keepdims=True), exponentiate, then divide by the "
    "sum along the same `axis` (keepdims=True, so that the division broadcasts)."
)
_AXIS_HINT = (
    "Use the `axis` argument in both the max and the sum, with keepdims=True; "
    "do not fix the axis and do not sum over the whole array."
)


def _softmax_call(z: np.ndarray, axis: int | None) -> str:
    where = "" if axis is None else f", axis={axis}"
    return f"softmax(z{where})" + _shape_note(z)


def _check_softmax(submission, z, axis, finite_hint=_SOFTMAX_HINT):
    """Shape, finite, non-negative, sums to 1 along ``axis`` and equal to the reference.

    ``finite_hint`` explains a NaN or infinity; wrong sums get the axis hint.
    """
    call = _softmax_call(z, axis)
    got = (
        submission.call("softmax", z) if axis is None else submission.call("softmax", z, axis=axis)
    )
    axis = -1 if axis is None else axis
    array = expect_shape(call, got, z.shape, hint=_SOFTMAX_HINT)
    expect_finite(call, array, hint=finite_hint)
    if np.any(array < 0):
        fail(
            f"`{call}` returned negative entries; probabilities are never negative. {_SOFTMAX_HINT}"
        )
    sums = array.sum(axis=axis)
    if not np.allclose(sums, 1.0, rtol=0.0, atol=1e-9):
        fail(
            f"`{call}` returned an array whose sums along axis {axis} range from "
            f"{sums.min():.4g} to {sums.max():.4g}; expected every sum along axis {axis} "
            f"to be 1. {_AXIS_HINT}"
        )
    expect_array(call, array, softmax(z, axis=axis), hint=_SOFTMAX_HINT)


@points(2)
def test_softmax_values_match_reference(submission, rng):
    """softmax(z) is exp(z) / sum(exp(z)) along the last axis by default (1-D, 2-D, 3-D)."""
    for shape in [(7,), (4, 6), (2, 3, 5)]:
        _check_softmax(submission, rng.normal(scale=3.0, size=shape), None)
    _check_softmax(submission, rng.normal(scale=3.0, size=(5, 3)), -1)


@points(2)
def test_softmax_sums_to_one_along_axis(submission, rng):
    """softmax(z, axis) normalises along the given axis (axis=0 on 2-D; 0, 1, -1 on 3-D)."""
    _check_softmax(submission, rng.normal(scale=3.0, size=(4, 6)), 0)
    z = rng.normal(scale=3.0, size=(3, 4, 5))
    for axis in (0, 1, -1):
        _check_softmax(submission, z, axis)


@points(2)
def test_softmax_finite_for_large_inputs(submission, rng):
    """softmax(z, axis) stays finite and correct for entries of +-1e4, row by row."""
    overflow = (
        "np.exp(1e4) overflows to inf and inf / inf is nan. Subtract the maximum along "
        "`axis` before np.exp: softmax(z - c) = softmax(z), and the largest exponent is 0."
    )
    per_row = (
        "Subtract the maximum of each row (along `axis`, keepdims=True), not one maximum "
        "of the whole array: a row far below the global maximum underflows to 0 / 0 = nan."
    )
    base = rng.normal(scale=2.0, size=(3, 5))
    _check_softmax(submission, base + 1e4, -1, overflow)
    _check_softmax(submission, base - 1e4, -1, overflow)
    mixed = base + np.array([[1e4], [-1e4], [0.0]])  # rows far apart
    _check_softmax(submission, mixed, -1, per_row)
    _check_softmax(submission, mixed.T.copy(), 0, per_row)


# --------------------------------------------------------------------------------------
# layer_gradient_norms
# --------------------------------------------------------------------------------------

_BACKPROP = (
    "delta_L = activation_derivative(a_L) (the loss is h_L.sum()), "
    "grad W_l = h_{l-1}.T @ delta_l, "
    "delta_{l-1} = (delta_l @ W_l.T) * activation_derivative(a_{l-1}); "
    "entry l-1 is the Frobenius norm of grad W_l, the first layer first."
)


def _network(rng: np.random.Generator, widths: list[int], n: int):
    """Inputs (n, d_0) and weights W_l of shape (d_{l-1}, d_l), pre-activations of order 1."""
    x = rng.normal(size=(n, widths[0]))
    weights = [
        rng.normal(size=(d_in, d_out)) * 1.5 / np.sqrt(d_in)
        for d_in, d_out in zip(widths[:-1], widths[1:], strict=True)
    ]
    return x, weights


def _norms_call(x, weights) -> str:
    shapes = ", ".join(str(W.shape) for W in weights)
    return (
        f"layer_gradient_norms(x, weights, np.sin, np.cos) with x of shape {x.shape} "
        f"and weights of shapes [{shapes}]"
    )


def _known_mistakes(x, weights, expected: np.ndarray) -> list:
    """``(norms of a known wrong backward pass, the hint naming it)`` for :func:`diagnose`."""
    return [
        (
            expected[::-1],
            "Your norms are in reverse order: entry 0 is for the first layer W_1, "
            "the last entry for W_L.",
        ),
        (
            lambda: _layer_gradient_norms(x, weights, np.sin, lambda a, h: np.ones_like(a)),
            "Your norms ignore activation_derivative: multiply by it at every layer, "
            "the last one included.",
        ),
        (
            lambda: _layer_gradient_norms(
                x, weights, np.sin, lambda a, h: np.cos(a), output_derivative=False
            ),
            "The loss is h_L.sum() with h_L = activation(a_L), so delta_L = "
            "activation_derivative(a_L), not ones.",
        ),
        (
            lambda: _layer_gradient_norms(x, weights, np.sin, lambda a, h: np.cos(h)),
            "Pass the pre-activation a_l = h_{l-1} @ W_l to activation_derivative, "
            "not the activation h_l.",
        ),
        (
            expected**2,
            "Your numbers look like squared norms: take the square root of the sum of squares.",
        ),
    ]


def _check_norms(submission, x, weights, expected, rtol):
    call = _norms_call(x, weights)
    got = submission.call("layer_gradient_norms", x, weights, NumpyFunc("sin"), NumpyFunc("cos"))
    shape_hint = "Return one norm per weight matrix, as an array of shape (L,)."
    array = expect_shape(call, got, (len(weights),), hint=shape_hint)
    expect_finite(call, array, hint=f"Check the backward pass: {_BACKPROP}")
    hint = diagnose(
        array,
        _known_mistakes(x, weights, expected),
        f"Check the backward pass: {_BACKPROP}",
        rtol=RTOL_ANALYTIC,
    )
    expect_array(call, array, expected, rtol=rtol, hint=hint)


@points(3)
def test_layer_gradient_norms_match_reference(submission, rng):
    """layer_gradient_norms gives ||d(h_L.sum())/dW_l|| for l = 1..L, first layer first."""
    x, weights = _network(rng, [5, 7, 4, 6, 3], n=6)
    _check_norms(submission, x, weights, _sin_network_norms(x, weights), RTOL_ANALYTIC)


@points(2)
def test_layer_gradient_norms_match_finite_differences(submission, rng):
    """layer_gradient_norms agrees with centred differences of the loss h_L.sum()."""
    x, weights = _network(rng, [3, 4, 2, 3], n=2)

    def loss(layer: int, W: np.ndarray) -> float:
        changed = [W if k == layer else weights[k] for k in range(len(weights))]
        return float(_forward(x, changed, np.sin)[1][-1].sum())

    numeric = np.array(
        [
            np.linalg.norm(numeric_gradient(lambda W, k=k: loss(k, W), weights[k]))
            for k in range(len(weights))
        ]
    )
    _check_norms(submission, x, weights, numeric, RTOL_GRADIENT)


@points(1)
def test_layer_gradient_norms_single_layer(submission, rng):
    """layer_gradient_norms works for one layer: ||x.T @ activation_derivative(x @ W_1)||."""
    x, weights = _network(rng, [4, 3], n=5)
    _check_norms(submission, x, weights, _sin_network_norms(x, weights), RTOL_ANALYTIC)


# --------------------------------------------------------------------------------------
# Inputs unchanged: one shared check per function (common.unchanged_check)
# --------------------------------------------------------------------------------------


def _elementwise_inputs(**kwargs) -> Callable[[np.random.Generator], Inputs]:
    """``inputs(rng)`` for an elementwise function: z of shape (4, 6), with ``kwargs``."""

    def inputs(rng: np.random.Generator) -> Inputs:
        z = rng.normal(scale=3.0, size=(4, 6))
        return Inputs(
            {"z": z},
            dict(kwargs),
            lambda call, answer: expect_finite_array(call + _shape_note(z), answer, z.shape),
        )

    return inputs


def _softmax_inputs(rng: np.random.Generator) -> Inputs:
    z = rng.normal(scale=3.0, size=(2, 3, 4))
    return Inputs(
        {"z": z},
        {"axis": 1},
        lambda call, answer: expect_finite_array(call + _shape_note(z), answer, z.shape),
    )


def _layer_gradient_norms_inputs(rng: np.random.Generator) -> Inputs:
    x, weights = _network(rng, [5, 7, 4, 3], n=6)
    return Inputs(
        {"x": x, "weights": weights, "activation": NumpyFunc("sin"),
         "activation_derivative": NumpyFunc("cos")},
        {},
        lambda call, answer: expect_finite_array(call, answer, (len(weights),)),
        call=_norms_call(x, weights),
    )  # fmt: skip


test_sigmoid_does_not_modify_input = unchanged_check("sigmoid", _elementwise_inputs())
test_sigmoid_derivative_does_not_modify_input = unchanged_check(
    "sigmoid_derivative", _elementwise_inputs()
)
test_tanh_does_not_modify_input = unchanged_check("tanh", _elementwise_inputs())
test_tanh_derivative_does_not_modify_input = unchanged_check(
    "tanh_derivative", _elementwise_inputs()
)
test_relu_does_not_modify_input = unchanged_check("relu", _elementwise_inputs())
test_relu_derivative_does_not_modify_input = unchanged_check(
    "relu_derivative", _elementwise_inputs()
)
test_leaky_relu_does_not_modify_input = unchanged_check(
    "leaky_relu", _elementwise_inputs(negative_slope=0.2)
)
test_leaky_relu_derivative_does_not_modify_input = unchanged_check(
    "leaky_relu_derivative", _elementwise_inputs(negative_slope=0.2)
)
test_softmax_does_not_modify_input = unchanged_check("softmax", _softmax_inputs)
test_layer_gradient_norms_does_not_modify_inputs = unchanged_check(
    "layer_gradient_norms", _layer_gradient_norms_inputs
)
