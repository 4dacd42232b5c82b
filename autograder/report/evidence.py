"""What the report reads: a course's graded submissions of one assignment, with their times.

Everything comes from files and the gradebook that the grader wrote, never from a
student's process: ``autograded/<student>/<assignment>/results.json`` (the grader's
results, flags included), ``submitted/<student>/<assignment>/`` (what was handed in,
and nbgrader's ``timestamp.txt``), and nbgrader's gradebook (the roster, due dates,
lateness and the late penalties it applied). A file that cannot be read is kept as
such, with its reason, and never stops the report.
"""

from __future__ import annotations

import datetime
import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from autograder.registry import REGISTRY
from autograder.results import Results


@dataclass
class Submission:
    """One student's submission of one assignment, as the grader left it.

    Args:
        student: the student's id (its folder's name).
        results: the grader's results; ``None`` when its file could not be read.
        error: why the results could not be read (empty when they could).
        handed_in: whether a notebook was handed in (the batch grades a folder without
            one as 0, saying so).
        notebook: the handed-in notebook, if it is still in ``submitted/``.
        timestamp: when it was handed in (nbgrader's timestamp), if known.
        seconds_late: seconds after the due date (0 when on time or unknown).
        penalty: the late penalty in points the gradebook applied (``None``: none).
    """

    student: str
    results: Results | None = None
    error: str = ""
    handed_in: bool = True
    notebook: Path | None = None
    timestamp: datetime.datetime | None = None
    seconds_late: float = 0.0
    penalty: float | None = None

    @property
    def graded(self) -> bool:
        """Whether it counts in the statistics: handed in, and its results were read."""
        return self.handed_in and self.results is not None


@dataclass
class AssignmentEvidence:
    """One assignment of a course: its submissions and the students who handed in nothing.

    Args:
        assignment: the assignment's id.
        submissions: by student id, sorted.
        missing: students of the roster with no submission, or a folder without a notebook.
        due: the due date in the gradebook, if any.
        gradebook: whether a gradebook was read (else lateness and the roster are unknown).
        template: the released notebook students started from, if found.
    """

    assignment: str
    submissions: dict[str, Submission] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    due: datetime.datetime | None = None
    gradebook: bool = False
    template: Path | None = None

    @property
    def graded(self) -> list[Submission]:
        """The submissions the statistics count, by student."""
        return [s for s in self.submissions.values() if s.graded]

    @property
    def unreadable(self) -> list[Submission]:
        """Submissions whose results file could not be read."""
        return [s for s in self.submissions.values() if s.results is None]


def _visible(path: Path) -> bool:
    return path.is_dir() and not path.name.startswith(".")


def course_assignments(course: Path, roster: _Gradebook | None = None) -> list[str]:
    """Every assignment the course knows: in its gradebook, ``source/``, ``autograded/``.

    The kit's assignments first (in the registry's order), then the others by name.
    """
    found: set[str] = set()
    for folder in ("source", "submitted"):
        if (course / folder).is_dir():
            if folder == "source":
                found |= {p.name for p in (course / folder).iterdir() if _visible(p)}
            else:
                found |= {a.name for s in (course / folder).iterdir() if _visible(s)
                          for a in s.iterdir() if _visible(a)}  # fmt: skip
    if (course / "autograded").is_dir():
        found |= {a.name for s in (course / "autograded").iterdir() if _visible(s)
                  for a in s.iterdir() if _visible(a)}  # fmt: skip
    if roster is not None:
        found |= set(roster.assignments)
    order = {name: i for i, name in enumerate(REGISTRY.ids())}
    return sorted(found, key=lambda name: (order.get(name, len(order)), name))


@dataclass
class _Gradebook:
    """What the report takes from nbgrader's gradebook, read once."""

    students: list[str]
    assignments: list[str]
    due: dict[str, datetime.datetime | None]
    #: (student, assignment) -> (timestamp, seconds late, penalty)
    submissions: dict[tuple[str, str], tuple[datetime.datetime | None, float, float | None]]


def read_gradebook(course: Path) -> _Gradebook | None:
    """The roster, due dates, times and penalties of the course's gradebook (``None``: none).

    Only an existing sqlite file, or a database named in the course's config, is read;
    one that cannot be opened is reported by the caller as "no gradebook".
    """
    from autograder.gradebook import CourseGradebook

    config = course / "nbgrader_config.py"
    if not config.exists():
        return None
    try:
        book = CourseGradebook.of(course)
        if book.db_url.startswith("sqlite:///") and not Path(book.db_url[10:]).exists():
            return None
        from nbgrader.api import Gradebook

        with warnings.catch_warnings(), Gradebook(book.db_url, book.course_id) as gb:
            warnings.simplefilter("ignore")
            students = sorted(s.id for s in gb.students)
            assignments = [a.name for a in gb.assignments]
            due = {a.name: a.duedate for a in gb.assignments}
            submissions = {}
            for assignment in gb.assignments:
                for sub in assignment.submissions:
                    penalties = [
                        n.late_submission_penalty
                        for n in sub.notebooks
                        if n.late_submission_penalty is not None
                    ]
                    submissions[(sub.student.id, assignment.name)] = (
                        sub.timestamp,
                        float(sub.total_seconds_late or 0.0),
                        float(sum(penalties)) if penalties else None,
                    )
    except Exception:  # a broken or foreign database: the report goes on without it
        return None
    return _Gradebook(students, assignments, due, submissions)


