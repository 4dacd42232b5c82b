"""Shared helpers for the hidden checks: points, messages, tolerances, gradients.

A check is a pytest test function ``test_<function>_<property>(submission, rng)``
in ``autograder/checks/<assignment>.py``:

* ``submission`` (:class:`autograder.submission.Submission`) calls the student's
  functions across the sandbox boundary and returns plain data;
* ``rng`` is a ``np.random.Generator`` seeded from the run's seed and the test's
  name, so inputs change between runs but repeat within one.

It carries its points with ``@points(n)`` and fails with :func:`fail`, whose
message is shown to the student as is. Messages say what was called, what came
back, what was expected of it and give a hint, but never the hidden expected
values. A ``SubmissionError`` raised by a call (missing function, not
implemented, exception, time-out) fails the check with its own message.

No points for nothing. A check that leaves the inputs unchanged gives its points only
to a well-formed answer (:func:`expect_unmodified` takes the answer and the value
checks' own expectation of it), and a check that takes a statistic of what a student
returned (a mean, a maximum, an error, a count) takes it over entries the grader
chose, after requiring them finite (:func:`expect_finite_array`,
:func:`expect_finite_number`); its comparisons are written to fail on NaN
(``not error <= tol``, never ``error > tol``).

Example:
    >>> @points(2)
    ... def test_double_values(submission, rng):
    ...     '''double(x) returns 2 x.'''
    ...     x = rng.normal(size=(3, 4))
    ...     got = submission.call("double", x)
    ...     expect_array("double(x)", got, 2 * x, hint="Multiply by 2.")
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import numpy as np
import pytest

from autograder.channel import Generator, NumpyFunc, StudentFunc  # noqa: F401 (re-exported)

#: Relative error allowed for analytic float64 values: a correct formula written
#: differently (another order of operations, a stable rewrite) lands near 1e-12,
#: a wrong formula at 1e-2 or more.
RTOL_ANALYTIC = 1e-7
#: Relative error allowed between an analytic gradient and centred finite
#: differences with step 1e-5 (CS231n: below 1e-7 is excellent; kinks and
#: float64 cancellation can reach 1e-6).
RTOL_GRADIENT = 1e-5


def points(n: float) -> pytest.MarkDecorator:
    """Give a check ``n`` points."""
    return pytest.mark.points(n)


#: Marks a check that trains a model (``@trains``): it takes seconds, not milliseconds,
#: and the kit's tests run the mistakes only it catches among their slow tests.
trains = pytest.mark.trains


class CheckFailure(AssertionError):
    """A check failed; the message is written for the student."""


def fail(message: str) -> None:
    """Fail the current check with ``message`` (shown to the student)."""
    raise CheckFailure(message)


def describe(value: Any) -> str:
    """A short description of a returned value that reveals no hidden data."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, bool | np.bool_):
        return f"the boolean {value}"
    if isinstance(value, int | float | np.number):
        return f"the number {value!r}"
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of length {len(value)}"
    if isinstance(value, dict):
        return f"a dict with keys {sorted(value)}"
    return f"a value of type {type(value).__name__}"


def rel_error(received: Any, expected: Any) -> float:
    """Largest elementwise relative error, as in CS231n: |x - y| / max(1e-8, |x| + |y|)."""
    x = np.asarray(received, dtype=float)
    y = np.asarray(expected, dtype=float)
    if x.size == 0:
        return 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))
    err = np.where(np.isnan(x) != np.isnan(y), np.inf, err)
    err = np.where(np.isnan(x) & np.isnan(y), 0.0, err)
    return float(np.max(err))


