"""Tests of the hidden checks of `activations` against the reference, stubs, mistakes and
correct alternatives."""

from __future__ import annotations

import functools
import importlib
import re

import numpy as np
import pytest

from autograder.channel import resolve_markers
from autograder.scoring import run_checks
from autograder.submission import LocalSubmission
from tests.harness import GRADER_FAULT, reference, released, score

ASSIGNMENT = "activations"
FUNCTIONS = [
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
]

# Several mistakes overflow on purpose (np.exp(1e4)); their warnings are expected.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def checks_of(results: dict, function: str) -> list:
    """Results of the checks named after ``function`` exactly.

    ``test_sigmoid_`` is also the prefix of ``test_sigmoid_derivative_``, so the checks
    of a longer function name that starts with ``function`` are left out.
    """
    longer = [f for f in FUNCTIONS if f != function and f.startswith(function)]
    return [
        result
        for name, result in results.items()
        if name.startswith(f"test_{function}_")
        and not any(name.startswith(f"test_{other}_") for other in longer)
    ]


def stub_namespace() -> dict:
    """The released notebook's functions: stubs."""
    return released(ASSIGNMENT)


# --------------------------------------------------------------------------------------
# Common mistakes: (id, function, source, a phrase the helpful message should contain).
# --------------------------------------------------------------------------------------