def _timestamp(folder: Path) -> datetime.datetime | None:
    """nbgrader's ``timestamp.txt`` in ``folder``, parsed as nbgrader does."""
    path = folder / "timestamp.txt"
    if not path.is_file():
        return None
    try:
        from nbgrader.utils import parse_utc

        return parse_utc(path.read_text().strip())
    except Exception:  # an unreadable stamp: the time is unknown
        return None


def _read_results(path: Path) -> tuple[Results | None, str]:
    try:
        results = Results.from_gradescope(json.loads(path.read_text(encoding="utf-8")))
        numbers = [
            results.execution_time,
            *(n for c in results.checks for n in (c.score, c.max_score)),
        ]
        if not all(math.isfinite(number) for number in numbers):
            return None, "holds a score or a time that is not a finite number"
        return results, ""
    except (OSError, UnicodeDecodeError) as error:
        return None, f"could not be read: {error}"
    except json.JSONDecodeError as error:
        return None, f"is not valid JSON ({error})"
    except ValueError as error:  # "not a results.json document: ..."
        return None, f"is {error}" if str(error).startswith("not ") else str(error)


def _template(course: Path, assignment: str) -> Path | None:
    """The released notebook: the course's release folder, else the kit's own."""
    for root in (course / "assignments", course / "release"):
        path = root / assignment / f"{assignment}.ipynb"
        if path.is_file():
            return path
    try:
        path = REGISTRY.assignment(assignment).notebook("released", REGISTRY.package_dir.parent)
    except ValueError:  # not one of the kit's assignments
        return None
    return path if path.is_file() else None


def load_assignment(
    course: Path, assignment: str, gradebook: _Gradebook | None = None
) -> AssignmentEvidence:
    """Read one assignment's submissions, results, times and penalties from ``course``.

    Args:
        course: the course directory (with ``autograded/`` and, usually, ``submitted/``).
        assignment: the assignment's id.
        gradebook: the course's gradebook as :func:`read_gradebook` read it, if any.

    Returns:
        What the report needs; students of the roster (or of ``submitted/``) without a
        notebook are in ``missing``.

    Example:
        >>> load_assignment(Path("demo-course"), "rbm").graded  # doctest: +SKIP
        [Submission(student='ada', ...), ...]
    """
    course = Path(course)
    evidence = AssignmentEvidence(assignment, gradebook=gradebook is not None)
    evidence.template = _template(course, assignment)
    if gradebook is not None:
        evidence.due = gradebook.due.get(assignment)
    students: set[str] = set(gradebook.students) if gradebook else set()
    for root in ("submitted", "autograded"):
        if (course / root).is_dir():
            students |= {s.name for s in (course / root).iterdir() if _visible(s / assignment)}
    for student in sorted(students):
        submitted = course / "submitted" / student / assignment
        graded = course / "autograded" / student / assignment
        results_path = graded / "results.json"
        if not submitted.is_dir() and not graded.is_dir():
            evidence.missing.append(student)
            continue
        notebooks = sorted(submitted.glob("*.ipynb")) if submitted.is_dir() else []
        named = submitted / f"{assignment}.ipynb"
        notebook = named if named.is_file() else (notebooks[0] if len(notebooks) == 1 else None)
        submission = Submission(student, notebook=notebook)
        if results_path.exists():
            submission.results, submission.error = _read_results(results_path)
        else:
            submission.error = "has not been graded yet (no results.json)"
        if submission.results is not None:
            submission.handed_in = submission.results.extra.get("handed_in", True) is not False
        elif not results_path.exists() and submitted.is_dir():
            submission.handed_in = notebook is not None  # else: handed in, not graded yet
        if not submission.handed_in:
            evidence.missing.append(student)
        recorded = gradebook.submissions.get((student, assignment)) if gradebook else None
        if recorded is not None:
            submission.timestamp, submission.seconds_late, submission.penalty = recorded
        else:
            submission.timestamp = _timestamp(submitted) or _timestamp(graded)
            if submission.timestamp is not None and evidence.due is not None:
                late = (submission.timestamp - evidence.due).total_seconds()
                submission.seconds_late = max(late, 0.0)
        evidence.submissions[student] = submission
    return evidence
