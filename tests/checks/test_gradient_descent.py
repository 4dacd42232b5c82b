"""What the hidden checks of ``gradient_descent`` must do beyond the generic suite.

The reference, the stubs, the table's mistakes and alternatives
(``autograder/cases/gradient_descent.py``) are tried by ``test_every_assignment.py``;
here: the notebook's docstring examples and solution cells,
that every failed check of a mistake's function names that function, and that no
message reveals a value the checks expected (only what the student's functions returned).
"""

from __future__ import annotations

import doctest
import functools
import re

import nbformat
import numpy as np
import pytest

from autograder import cases, registry
from autograder.scoring import run_checks
from tests.harness import (
    FLOAT_RUN,
    GRADER_FAULT,
    ROOT,
    RecordingSubmission,
    failed_checks_of,
    mistaken,
    reference,
)

ASSIGNMENT = "gradient_descent"
SOURCE = ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
FUNCTIONS = registry.assignment(ASSIGNMENT).functions
MISTAKES = [m.id for m in cases.load(ASSIGNMENT).mistakes]


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


# ---------------------------------------------------------------------------
# Every check run on each of the table's mistakes, with the calls the checks made.
# ---------------------------------------------------------------------------


@functools.cache
def _every_check_on(mistake_id: str) -> tuple[dict, list]:
    """The results of all checks on a mistake and the calls they made (runs once)."""
    submission = RecordingSubmission(mistaken(ASSIGNMENT, mistake_id))
    results = run_checks(ASSIGNMENT, submission)
    return {r.name: r for r in results}, submission.calls


@pytest.mark.parametrize("mistake_id", MISTAKES)
def test_every_failed_check_of_a_mistakes_function_names_it(mistake_id):
    function = cases.load(ASSIGNMENT).mistake(mistake_id).function
    failed = failed_checks_of(_every_check_on(mistake_id)[0], function, FUNCTIONS)
    assert failed, f"no check of {function} caught {mistake_id}"
    for result in failed:
        assert GRADER_FAULT not in result.output, result.output
        assert f"`{function}" in result.output, result.output


def _renderings_in(message: str, values) -> list[str]:
    """Renderings of ``values`` (as a message might format them) that ``message`` contains."""
    found = []
    for value in np.ravel(np.asarray(values, dtype=float)):
        for text in {f"{value:.3g}", f"{value:.4g}", f"{value:.6g}", f"{value:.3f}", repr(value)}:
            digits = sum(ch.isdigit() for ch in text)
            if digits >= 3 and re.search(rf"(?<![\d.]){re.escape(text)}(?!\d)", message):
                found.append(text)
    return found


@pytest.mark.parametrize("mistake_id", MISTAKES)
def test_mistake_messages_reveal_no_expected_values(mistake_id):
    """No failed check, of any function, prints an array or a value the reference gives."""
    results, calls = _every_check_on(mistake_id)
    messages = "\n".join(r.output for r in results.values() if not r.passed)
    assert not FLOAT_RUN.search(messages), messages
    solution = reference(ASSIGNMENT)
    # A message may quote what the student's function returned, even where that happens to
    # be a right value of another quantity (a loss one step late); never anything else.
    returned = set()
    for _, _, result in calls:
        for part in result if isinstance(result, tuple | list) else (result,):
            returned.update(_renderings_in(messages, part))
    for function, args, _ in calls:
        expected = solution[function](*args)
        for part in expected if isinstance(expected, tuple) else (expected,):
            leaked = set(_renderings_in(messages, part)) - returned
            assert not leaked, (function, leaked, messages)
