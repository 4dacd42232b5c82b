"""Shared fixtures: one graded run of each course notebook, reused across tests."""

from __future__ import annotations

import multiprocessing
import random
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from autograder.grade import grade_notebook
from autograder.registry import assignment_ids

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = [a for a in list(assignment_ids()) if (ROOT / "source" / a / f"{a}.ipynb").exists()]


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
    """Each solution notebook graded three times, each run with its own random seed."""
    seeds = random.Random().sample(range(2**31), 3)
    runs = [("solutions", a, seed) for a in ASSIGNMENTS for seed in seeds]
    documents = iter(_grade_all(runs))
    return {assignment: [next(documents) for _ in seeds] for assignment in ASSIGNMENTS}


@pytest.fixture(scope="session")
def graded_released() -> dict[str, dict]:
    """Each released (stub) notebook graded once."""
    documents = _grade_all([("assignments", a, None) for a in ASSIGNMENTS])
    return dict(zip(ASSIGNMENTS, documents, strict=True))