MUTANTS = [
    (
        "sigmoid_exp_ratio_overflows",
        "sigmoid",
        """
def sigmoid(z):
    return np.exp(z) / (1 + np.exp(z))
""",
        "nan",
    ),
    (
        "sigmoid_derivative_s_times_one_minus_z",
        "sigmoid_derivative",
        """
def sigmoid_derivative(z):
    return sigmoid(z) * (1 - z)
""",
        "sigmoid(z) * (1 - sigmoid(z))",
    ),
    (
        "sigmoid_derivative_z_times_one_minus_z",
        "sigmoid_derivative",
        """
def sigmoid_derivative(z):
    return z * (1 - z)
""",
        "not z",
    ),
    (
        "sigmoid_derivative_unstable_formula",
        "sigmoid_derivative",
        """
def sigmoid_derivative(z):
    e = np.exp(-z)
    return e / (1 + e) ** 2
""",
        "NaN or infinite",
    ),
    (
        "tanh_textbook_formula_overflows",
        "tanh",
        """
def tanh(z):
    return (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))
""",
        "np.tanh",
    ),
    (
        "tanh_derivative_one_minus_z_squared",
        "tanh_derivative",
        """
def tanh_derivative(z):
    return 1 - z**2
""",
        "1 - tanh(z)**2",
    ),
    (
        "relu_modifies_input",
        "relu",
        """
def relu(z):
    z[z < 0] = 0
    return z
""",
        "modified its argument",
    ),
    (
        "relu_derivative_returns_relu",
        "relu_derivative",
        """
def relu_derivative(z):
    return np.maximum(z, 0)
""",
        "not relu(z)",
    ),
    (
        "leaky_relu_ignores_negative_slope",
        "leaky_relu",
        """
def leaky_relu(z, negative_slope=0.01):
    return np.where(z > 0, z, 0.01 * z)
""",
        "negative_slope",
    ),
    (
        "leaky_relu_modifies_input",
        "leaky_relu",
        """
def leaky_relu(z, negative_slope=0.01):
    z[z < 0] *= negative_slope
    return z
""",
        "modified its argument",
    ),
    (
        "leaky_relu_derivative_zero_for_negatives",
        "leaky_relu_derivative",
        """
def leaky_relu_derivative(z, negative_slope=0.01):
    return np.where(z > 0, 1.0, 0.0)
""",
        "not 0",
    ),
    (
        "leaky_relu_derivative_ignores_negative_slope",
        "leaky_relu_derivative",
        """
def leaky_relu_derivative(z, negative_slope=0.01):
    return np.where(z > 0, 1.0, 0.01)
""",
        "`negative_slope` (the argument",
    ),
    (
        "softmax_ignores_axis",
        "softmax",
        """
def softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
""",
        "along axis 0",
    ),
    (
        "softmax_always_axis_0",
        "softmax",
        """
def softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)
""",
        "sum along",
    ),
    (
        "softmax_over_whole_array",
        "softmax",
        """
def softmax(z, axis=-1):
    e = np.exp(z - np.max(z))
    return e / np.sum(e)
""",
        "range from",
    ),
    (
        "softmax_without_max_subtraction",
        "softmax",
        """
def softmax(z, axis=-1):
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)
""",
        "overflows",
    ),
    (
        "softmax_subtracts_global_max",
        "softmax",
        """
def softmax(z, axis=-1):
    e = np.exp(z - np.max(z))
    return e / e.sum(axis=axis, keepdims=True)
""",
        "global maximum",
    ),
    (
        "softmax_subtracts_in_place",
        "softmax",
        """
def softmax(z, axis=-1):
    z -= z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)
""",
        "modified its argument",
    ),
    (
        "layer_gradient_norms_reversed",
        "layer_gradient_norms",
        """
def layer_gradient_norms(x, weights, activation, activation_derivative):
    hs, pre = [x], []
    for W in weights:
        pre.append(hs[-1] @ W)
        hs.append(activation(pre[-1]))
    delta = activation_derivative(pre[-1])
    norms = []
    for l in range(len(weights) - 1, -1, -1):
        norms.append(np.linalg.norm(hs[l].T @ delta))
        if l > 0:
            delta = (delta @ weights[l].T) * activation_derivative(pre[l - 1])
    return np.array(norms)
""",
        "reverse order",
    ),
    (
        "layer_gradient_norms_forgets_derivative",
        "layer_gradient_norms",
        """
def layer_gradient_norms(x, weights, activation, activation_derivative):
    hs = [x]
    for W in weights:
        hs.append(activation(hs[-1] @ W))
    delta = np.ones_like(hs[-1])
    norms = np.zeros(len(weights))
    for l in range(len(weights) - 1, -1, -1):
        norms[l] = np.linalg.norm(hs[l].T @ delta)
        delta = delta @ weights[l].T
    return norms
""",
        "ignore activation_derivative",
    ),
    (
        "layer_gradient_norms_forgets_output_derivative",
        "layer_gradient_norms",
        """
def layer_gradient_norms(x, weights, activation, activation_derivative):
    hs, pre = [x], []
    for W in weights:
        pre.append(hs[-1] @ W)
        hs.append(activation(pre[-1]))
    delta = np.ones_like(hs[-1])
    norms = np.zeros(len(weights))
    for l in range(len(weights) - 1, -1, -1):
        norms[l] = np.linalg.norm(hs[l].T @ delta)
        if l > 0:
            delta = (delta @ weights[l].T) * activation_derivative(pre[l - 1])
    return norms
""",
        "not ones",
    ),
    (
        "layer_gradient_norms_derivative_of_activation",
        "layer_gradient_norms",
        """
def layer_gradient_norms(x, weights, activation, activation_derivative):
    hs = [x]
    for W in weights:
        hs.append(activation(hs[-1] @ W))
    delta = activation_derivative(hs[-1])
    norms = np.zeros(len(weights))
    for l in range(len(weights) - 1, -1, -1):
        norms[l] = np.linalg.norm(hs[l].T @ delta)
        if l > 0:
            delta = (delta @ weights[l].T) * activation_derivative(hs[l])
    return norms
""",
        "pre-activation",
    ),
    (
        "layer_gradient_norms_squared",
        "layer_gradient_norms",
        """
def layer_gradient_norms(x, weights, activation, activation_derivative):
    hs, pre = [x], []
    for W in weights:
        pre.append(hs[-1] @ W)
        hs.append(activation(pre[-1]))
    delta = activation_derivative(pre[-1])
    norms = np.zeros(len(weights))
    for l in range(len(weights) - 1, -1, -1):
        norms[l] = np.sum((hs[l].T @ delta) ** 2)
        if l > 0:
            delta = (delta @ weights[l].T) * activation_derivative(pre[l - 1])
    return norms
""",
        "squared norms",
    ),
    (
        "layer_gradient_norms_skips_first_layer",
        "layer_gradient_norms",
        """
def layer_gradient_norms(x, weights, activation, activation_derivative):
    hs, pre = [x], []
    for W in weights:
        pre.append(hs[-1] @ W)
        hs.append(activation(pre[-1]))
    delta = activation_derivative(pre[-1])
    norms = []
    for l in range(len(weights) - 1, 0, -1):
        norms.insert(0, np.linalg.norm(hs[l].T @ delta))
        delta = (delta @ weights[l].T) * activation_derivative(pre[l - 1])
    return np.array(norms)
""",
        "shape (L,)",
    ),
]


