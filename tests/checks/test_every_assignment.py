"""What holds for every assignment's hidden checks, whatever the assignment."""

from __future__ import annotations

import importlib.util
import re

import numpy as np
import pandas as pd
import pytest

from autograder.scoring import check_module_path, function_of, graded_functions
from tests.conftest import ASSIGNMENTS
from tests.harness import GRADER_FAULT, reference, released, score


def _check_names(assignment: str) -> set[str]:
    """The names of the checks defined in the assignment's check module."""
    spec = importlib.util.spec_from_file_location(
        f"_every_{assignment}", check_module_path(assignment)
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {name for name in vars(module) if name.startswith("test_")}


#: Assignments with checks that call an earlier function first (backprop's backward
#: check runs forward), so a stub's message may name that one instead.
CALLS_EARLIER_FUNCTIONS = {"backprop"}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_points_total_and_check_names(assignment):
    functions = list(graded_functions(assignment))
    results = score(assignment, {}, 0)  # nothing defined: every check fails fast
    assert set(results) == _check_names(assignment)  # the learning checks included
    total = sum(r.max_score for r in results.values())
    assert 15 <= total <= 30
    for name, result in results.items():
        assert function_of(name, functions) is not None, name
        assert "is not defined in your notebook" in result.output, (name, result.output)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_stub_gets_zero_with_not_implemented_messages(assignment):
    functions = list(graded_functions(assignment))
    results = score(assignment, released(assignment), seed=3)
    assert set(results) == _check_names(assignment)
    for name, result in results.items():
        assert result.score == 0, name
        assert "not implemented yet" in result.output, (name, result.output)
        own = functions.index(function_of(name, functions))
        if assignment in CALLS_EARLIER_FUNCTIONS:
            named = [f for f in functions[: own + 1] if f"`{f}`" in result.output]
            assert named, (name, result.output)
        else:
            assert f"`{functions[own]}`" in result.output, (name, result.output)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebook_solution_cells_define_every_function(assignment):
    namespace = reference(assignment)
    for function in graded_functions(assignment):
        assert callable(namespace.get(function)), function


# ---------------------------------------------------------------------------
# No points for nothing: None, NaN, and NaN everywhere but one entry. The namespaces
# are the reference's, with the functions under test wrapped, scored in-process.
# ---------------------------------------------------------------------------


def _is_keras_builder(function: str) -> bool:
    """A model builder (``build_*``) or a Keras layer class (CamelCase): judged in a task.

    Every other graded function takes and returns numpy arrays (or pandas objects).
    """
    return function.startswith("build_") or function[:1].isupper()


#: Which entries of each array a NaN answer keeps: none, the first (an answer that is
#: NaN everywhere but in one entry), or the zeros (NaN in place of every nonzero entry,
#: which a test ``x != 0`` takes for nonzero).
KEPT = ("none", "first", "zeros")


def _nan_like(value, kept: str):
    """``value`` with its numbers NaN but those ``kept`` keeps, each array keeping its shape.

    Arrays of booleans or integers (and pandas objects) become float arrays; other
    objects pass unchanged.
    """
    if isinstance(value, pd.DataFrame):
        values = _nan_like(value.to_numpy(dtype=float), kept)
        return pd.DataFrame(values, index=value.index, columns=value.columns)
    if isinstance(value, pd.Series):
        values = _nan_like(value.to_numpy(dtype=float), kept)
        return pd.Series(values, index=value.index, name=value.name)
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        nan = np.full(value.shape, np.nan, dtype=value.dtype if value.dtype.kind == "f" else float)
        if kept == "first" and value.size > 1:
            nan.flat[0] = value.flat[0]
        elif kept == "zeros":
            nan[value == 0] = 0.0
        return nan
    if isinstance(value, dict):
        return {key: _nan_like(item, kept) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return type(value)(_nan_like(item, kept) for item in value)
    if isinstance(value, float | int | np.number) and not isinstance(value, bool | np.bool_):
        return 0.0 if kept == "zeros" and value == 0 else float("nan")
    return value


def _returning_nan(function, kept: str):
    def nan_answer(*args, **kwargs):
        return _nan_like(function(*args, **kwargs), kept)

    return nan_answer


def _returning_none(*args, **kwargs):
    return None


#: (assignment, function) for every numpy function of every assignment.
NUMPY_FUNCTIONS = [
    (a, f) for a in ASSIGNMENTS for f in graded_functions(a) if not _is_keras_builder(f)
]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_functions_returning_none_score_zero_on_every_check(assignment):
    """Stubs that return None earn nothing, the does-not-modify checks included, and say why."""
    namespace = reference(assignment)
    for function in graded_functions(assignment):
        namespace[function] = _returning_none
    results = score(assignment, namespace, seed=4)
    assert set(results) == _check_names(assignment)
    earned = {name: r.output for name, r in results.items() if r.score != 0}
    assert not earned, earned
    functions = list(graded_functions(assignment))
    for name, result in results.items():
        assert result.output.strip(), name
        assert GRADER_FAULT not in result.output, (name, result.output)
        if "_not_modify_" in name:  # says why leaving the inputs alone earned nothing
            own = functions.index(function_of(name, functions))
            earlier = [f for f in functions[:own] if re.search(rf"`{f}[`(]", result.output)]
            assert "does not count" in result.output or (
                assignment in CALLS_EARLIER_FUNCTIONS and earlier
            ), (name, result.output)


@pytest.mark.parametrize("kept", KEPT)
@pytest.mark.parametrize(("assignment", "function"), NUMPY_FUNCTIONS)
def test_function_returning_nan_scores_zero_on_its_checks(assignment, function, kept):
    """A numpy function whose answer has the right shape but holds NaN (everywhere, or but
    in one entry of each array, or in place of every nonzero entry) earns nothing on its
    checks: none takes a statistic over what the answer left finite, none passes on NaN."""
    namespace = reference(assignment)
    namespace[function] = _returning_nan(namespace[function], kept)
    results = score(assignment, namespace, seed=6, only=function)
    assert results, f"no check of {function}"
    earned = {name: r.output for name, r in results.items() if r.score != 0}
    assert not earned, earned
    for name, result in results.items():
        assert GRADER_FAULT not in result.output, (name, result.output)
