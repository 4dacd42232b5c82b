"""Known mistakes and correct alternatives of ``activations`` (see :mod:`autograder.cases`)."""

import numpy as np

from autograder.cases import Alternative, Mistake

MISTAKES = [
    Mistake(
        "sigmoid_exp_ratio_overflows",
        "sigmoid",
        edits=[
            ("e = np.exp(-np.abs(z))  # in (0, 1]: never overflows", "e = np.exp(z)"),
            ("np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))", "e / (1 + e)"),
        ],
        words="nan",
    ),
    Mistake(
        "sigmoid_derivative_s_times_one_minus_z",
        "sigmoid_derivative",
        edits=[("s * (1.0 - s)", "s * (1.0 - z)")],
        words="sigmoid(z) * (1 - sigmoid(z))",
    ),
    Mistake(
        "sigmoid_derivative_z_times_one_minus_z",
        "sigmoid_derivative",
        edits=[("s * (1.0 - s)", "z * (1.0 - z)")],
        words="not z",
    ),
    Mistake(
        "sigmoid_derivative_unstable_formula",
        "sigmoid_derivative",
        source="def sigmoid_derivative(z):\n    e = np.exp(-z)\n    return e / (1 + e) ** 2\n",
        words="NaN or infinite",
    ),
    Mistake(
        "tanh_textbook_formula_overflows",
        "tanh",
        edits=[
            (
                "np.tanh(np.asarray(z, dtype=float))",
                "(np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))",
            )
        ],
        words="np.tanh",
    ),
    Mistake(
        "tanh_derivative_one_minus_z_squared",
        "tanh_derivative",
        edits=[("1.0 - t**2", "1.0 - z**2")],
        words="1 - tanh(z)**2",
        sample=True,
    ),
    Mistake(
        "relu_modifies_input",
        "relu",
        source="def relu(z):\n    z[z < 0] = 0\n    return z\n",
        words="modified its argument",
    ),
    Mistake(
        "relu_derivative_returns_relu",
        "relu_derivative",
        edits=[("(np.asarray(z, dtype=float) > 0).astype(float)", "np.maximum(z, 0)")],
        words="not relu(z)",
    ),
    Mistake(
        "leaky_relu_ignores_negative_slope",
        "leaky_relu",
        edits=[("negative_slope * z)", "0.01 * z)")],
        words="negative_slope",
    ),
    Mistake(
        "leaky_relu_modifies_input",
        "leaky_relu",
        source=(
            "def leaky_relu(z, negative_slope=0.01):\n"
            "    z[z < 0] *= negative_slope\n"
            "    return z\n"
        ),
        words="modified its argument",
    ),
    Mistake(
        "leaky_relu_derivative_zero_for_negatives",
        "leaky_relu_derivative",
        edits=[("np.where(z > 0, 1.0, negative_slope)", "np.where(z > 0, 1.0, 0.0)")],
        words="not 0",
    ),
    Mistake(
        "leaky_relu_derivative_ignores_negative_slope",
        "leaky_relu_derivative",
        edits=[("np.where(z > 0, 1.0, negative_slope)", "np.where(z > 0, 1.0, 0.01)")],
        words="`negative_slope` (the argument",
    ),
    Mistake(
        "softmax_ignores_axis",
        "softmax",
        edits=[("axis=axis", "axis=-1")],
        words="along axis 0",
    ),
    Mistake(
        "softmax_always_axis_0",
        "softmax",
        edits=[("axis=axis", "axis=0")],
        words="sum along",
    ),
    Mistake(
        "softmax_over_whole_array",
        "softmax",
        edits=[
            ("z.max(axis=axis, keepdims=True)", "np.max(z)"),
            ("e.sum(axis=axis, keepdims=True)", "np.sum(e)"),
        ],
        words="range from",
    ),
    Mistake(
        "softmax_without_max_subtraction",
        "softmax",
        edits=[("z - z.max(axis=axis, keepdims=True)  # a new array: z is untouched", "z")],
        words="overflows",
    ),
    Mistake(
        "softmax_subtracts_global_max",
        "softmax",
        edits=[("z.max(axis=axis, keepdims=True)", "np.max(z)")],
        words="global maximum",
    ),
    Mistake(
        "softmax_subtracts_in_place",
        "softmax",
        edits=[
            (
                "shifted = z - z.max(axis=axis, keepdims=True)  # a new array: z is untouched",
                "z -= z.max(axis=axis, keepdims=True)\n    shifted = z",
            )
        ],
        words="modified its argument",
    ),
    Mistake(
        "layer_gradient_norms_reversed",
        "layer_gradient_norms",
        edits=[("return norms", "return norms[::-1]")],
        words="reverse order",
    ),
    Mistake(
        "layer_gradient_norms_forgets_derivative",
        "layer_gradient_norms",
        edits=[
            ("delta = activation_derivative(pre[-1])", "delta = np.ones_like(pre[-1])"),
            (" * activation_derivative(pre[l - 1])", ""),
        ],
        words="ignore activation_derivative",
    ),
    Mistake(
        "layer_gradient_norms_forgets_output_derivative",
        "layer_gradient_norms",
        edits=[("delta = activation_derivative(pre[-1])", "delta = np.ones_like(pre[-1])")],
        words="not ones",
    ),
    Mistake(
        "layer_gradient_norms_derivative_of_activation",
        "layer_gradient_norms",
        edits=[
            ("activation_derivative(pre[-1])", "activation_derivative(hs[-1])"),
            ("activation_derivative(pre[l - 1])", "activation_derivative(hs[l])"),
        ],
        words="pre-activation",
    ),
    Mistake(
        "layer_gradient_norms_squared",
        "layer_gradient_norms",
        edits=[("np.sqrt(np.sum(grad_W**2))", "np.sum(grad_W**2)")],
        words="squared norms",
    ),
    Mistake(
        "layer_gradient_norms_skips_first_layer",
        "layer_gradient_norms",
        edits=[("return norms", "return norms[1:]")],
        words="shape (L,)",
    ),
]