def how_far_off(received: Any, expected: Any) -> str:
    """How far ``received`` is from ``expected``, in words a student reads at once.

    The words come from the ratio of their sizes (Euclidean norms), whether they point
    the same way, and the relative difference ``||received - expected|| / ||expected||``:
    "about half the expected size", "about 3x the expected value", "of the expected size,
    but with the wrong sign", "off by about 10% of the expected value", "close, with tiny but
    not zero differences (about 1e-04 of the expected size)". They never give the expected
    values themselves. A single number is a "value", an array has a "size".

    Args:
        received: what the student's function returned (numbers of ``expected``'s shape).
        expected: the reference answer (stays in the grader).

    Returns:
        A phrase that completes "the answer is ...".

    Example:
        >>> how_far_off(np.array([1.0, 2.0]), np.array([2.0, 4.0]))
        'about half the expected size'
        >>> how_far_off(-3.0, 1.0)
        'about 3x the expected value, with the wrong sign'
        >>> how_far_off(1.1, 1.0)
        'off by about 10% of the expected value'
    """
    x = np.asarray(received, dtype=float).ravel()
    y = np.asarray(expected, dtype=float).ravel()
    kind = "value" if y.size == 1 else "size"
    if not np.all(np.isfinite(x)):
        return "not finite: it holds NaN or infinity"
    size_x, size_y = float(np.linalg.norm(x)), float(np.linalg.norm(y))
    if size_y == 0.0:
        return "not zero, where every expected entry is 0"
    if size_x == 0.0:
        return "all zeros"
    difference = float(np.linalg.norm(x - y)) / size_y
    ratio = size_x / size_y
    # Same or opposite direction within 2.6 degrees: the answer is a multiple of the right one.
    cosine = float(np.dot(x, y)) / (size_x * size_y)
    if difference < 1e-3:
        return (
            f"close, with tiny but not zero differences (about {difference:.0e} of the "
            f"expected {kind})"
        )
    if cosine < -0.999:
        if 0.95 <= ratio <= 1.05:
            if kind == "size":
                return "of the expected size, but with the wrong sign"
            return "the expected value with the wrong sign"
        return f"{_times(ratio)} the expected {kind}, with the wrong sign"
    if cosine > 0.999 and not 0.8 <= ratio <= 1.25:
        return f"{_times(ratio)} the expected {kind}"
    if difference < 1.0:
        return f"off by about {100 * difference:.2g}% of the expected {kind}"
    return f"far off: the difference is about {difference:.2g}x the expected {kind}"


def _times(ratio: float) -> str:
    """``ratio`` in words: "about half", "about a third of", "about 1/10 of", "about twice",
    "about 3x"."""
    # 4%: "half" for 0.48 to 0.52, and never two names for one ratio.
    for n in range(2, 21):
        if abs(ratio * n - 1.0) <= 0.04:
            return {2: "about half", 3: "about a third of", 4: "about a quarter of"}.get(
                n, f"about 1/{n} of"
            )
        if abs(ratio / n - 1.0) <= 0.04:
            return "about twice" if n == 2 else f"about {n}x"
    return f"about {ratio:.2g}x"


def diagnose(
    received: Any, variants: Iterable[tuple[Any, str]], default: str = "", *, rtol: float = 1e-6
) -> str:
    """The hint of the first known mistake whose answer ``received`` reproduces, else ``default``.

    Each variant is ``(answer, hint)``: what a known wrong version of the function
    returns on the check's inputs (computed by the grader's reference with the
    mistake put in; a zero-argument callable is computed only when reached), and the
    hint that names that mistake. Shapes must agree and values match within ``rtol``.

    Args:
        received: what the student's function returned (any value; a non-array never
            matches).
        variants: ``(answer or callable, hint)`` pairs, most specific first.
        default: the hint when no variant matches.
        rtol: largest relative error (:func:`rel_error`) at which a variant matches.

    Example:
        >>> x = np.array([1.0, 2.0])
        >>> diagnose(x[::-1], [(x, "Add b."), (lambda: x[::-1], "Reversed.")], "Check it.")
        'Reversed.'
    """
    try:
        got = np.asarray(received, dtype=float)
    except (TypeError, ValueError):
        return default
    for answer, hint in variants:
        if callable(answer):
            answer = answer()
        answer = np.asarray(answer, dtype=float)
        if got.shape == answer.shape and rel_error(got, answer) <= rtol:
            return hint
    return default


def as_float_array(call: str, value: Any, *, hint: str = "") -> np.ndarray:
    """Return ``value`` as a float array or fail with a message about ``call``."""
    if isinstance(value, np.ndarray | int | float | np.number | list | tuple) and not isinstance(
        value, bool | np.bool_
    ):
        try:
            array = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            array = None
        if array is not None:
            return array
    fail(f"`{call}` returned {describe(value)}; expected numbers. {hint}".strip())
    raise AssertionError  # unreachable, for type checkers


def expect_shape(call: str, value: Any, shape: tuple, *, hint: str = "") -> np.ndarray:
    """Fail unless ``value`` is an array of exactly ``shape``; return it as floats."""
    array = as_float_array(call, value, hint=hint)
    if array.shape != tuple(shape):
        fail(
            f"`{call}` returned {describe(np.asarray(value))}; expected shape {tuple(shape)}. "
            f"{hint}".strip()
        )
    return array