# --------------------------------------------------------------------------------------
# Correct alternatives: each must get full marks.
# --------------------------------------------------------------------------------------

ALTERNATIVES = {
    "boolean_masks_and_heaviside": [
        """
def relu(z):
    return z * (z > 0)
""",
        """
def relu_derivative(z):
    return np.heaviside(z, 0.0)
""",
        """
def leaky_relu(z, negative_slope=0.01):
    out = np.array(z, dtype=float)  # a copy
    out[out < 0] *= negative_slope
    return out
""",
        """
def leaky_relu_derivative(z, negative_slope=0.01):
    positive = (z > 0).astype(float)
    return positive + negative_slope * (1.0 - positive)
""",
    ],
    "tanh_based_sigmoid_and_exp_based_tanh": [
        """
def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))
""",
        """
def sigmoid_derivative(z):
    return 0.25 * (1.0 - np.tanh(0.5 * z) ** 2)
""",
        """
def tanh(z):
    with np.errstate(over="ignore"):
        return 1.0 - 2.0 / (np.exp(2.0 * z) + 1.0)
""",
        """
def tanh_derivative(z):
    with np.errstate(over="ignore"):
        return 1.0 / np.cosh(z) ** 2
""",
    ],
    "textbook_sigmoid_that_warns_on_overflow": [
        """
def sigmoid(z):
    return 1 / (1 + np.exp(-z))
""",
        """
def tanh_derivative(z):
    return 1 - np.tanh(z) ** 2
""",
    ],
    "log_sum_exp_softmax": [
        """
def softmax(z, axis=-1):
    m = np.max(z, axis=axis, keepdims=True)
    log_norm = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))
    return np.exp(z - log_norm)
""",
    ],
    "row_by_row_loops_and_lists": [
        """
def _softmax_1d(row):
    row = row - max(row)
    e = np.exp(row)
    return e / e.sum()

def softmax(z, axis=-1):
    return np.apply_along_axis(_softmax_1d, axis, z)
""",
        """
import math

def _sigmoid_scalar(t):
    if t >= 0:
        return 1.0 / (1.0 + math.exp(-t))
    e = math.exp(t)
    return e / (1.0 + e)

def sigmoid(z):
    return np.vectorize(_sigmoid_scalar, otypes=[float])(z)
""",
        """
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
    ],
    "python_floats_and_numpy_scalars": [
        """
def relu(z):
    out = np.maximum(z, 0.0)
    return out.tolist() if np.ndim(out) else float(out)
""",
        """
def sigmoid_derivative(z):
    s = sigmoid(z)
    out = s - s * s
    return out[()] if np.ndim(out) == 0 else out
""",
        """
def leaky_relu(z, negative_slope=0.01):
    return np.maximum(z, 0.0) + negative_slope * np.minimum(z, 0.0)
""",
    ],
}


# --------------------------------------------------------------------------------------
# Runs, cached so that a namespace is graded once per test session.
# --------------------------------------------------------------------------------------


@functools.cache
def reference_results(seed: int) -> dict:
    return score(ASSIGNMENT, reference(ASSIGNMENT), seed=seed)


@functools.cache
def mutant_results(mutant_id: str) -> dict:
    source = next(m[2] for m in MUTANTS if m[0] == mutant_id)
    return score(ASSIGNMENT, reference(ASSIGNMENT, source), seed=11)


def _message_leaks_values(message: str) -> bool:
    """True for messages that print arrays or lists of numbers."""
    number = r"-?\d+\.?\d*(?:e[-+]?\d+)?"
    run_of_numbers = rf"{number}(?:[\s,]+{number}){{3,}}"
    return "array(" in message or re.search(rf"\[\s*{run_of_numbers}", message) is not None


# --------------------------------------------------------------------------------------
# Tests.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2024])
def test_reference_gets_full_marks(seed):
    results = reference_results(seed)
    failed = {name: r.output for name, r in results.items() if not r.passed}
    assert not failed
    assert all(checks_of(results, function) for function in FUNCTIONS)


def test_checks_have_points_and_docstrings():
    module = importlib.import_module(f"autograder.checks.{ASSIGNMENT}")
    checks = [getattr(module, name) for name in dir(module) if name.startswith("test_")]
    total = 0
    for check in checks:
        (marker,) = [m for m in check.pytestmark if m.name == "points"]
        n = marker.args[0]
        assert isinstance(n, int) and 1 <= n <= 3, check.__name__
        assert check.__doc__ and check.__doc__.strip(), check.__name__
        assert any(check.__name__.startswith(f"test_{f}_") for f in FUNCTIONS), check.__name__
        total += n
    assert 15 <= total <= 30


def test_released_stub_fails_every_check_as_not_implemented():
    results = score(ASSIGNMENT, stub_namespace(), seed=3)
    assert results
    for name, result in results.items():
        assert result.score == 0, name
        assert "not implemented yet" in result.output, (name, result.output)


@pytest.mark.parametrize(
    ("mutant_id", "function", "phrase"),
    [(m[0], m[1], m[3]) for m in MUTANTS],
    ids=[m[0] for m in MUTANTS],
)
def test_mistake_fails_a_check_of_its_function_with_a_helpful_message(mutant_id, function, phrase):
    results = mutant_results(mutant_id)
    failed = [r for r in checks_of(results, function) if not r.passed]
    assert failed, f"no check of {function} caught {mutant_id}"
    for result in results.values():
        assert GRADER_FAULT not in result.output, (result.name, result.output)
    messages = " | ".join(r.output for r in failed)
    assert phrase in messages, messages


@pytest.mark.parametrize("name", sorted(ALTERNATIVES))
def test_correct_alternative_gets_full_marks(name):
    results = score(ASSIGNMENT, reference(ASSIGNMENT, *ALTERNATIVES[name]), seed=5)
    failed = {check: r.output for check, r in results.items() if not r.passed}
    assert not failed


def test_messages_do_not_reveal_expected_values():
    for mutant_id, *_ in MUTANTS:
        for result in mutant_results(mutant_id).values():
            assert not _message_leaks_values(result.output), (mutant_id, result.output)


class RecordingSubmission(LocalSubmission):
    """A LocalSubmission that remembers every call the checks make."""

    def __init__(self, namespace: dict, seed: int = 0) -> None:
        super().__init__(namespace, seed)
        self.calls: list[tuple[str, tuple, dict]] = []

    def _call(self, function, args, kwargs, return_args):
        self.calls.append((function, args, kwargs))
        return super()._call(function, args, kwargs, return_args)


@pytest.mark.parametrize(
    "mutant_id",
    [
        "layer_gradient_norms_reversed",
        "sigmoid_derivative_s_times_one_minus_z",
        "leaky_relu_ignores_negative_slope",
        "softmax_always_axis_0",
    ],
)
def test_messages_do_not_contain_the_reference_answers(mutant_id):
    """The reference's answers to the checks' own inputs never appear in the messages."""
    function, source = next((m[1], m[2]) for m in MUTANTS if m[0] == mutant_id)
    submission = RecordingSubmission(reference(ASSIGNMENT, source), seed=7)
    results = {r.name: r for r in run_checks(ASSIGNMENT, submission)}
    messages = " ".join(r.output for r in checks_of(results, function) if not r.passed)
    assert messages
    solution = reference(ASSIGNMENT)
    expected_strings = set()
    for name, args, kwargs in submission.calls:
        if name != function:
            continue
        answer = solution[name](
            *resolve_markers(args, solution), **resolve_markers(kwargs, solution)
        )
        for value in np.ravel(answer):
            for text in (f"{value:.6g}", repr(float(value))):
                if len(text.strip("-0.").replace(".", "")) >= 4:  # 4+ significant digits
                    expected_strings.add(text)
    assert expected_strings
    leaked = sorted(text for text in expected_strings if text in messages)
    assert not leaked, (leaked, messages)


def test_message_leak_detector_flags_printed_arrays():
    assert _message_leaks_values("expected [0.1 0.25 0.5 0.75]")
    assert _message_leaks_values("got array([1.0, 2.0])")
    assert not _message_leaks_values("returned shape (4, 6); sums range from 0.5 to 2")
