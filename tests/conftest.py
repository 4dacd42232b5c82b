"""Shared fixtures: one graded run of each course notebook, reused across tests."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from autograder.grade import grade_notebook
from autograder.scoring import available_assignments

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = [a for a in available_assignments() if (ROOT / "source" / a / f"{a}.ipynb").exists()]


def notebook_path(kind: str, assignment: str) -> Path:
    """``solutions/<id>/<id>.ipynb`` or ``assignments/<id>/<id>.ipynb``."""
    return ROOT / kind / assignment / f"{assignment}.ipynb"


@pytest.fixture(scope="session")
def graded_solutions() -> dict[str, list[dict]]:
    """Each solution notebook graded three times, each run with its own random seed."""
    seeds = random.Random().sample(range(2**31), 3)
    return {
        assignment: [
            grade_notebook(notebook_path("solutions", assignment), seed=seed) for seed in seeds
        ]
        for assignment in ASSIGNMENTS
    }


@pytest.fixture(scope="session")
def graded_released() -> dict[str, dict]:
    """Each released (stub) notebook graded once."""
    return {
        assignment: grade_notebook(notebook_path("assignments", assignment))
        for assignment in ASSIGNMENTS
    }