def expect_finite(call: str, value: Any, *, hint: str = "") -> np.ndarray:
    """Fail if ``value`` holds NaN or infinity; return it as floats."""
    array = as_float_array(call, value, hint=hint)
    if not np.all(np.isfinite(array)):
        n_bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        fail(f"`{call}` returned {n_bad} NaN or infinite value(s). {hint}".strip())
    return array


#: Keras computes in float32: its softmax rows sum to 1 within about 1e-7. 1e-4 leaves
#: room for that and still rejects any output that is not a probability distribution
#: (a linear, relu or sigmoid output).
ATOL_PROBABILITY_SUM = 1e-4


def expect_probability_rows(call: str, value: Any, *, hint: str = "") -> np.ndarray:
    """Fail unless ``value`` holds probabilities along its last axis; return it as floats.

    Each row must be non-negative and sum to 1 (a softmax output).

    Example:
        >>> expect_probability_rows("model.predict(x)", [[0.25, 0.75]])
        array([[0.25, 0.75]])
    """
    p = expect_finite(call, value, hint=hint)
    sums = p.sum(axis=-1)
    if np.any(p < 0) or not np.all(np.abs(sums - 1.0) <= ATOL_PROBABILITY_SUM):
        fail(
            f"`{call}` gave rows that sum to values between {sums.min():.3g} and "
            f"{sums.max():.3g} (smallest entry {p.min():.3g}); expected probabilities, each "
            f"row non-negative and summing to 1. {hint}".strip()
        )
    return p


def expect_array(
    call: str,
    received: Any,
    expected: Any,
    *,
    rtol: float = RTOL_ANALYTIC,
    hint: str = "",
) -> np.ndarray:
    """Fail unless ``received`` matches ``expected`` in shape and values.

    The message gives the shape and how far off the answer is (:func:`how_far_off`) but
    never the expected values.

    Args:
        call: the call as the student would write it, e.g. ``"softmax(z, axis=0)"``.
        received: what the student's function returned.
        expected: the reference answer (stays in the grader).
        rtol: largest relative error accepted (see ``RTOL_ANALYTIC``).
        hint: a sentence that helps the student find the mistake.

    Returns:
        ``received`` as a float array.
    """
    expected = np.asarray(expected, dtype=float)
    array = expect_shape(call, received, expected.shape, hint=hint)
    error = rel_error(array, expected)
    if not error <= rtol:
        n_wrong = _count_wrong(array, expected, rtol)
        fail(
            f"`{call}` returned values that are not correct: {n_wrong} of {expected.size} "
            f"entries are off, and the whole array is {how_far_off(array, expected)}. "
            f"{hint}".strip()
        )
    return array


def expect_number(
    call: str, received: Any, expected: float, *, rtol: float = RTOL_ANALYTIC, hint: str = ""
) -> float:
    """Fail unless ``received`` is a single number close to ``expected``."""
    array = as_float_array(call, received, hint=hint)
    if array.size != 1 or array.ndim > 1:
        fail(f"`{call}` returned {describe(received)}; expected a single number. {hint}".strip())
    value = float(array.reshape(()))
    error = rel_error(value, expected)
    if not error <= rtol:
        fail(
            f"`{call}` returned {value:.6g}, which is not correct: it is "
            f"{how_far_off(value, expected)}. {hint}".strip()
        )
    return value


def _count_wrong(received: np.ndarray, expected: np.ndarray, rtol: float) -> int:
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(received - expected) / np.maximum(1e-8, np.abs(received) + np.abs(expected))
    return int(np.count_nonzero(~(err <= rtol)))


def expect_finite_array(call: str, value: Any, shape: tuple, *, hint: str = "") -> np.ndarray:
    """Fail unless ``value`` is an array of exactly ``shape`` with no NaN or infinity.

    The shape comes first, so a wrong shape gets the shape's message. Returns the
    array as floats.
    """
    return expect_finite(call, expect_shape(call, value, shape, hint=hint), hint=hint)


def expect_finite_number(call: str, value: Any, *, hint: str = "") -> float:
    """Fail unless ``value`` is one finite number (a 0-d or 1-element array passes); return it."""
    array = expect_finite(call, value, hint=hint)
    if array.size != 1 or array.ndim > 1:
        fail(f"`{call}` returned {describe(value)}; expected a single number. {hint}".strip())
    return float(array.reshape(()))


