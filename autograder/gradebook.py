"""Write grades into nbgrader's gradebook, so formgrader, feedback and export work.

Each hidden check ``test_<function>_<property>`` lands on the grade cell
``test_<function>`` of the assignment's notebook (the visible test cell of that
function, whose points are the sum of its checks' points). Only the automatic
score is written: a grader's manual override in formgrader survives a regrade.
The gradebook is nbgrader's own (sqlite by default, any SQLAlchemy URL, such as
PostgreSQL, through ``c.CourseDirectory.db_url`` in ``nbgrader_config.py``).
"""

from __future__ import annotations

import datetime
import fcntl
import os
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import AssignLatePenalties
from sqlalchemy.exc import OperationalError, SAWarning
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from autograder.registry import function_of
from autograder.results import Results

#: Attempts at a write that another grader holds a lock against (sqlite).
WRITE_ATTEMPTS = 20


def _tools_on_path() -> None:
    """nbgrader runs ``alembic`` and ``nbgrader`` from PATH: put this Python's tools there."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def course_config(course: Path) -> Config:
    """The course's nbgrader configuration (``nbgrader_config.py`` in ``course``)."""
    path = course / "nbgrader_config.py"
    config = Config()
    if path.exists():
        config.merge(PyFileConfigLoader(path.name, path=str(course)).load_config())
    config.CourseDirectory.root = str(course.resolve())
    return config


@dataclass(frozen=True)
class CourseGradebook:
    """Where a course's grades go: its database URL, course id and late-penalty rules."""

    course: Path
    db_url: str
    course_id: str
    config: Config

    @classmethod
    def of(cls, course: str | Path) -> CourseGradebook:
        _tools_on_path()
        course = Path(course).resolve()
        config = course_config(course)
        coursedir = CourseDirectory(config=config)
        return cls(course, coursedir.db_url, coursedir.course_id, config)

    def timestamp(self, submission_dir: Path) -> datetime.datetime | None:
        """The submission's time from nbgrader's ``timestamp.txt``, if present."""
        coursedir = CourseDirectory(config=self.config)
        return coursedir.get_existing_timestamp(str(submission_dir))

    def ensure_assignment(self, assignment: str) -> None:
        """Add the assignment with its notebooks and grade cells when the gradebook lacks it.

        nbgrader records them on ``nbgrader generate_assignment``, which this runs
        once for a missing assignment. Graders on this machine take turns here (a
        lock file in the course), so two of them never create the database at once.
        """
        with open(self.course / ".autograder.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._ensure_assignment(assignment)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _ensure_assignment(self, assignment: str) -> None:
        with Gradebook(self.db_url, self.course_id) as gb:
            try:
                if gb.find_assignment(assignment).notebooks:
                    return
            except MissingEntry:
                pass
        nbgrader = Path(sys.executable).with_name("nbgrader")
        subprocess.run(
            [str(nbgrader), "generate_assignment", assignment, "--force", "--log-level=ERROR"],
            cwd=self.course,
            check=True,
            capture_output=True,
        )

    def record(
        self,
        *,
        student: str,
        assignment: str,
        results: Results | dict[str, Any],
        timestamp: datetime.datetime | None = None,
    ) -> dict[str, float]:
        """Store one submission's check results as the auto scores of its grade cells.

        Idempotent: recording the same results again changes nothing. Retries while
        another process holds the database locked.

        Returns:
            The auto score written to each grade cell, by cell name.
        """
        for attempt in range(WRITE_ATTEMPTS):
            try:
                return self._record(student, assignment, results, timestamp)
            except OperationalError:
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
                time.sleep(min(0.05 * 2**attempt, 2.0))
        raise AssertionError("unreachable")

    def _record(self, student, assignment, results, timestamp) -> dict[str, float]:
        with warnings.catch_warnings(), Gradebook(self.db_url, self.course_id) as gb:
            # nbgrader's own session handling warns on every new submission; harmless.
            warnings.simplefilter("ignore", SAWarning)
            gb.update_or_create_student(student)
            kwargs = {"timestamp": timestamp} if timestamp is not None else {}
            submission = gb.update_or_create_submission(assignment, student, **kwargs)
            written: dict[str, float] = {}
            for notebook in submission.notebooks:
                cells = {grade.cell.name: grade for grade in notebook.grades}
                scores = grade_cell_scores(results, {n: g.max_score for n, g in cells.items()})
                for name, grade in cells.items():
                    grade.auto_score = scores.get(name, 0.0)
                    grade.needs_manual_grade = grade.manual_score is not None
                    written[name] = grade.auto_score
                gb.db.commit()
                self._late_penalty(gb, student, assignment, notebook.name)
            return written

    def _late_penalty(self, gb: Gradebook, student: str, assignment: str, notebook: str) -> None:
        """nbgrader's own rule: the configured late plugin decides the penalty.

        The plugin is ``c.AssignLatePenalties.plugin_class`` (nbgrader's
        ``LateSubmissionPlugin`` unless the course names another), as for ``nbgrader autograde``.
        """
        submission = gb.find_submission(assignment, student)
        submitted = gb.find_submission_notebook(notebook, assignment, student)
        submitted.late_submission_penalty = None
        if submission.total_seconds_late > 0:
            plugin = AssignLatePenalties(config=self.config).plugin_class(config=self.config)
            penalty = plugin.late_submission_penalty(
                student, submitted.score, submission.total_seconds_late
            )
            if penalty is not None:
                submitted.late_submission_penalty = min(max(penalty, 0.0), submitted.score)
        gb.db.commit()


def grade_cell_scores(
    results: Results | dict[str, Any], cells: dict[str, float]
) -> dict[str, float]:
    """Sum each function's check scores onto its grade cell ``test_<function>``.

    Args:
        results: a Gradescope results document.
        cells: the notebook's grade cells, name to max score.

    Returns:
        The score of each grade cell (capped at its max score).

    Example:
        >>> doc = {"tests": [{"name": "test_relu_values", "score": 1.0},
        ...                  {"name": "test_relu_derivative_values", "score": 2.0}]}
        >>> grade_cell_scores(doc, {"test_relu": 1.0, "test_relu_derivative": 2.0})
        {'test_relu': 1.0, 'test_relu_derivative': 2.0}
    """
    functions = [name.removeprefix("test_") for name in cells if name.startswith("test_")]
    scores = {name: 0.0 for name in cells}
    for check in Results.of(results).checks:
        function = function_of(check.name, functions)
        cell = f"test_{function}"
        if function is not None and cell in scores:
            scores[cell] += check.score
    return {name: min(score, cells[name]) for name, score in scores.items()}
