"""`nbgrader autograde` on the same course gives the same points on honest submissions.

The source notebooks' visible test cells hold a hidden block that runs the same
checks in the student's kernel (autograder/incell.py), so an instructor who runs
nbgrader's own autograde gets the grades `autograder grade` gives — except where
a student cheats in the kernel, which only the sandboxed grader resists.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.batch import Batch, find_jobs
from autograder.sample_class import make_class, make_course
from autograder.sandbox import Limits
from tests.conftest import ROOT
from tests.test_batch import gradebook_dump

pytestmark = pytest.mark.slow

ASSIGNMENT = "activations"


def test_nbgrader_autograde_gives_the_same_points_on_honest_work(tmp_path):
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    make_course(ours, ROOT)
    kinds = make_class(ours, ROOT, [ASSIGNMENT], n_students=4)
    assert sorted(kinds.values()) == ["cheat", "honest", "mistake", "partial"]
    shutil.copytree(ours, theirs)
    Batch(ours, jobs=2, limits=Limits()).run(find_jobs(ours / "submitted"))
    nbgrader = Path(sys.executable).with_name("nbgrader")
    for command in ("generate_assignment", "autograde"):
        subprocess.run(
            [str(nbgrader), command, ASSIGNMENT, "--create", "--force", "--log-level=ERROR"],
            cwd=theirs, check=True, capture_output=True, timeout=600,
            env={"PATH": f"{nbgrader.parent}:/usr/bin:/bin", "HOME": str(theirs)},
        )  # fmt: skip
    our_grades, their_grades = gradebook_dump(ours), gradebook_dump(theirs)
    honest = {k: v for k, v in our_grades.items() if kinds[(k[0], ASSIGNMENT)] != "cheat"}
    assert honest and honest == {k: their_grades[k] for k in honest}
    partial = sum(v for (s, _, _), v in honest.items() if kinds[(s, ASSIGNMENT)] == "partial")
    assert partial > 0  # partial credit, cell by cell, in both
    # The cheat (a stub that rewrites the in-kernel checks' results) fools nbgrader's
    # in-kernel grading, not the sandboxed grader.
    cheat = {k for k in our_grades if kinds[(k[0], ASSIGNMENT)] == "cheat"}
    assert sum(our_grades[k] for k in cheat) == 0
    assert sum(their_grades[k] for k in cheat) == 30
