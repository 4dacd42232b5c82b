"""Shared fixtures: one graded run of each course notebook, reused across tests.

With ``AUTOGRADER_BACKEND_SUITE=full`` (``make test-backends``, on every backend) or
``quick`` (``make test``, on JAX) the run keeps only what a Keras backend decides: the Keras notebooks graded end
to end (once each), the Keras assignments' check tables, the judge and the tasks, and
the devices' tests. :func:`pytest_collection_modifyitems` chooses them.
"""

from __future__ import annotations

import multiprocessing
import os
import random
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from autograder.grade import grade_notebook
from autograder.registry import assignment_ids

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = [a for a in list(assignment_ids()) if (ROOT / "source" / a / f"{a}.ipynb").exists()]
#: The assignments whose notebooks use Keras (the rest are numpy alone).
KERAS_ASSIGNMENTS = [
    a for a in ASSIGNMENTS if "import keras" in (ROOT / "source" / a / f"{a}.ipynb").read_text()
]
#: Whether this run is one Keras backend's suite (see the module's docstring): ``full``
#: (``make test-backends``), or ``quick`` (``make test``'s run on JAX, within CI's time;
#: see :data:`QUICK_LEAVES_OUT`).
BACKEND_SUITE = os.environ.get("AUTOGRADER_BACKEND_SUITE", "")
if BACKEND_SUITE not in ("", "full", "quick"):
    raise pytest.UsageError(f"AUTOGRADER_BACKEND_SUITE is full or quick, not {BACKEND_SUITE!r}")
if BACKEND_SUITE:
    ASSIGNMENTS = KERAS_ASSIGNMENTS
#: Graded runs of each solution notebook, each on a seed drawn for this run. One: every
#: check also runs in-process on the reference for three fixed seeds (test_every_assignment),
#: and the demo and the Gradescope bundles grade each solution again end to end.
SOLUTION_RUNS = 1
#: Test files that are wholly about Keras or devices, kept whole in a backend's suite.
BACKEND_FILES = {"test_judge.py", "test_tasks.py", "test_devices.py", "test_backends.py"}
#: Test files whose tests are kept in a backend's suite where they concern a Keras
#: assignment (by parameter) or concern none in particular.
TABLE_FILES = {"test_every_assignment.py", "test_common.py"}
#: Tests of those files about the whole course, not about a backend.
COURSE_TESTS = {"test_every_data_set_is_read_by_an_assignment"}
#: What the quick suite leaves out: every table entry that trains a model in-process
#: (mistakes, untrained models, alternatives, the references over seeds) and the Keras
#: assignments' own check tests. Each still runs on TensorFlow in the whole suite, and on
#: every backend in the full backend suite. The quick suite keeps the notebooks graded end
#: to end in the sandbox (solutions, released notebooks, blanked held-out rows), the judge,
#: the tasks, the devices and the tables' checks that train nothing.
QUICK_LEAVES_OUT = ("test_mistake", "test_a_model_that_does_not_learn", "test_builder_that",
                    "test_correct_alternative", "test_reference_", "test_function_returning",
                    "test_inputs_unchanged_check_passes")  # fmt: skip


def _for_a_backend(item) -> bool:
    name = item.path.name
    if item.originalname in COURSE_TESTS:
        return False
    marker = item.get_closest_marker("skip")
    if marker and str(marker.kwargs.get("reason", "")).startswith("got empty parameter set"):
        return False  # a table with no entry for the Keras assignments
    if BACKEND_SUITE == "quick" and item.originalname.startswith(QUICK_LEAVES_OUT):
        return False
    if name in BACKEND_FILES:
        return True
    if name.removeprefix("test_").removesuffix(".py") in KERAS_ASSIGNMENTS:
        return BACKEND_SUITE == "full"  # tests/checks/test_<keras assignment>.py
    params = getattr(item, "callspec", None)
    values = [v for v in params.params.values() if isinstance(v, str)] if params else []
    uses_graded = {"graded_solutions", "graded_released"} & set(item.fixturenames)
    named = [v for v in values if v in ASSIGNMENTS or v in assignment_ids()]
    if uses_graded:
        return not named or named[0] in KERAS_ASSIGNMENTS
    if name in TABLE_FILES:
        return not named or named[0] in KERAS_ASSIGNMENTS
    return False


def pytest_collection_modifyitems(config, items):
    """In a backend's suite, deselect what no Keras backend decides."""
    if not BACKEND_SUITE:
        return
    kept = [item for item in items if _for_a_backend(item)]
    dropped = [item for item in items if not _for_a_backend(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def notebook_path(kind: str, assignment: str) -> Path:
    """``solutions/<id>/<id>.ipynb`` or ``assignments/<id>/<id>.ipynb``."""
    return ROOT / kind / assignment / f"{assignment}.ipynb"


def _grade_all(runs: list[tuple[str, str, int | None]]) -> list[dict]:
    """Grade ``(kind, assignment, seed)`` runs two at a time, in processes of their own.

    Each grading is a whole grader (its own pytest run of the checks, its own sandbox),
    so two run side by side as two graders of a batch do.
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        futures = [
            pool.submit(_grade_one, str(notebook_path(kind, assignment)), seed)
            for kind, assignment, seed in runs
        ]
        return [future.result() for future in futures]


def _grade_one(path: str, seed: int | None) -> dict:
    return grade_notebook(path, seed=seed).to_gradescope()


@pytest.fixture(scope="session")
def graded_solutions() -> dict[str, list[dict]]:
    """Each solution notebook graded :data:`SOLUTION_RUNS` times, on seeds drawn per run."""
    seeds = random.Random().sample(range(2**31), SOLUTION_RUNS)
    runs = [("solutions", a, seed) for a in ASSIGNMENTS for seed in seeds]
    documents = iter(_grade_all(runs))
    return {assignment: [next(documents) for _ in seeds] for assignment in ASSIGNMENTS}


@pytest.fixture(scope="session")
def graded_released() -> dict[str, dict]:
    """Each released (stub) notebook graded once."""
    documents = _grade_all([("assignments", a, None) for a in ASSIGNMENTS])
    return dict(zip(ASSIGNMENTS, documents, strict=True))