def expect_unmodified(
    call: str,
    before: dict[str, Any],
    after: dict[str, Any],
    *,
    answer: Any,
    well_formed: Callable[[Any], object],
    hint: str = "",
) -> None:
    """Fail unless the call returned a well-formed answer and left every named argument unchanged.

    Leaving the inputs alone is only worth points in a function that does its job:
    a stub that returns ``None``, an array of the wrong shape or NaN modifies nothing
    either. ``well_formed(answer)`` runs the expectations the function's value checks
    use on what it returned (its type and shape, finite where it must be), and fails
    with their message; only then are the arguments compared.

    Args:
        call: the call as the student would write it.
        before: the arguments the grader sent, by name.
        after: the same arguments as they were after the call.
        answer: what the call returned.
        well_formed: fails (with :func:`fail`) unless ``answer`` is a well-formed answer,
            e.g. ``lambda answer: expect_finite_array(call, answer, z.shape)``.
        hint: what to do instead, in place of the advice to work on a copy.

    Example:
        >>> z = np.ones(3)
        >>> expect_unmodified("relu(z)", {"z": z}, {"z": z.copy()}, answer=None,  # doctest: +ELLIPSIS
        ...     well_formed=lambda answer: expect_finite_array("relu(z)", answer, z.shape))
        Traceback (most recent call last):
        ...
        autograder.checks.common.CheckFailure: `relu(z)` returned a value of type NoneType; ...
    """
    try:
        well_formed(answer)
    except CheckFailure as error:
        fail(
            f"{error} That answer is not well formed, so whether `{call}` modified its inputs "
            "does not count: this check gives its points only with the answer the docstring "
            "asks for."
        )
    for name, value in before.items():
        if not _same(value, after[name]):
            advice = hint or (
                "Work on a copy (e.g. `x = x.copy()` or `x = x - ...` instead of `x -= ...`)."
            )
            fail(f"`{call}` modified its argument `{name}` in place. {advice}")


def _is_pandas(value: Any) -> bool:
    """A pandas DataFrame or Series (pandas is not imported for it)."""
    return type(value).__module__.startswith("pandas") and hasattr(value, "equals")


def _same(a: Any, b: Any) -> bool:
    if _is_pandas(a) or _is_pandas(b):
        return type(a) is type(b) and bool(a.equals(b)) and list(a.axes[-1]) == list(b.axes[-1])
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


class Inputs(NamedTuple):
    """One call of an "inputs unchanged" check (see :func:`unchanged_check`).

    Attributes:
        args: the positional arguments, by the parameter names of the curriculum's
            signature, in order (``{"X": X, "w": w, "b": b}``).
        kwargs: keyword arguments (``{"axis": 1}``).
        well_formed: ``well_formed(call, answer)`` fails (with :func:`fail`) unless the
            answer is what the docstring asks for, with the expectations of the
            function's value checks (shape, type, finite).
        call: the call as messages write it; by default ``function(X, w, b, axis=1)``.
        hint: what to do instead, in place of the advice to work on a copy.
    """

    args: dict[str, Any]
    kwargs: dict[str, Any]
    well_formed: Callable[[str, Any], object]
    call: str = ""
    hint: str = ""


