"""The hidden checks run inside a Jupyter kernel, for ``nbgrader autograde``.

The source notebooks' visible test cells start with a hidden block::

    ### BEGIN HIDDEN TESTS
    from autograder.incell import publish_points
    publish_points("activations", "softmax", globals())
    ### END HIDDEN TESTS

``nbgrader generate_assignment`` strips it from the released notebook and
``nbgrader autograde`` puts it back, so ``nbgrader autograde`` runs the same
checks and gives the same points on honest submissions. The points are
published as the cell's first result, which nbgrader reads as partial credit.

This mode runs the checks in the student's own kernel, where a student can
patch ``builtins``, ``numpy`` or this module: ``autograder grade``, which runs
them outside a sandbox, is the grade to trust.
"""

from __future__ import annotations

import secrets
import sys
import warnings

import numpy as np

from autograder.scoring import function_of, graded_functions, run_checks
from autograder.submission import LocalSubmission


def points_for(assignment: str, function: str, namespace: dict) -> float:
    """Points the functions in ``namespace`` earn on ``function``'s hidden checks.

    Args:
        assignment: the assignment id.
        function: a student function of that assignment.
        namespace: the kernel's globals (where the student's functions live).

    Returns:
        The sum of the points of the checks named after ``function`` that pass.
    """
    functions = graded_functions(assignment)
    if function not in functions:
        raise ValueError(
            f"{function!r} is not graded in {assignment!r}; expected one of {functions}"
        )
    submission = LocalSubmission(namespace, seed=secrets.randbits(32))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        results = run_checks(
            assignment, submission, only=lambda name: function_of(name, functions) == function
        )
    return float(sum(result.score for result in results))


def publish_points(assignment: str, function: str, namespace: dict) -> float:
    """Compute :func:`points_for` and show it as the cell's result (nbgrader partial credit)."""
    points = points_for(assignment, function, namespace)
    sys.displayhook(points)
    return points
