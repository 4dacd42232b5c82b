"""What holds for every assignment's hidden checks, whatever the assignment."""

from __future__ import annotations

import importlib.util

import pytest

from autograder.scoring import check_module_path, function_of, graded_functions
from tests.conftest import ASSIGNMENTS
from tests.harness import reference, released, score


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