def holds_data(value: Any) -> bool:
    """Whether a call could change ``value`` in place: an array, a pandas object, or a
    dict, list or tuple holding one (a number, a string or a marker cannot change)."""
    if isinstance(value, np.ndarray) or _is_pandas(value):
        return True
    if isinstance(value, dict):
        return any(holds_data(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(holds_data(item) for item in value)
    return False


def _call_text(function: str, inputs: Inputs) -> str:
    """``function(X, w, b, axis=1)``: data arguments by name, other keywords by value."""
    words = list(inputs.args)
    for name, value in inputs.kwargs.items():
        words.append(f"{name}={name}" if holds_data(value) else f"{name}={value!r}")
    return f"{function}({', '.join(words)})"


def expect_inputs_unchanged(submission, function: str, inputs: Inputs) -> None:
    """Call ``function`` on ``inputs``; fail unless its answer is well formed and every
    argument that holds data (arrays, pandas objects, dicts of arrays) is unchanged.

    The arguments as they were after the call come from the submission's process
    (:meth:`~autograder.submission.Submission.call_keep_args`), which is believed only
    after it told the truth about the grader's canary.

    Example:
        >>> from autograder.submission import LocalSubmission
        >>> def scale(x):
        ...     x *= 2
        ...     return x
        >>> z = np.ones(3)
        >>> expect_inputs_unchanged(LocalSubmission({"scale": scale}), "scale",
        ...     Inputs({"x": z}, {}, lambda call, answer: expect_finite_array(call, answer, (3,))))
        Traceback (most recent call last):
        ...
        autograder.checks.common.CheckFailure: `scale(x)` modified its argument `x` in place. ...
    """
    call = inputs.call or _call_text(function, inputs)
    answer, args_after, kwargs_after = submission.call_keep_args(
        function, *inputs.args.values(), **inputs.kwargs
    )
    given = {**inputs.args, **inputs.kwargs}
    n_args = len(inputs.args)
    args_after = (tuple(args_after or ()) + (None,) * n_args)[:n_args]
    kwargs_after = kwargs_after if isinstance(kwargs_after, dict) else {}
    after = {**dict(zip(inputs.args, args_after, strict=True)), **kwargs_after}
    expect_unmodified(
        call,
        {name: value for name, value in given.items() if holds_data(value)},
        {name: after.get(name) for name in given},
        answer=answer,
        well_formed=lambda got: inputs.well_formed(call, got),
        hint=inputs.hint,
    )


def unchanged_check(
    function: str,
    inputs: Callable[[np.random.Generator], Inputs | list[Inputs]],
    *,
    doc: str = "",
) -> Callable:
    """A 1-point check that ``function`` leaves its inputs unchanged, for a checks module.

    The curriculum asks every numpy function not to modify its inputs; every
    assignment checks it this one way. Write it as one top-level assignment named
    after the function, which the registry reads like a ``def``:

        test_predict_does_not_modify_inputs = unchanged_check("predict", _predict_inputs)

    Args:
        function: the student function.
        inputs: ``inputs(rng)`` draws this run's arguments: one :class:`Inputs` or a
            list of them (each is one call). One with a parameter ``submission`` gets it
            too, for an argument only the student's code makes (backprop's ``cache``).
        doc: the check's docstring (what the student must make true); by default
            "``function`` leaves its arguments unchanged".

    Returns:
        The check, with ``@points(1)``; its attribute ``unchanged`` is
        ``(function, inputs)``, for the kit's tests.
    """

    wants_submission = "submission" in inspect.signature(inputs).parameters

    def check(submission, rng):
        drawn = inputs(rng, submission=submission) if wants_submission else inputs(rng)
        for one in drawn if isinstance(drawn, list) else [drawn]:
            expect_inputs_unchanged(submission, function, one)

    check.__doc__ = doc or f"{function} leaves its arguments unchanged (no in-place changes)."
    check.__name__ = check.__qualname__ = f"test_{function}_does_not_modify_inputs"
    check.unchanged = (function, inputs)
    return points(1)(check)


def numeric_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Centred finite differences ``(f(x + h e_i) - f(x - h e_i)) / 2h`` (runs in the grader)."""
    x = np.array(x, dtype=float, copy=True)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        plus = f(x)
        x[index] = old - h
        minus = f(x)
        x[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad


def report_metric(
    submission, name: str, value: float, *, threshold: float, higher_is_better: bool
) -> bool:
    """Record a measured figure (an accuracy, an error) beside its threshold.

    The figure goes into ``results.json`` (``extra_data.metrics``) for the
    instructor's records and the kit's benchmarks; it is the student's own
    model's result, never a hidden expected value.

    Returns:
        Whether ``value`` meets ``threshold``.
    """
    value = float(value)
    passed = value >= threshold if higher_is_better else value <= threshold
    submission.metrics[name] = {
        "value": value,
        "threshold": float(threshold),
        "higher_is_better": higher_is_better,
        "passed": passed,
    }
    return passed


class PartialCredit(CheckFailure):
    """A check gave part of its points: ``fraction`` of them, strictly between 0 and 1.

    The runner (:mod:`autograder.scoring`) scores the check ``fraction`` times its points;
    the message, shown as is, says why (what was measured, against what).
    """

    def __init__(self, fraction: float, message: str) -> None:
        super().__init__(message)
        self.fraction = float(fraction)


def partial(fraction: float, message: str) -> None:
    """End the current check with ``fraction`` of its points and ``message``.

    A fraction of 1 or more passes silently (full points); 0 or less, or NaN, fails
    (no points); anything between raises :class:`PartialCredit`.

    Example:
        >>> partial(0.5, "Half way.")
        Traceback (most recent call last):
        ...
        autograder.checks.common.PartialCredit: Half way.
    """
    fraction = float(fraction)
    if fraction >= 1.0:
        return
    if not fraction > 0.0:
        fail(message)
    raise PartialCredit(fraction, message)