ALTERNATIVES = [
    Alternative(
        "boolean_masks_and_heaviside",
        """
def relu(z):
    return z * (z > 0)


def relu_derivative(z):
    return np.heaviside(z, 0.0)


def leaky_relu(z, negative_slope=0.01):
    out = np.array(z, dtype=float)  # a copy
    out[out < 0] *= negative_slope
    return out


def leaky_relu_derivative(z, negative_slope=0.01):
    positive = (z > 0).astype(float)
    return positive + negative_slope * (1.0 - positive)
""",
    ),
    Alternative(
        "tanh_based_sigmoid_and_exp_based_tanh",
        """
def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def sigmoid_derivative(z):
    return 0.25 * (1.0 - np.tanh(0.5 * z) ** 2)


def tanh(z):
    with np.errstate(over="ignore"):
        return 1.0 - 2.0 / (np.exp(2.0 * z) + 1.0)


def tanh_derivative(z):
    with np.errstate(over="ignore"):
        return 1.0 / np.cosh(z) ** 2
""",
    ),
    Alternative(
        "textbook_sigmoid_that_warns_on_overflow",
        """
def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def tanh_derivative(z):
    return 1 - np.tanh(z) ** 2
""",
    ),
    Alternative(
        "log_sum_exp_softmax",
        """
def softmax(z, axis=-1):
    m = np.max(z, axis=axis, keepdims=True)
    log_norm = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))
    return np.exp(z - log_norm)
""",
    ),
    Alternative(
        "row_by_row_loops_and_lists",
        """
import math


def _softmax_1d(row):
    row = row - max(row)
    e = np.exp(row)
    return e / e.sum()


def softmax(z, axis=-1):
    return np.apply_along_axis(_softmax_1d, axis, z)


def _sigmoid_scalar(t):
    if t >= 0:
        return 1.0 / (1.0 + math.exp(-t))
    e = math.exp(t)
    return e / (1.0 + e)


def sigmoid(z):
    return np.vectorize(_sigmoid_scalar, otypes=[float])(z)


def layer_gradient_norms(x, weights, activation, activation_derivative):
    activations = [x]
    pre_activations = []
    for W in weights:
        pre_activations.append(activations[-1] @ W)
        activations.append(activation(pre_activations[-1]))
    gradients = [None] * len(weights)
    delta = activation_derivative(pre_activations[-1]) * np.ones(activations[-1].shape)
    for l in reversed(range(len(weights))):
        gradients[l] = np.einsum("ni,nj->ij", activations[l], delta)
        if l > 0:
            delta = np.dot(delta, weights[l].T) * activation_derivative(pre_activations[l - 1])
    norms = []
    for g in gradients:
        total = 0.0
        for value in g.ravel():
            total += value * value
        norms.append(math.sqrt(total))
    return norms
""",
    ),
    Alternative(
        "python_floats_and_numpy_scalars",
        """
def relu(z):
    out = np.maximum(z, 0.0)
    return out.tolist() if np.ndim(out) else float(out)


def sigmoid_derivative(z):
    s = sigmoid(z)
    out = s - s * s
    return out[()] if np.ndim(out) == 0 else out


def leaky_relu(z, negative_slope=0.01):
    return np.maximum(z, 0.0) + negative_slope * np.minimum(z, 0.0)
""",
    ),
]

_Z = np.linspace(-1.0, 1.0, 4)
CALLS = {
    "sigmoid": (_Z,),
    "sigmoid_derivative": (_Z,),
    "tanh": (_Z,),
    "tanh_derivative": (_Z,),
    "relu": (_Z,),
    "relu_derivative": (_Z,),
    "leaky_relu": (_Z,),
    "leaky_relu_derivative": (_Z,),
    "softmax": (_Z,),
    "layer_gradient_norms": (np.ones((2, 3)), [np.ones((3, 3))], np.tanh, np.cos),
}
