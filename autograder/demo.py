"""The main job: grade the course's own notebooks, then a whole sample class.

1. Every solution notebook must get full marks and every released notebook 0.
2. A generated class (honest, partly finished, mistaken, cheating, broken, late
   and missing submissions) is graded in batch into nbgrader's gradebook of a
   scratch course, ``demo-course/``; the grade CSV comes from ``nbgrader export``
   and a feedback page is written per student.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from nbgrader.api import Gradebook
from rich.console import Console
from rich.table import Table
from rich.text import Text

from autograder.batch import Batch, find_jobs
from autograder.feedback import write_feedback
from autograder.grade import grade_notebook
from autograder.gradebook import CourseGradebook
from autograder.registry import assignment_ids
from autograder.sample_class import make_class, make_course
from autograder.sandbox import Limits

#: Students in the demo class.
CLASS_SIZE = 8
DUE = "2026-11-22 23:59:00 UTC"


def course_notebooks(course: Path) -> list[tuple[str, str, Path]]:
    """``(assignment, kind, path)`` for each solution and released notebook of the course."""
    rows = []
    for assignment in list(assignment_ids()):
        for kind, folder in (("solution", "solutions"), ("released", "assignments")):
            path = course / folder / assignment / f"{assignment}.ipynb"
            if path.exists():
                rows.append((assignment, kind, path))
    return rows


def grade_course_notebooks(console: Console, course: Path) -> bool:
    """Grade solutions and released notebooks; True if each scores what it must."""
    table = Table(title="Hidden checks on the course's own notebooks")
    for column in ("assignment", "notebook", "score / max", "time", "sandbox"):
        table.add_column(column)
    ok = True
    for assignment, kind, path in course_notebooks(course):
        with console.status(f"grading {path} ..."):
            doc = grade_notebook(path, assignment=assignment)
        expected = doc.max_score if kind == "solution" else 0
        ok &= doc.score == expected
        style = "green" if doc.score == expected else "red"
        table.add_row(
            assignment,
            str(path.relative_to(course)),
            Text(f"{doc.score:g} / {doc.max_score:g}", style=style),
            f"{doc.execution_time:.1f} s",
            doc.extra.get("sandbox", "-"),
        )
    console.print(table)
    return ok


def _as_expected(kind: str, score: float, max_score: float) -> bool:
    if kind in ("honest", "late"):
        return score == max_score
    if kind in ("partial", "mistake"):
        return 0 < score < max_score
    return score == 0  # cheat, broken, missing


def grade_sample_class(console: Console, course_root: Path) -> bool:
    """Grade a generated class in batch; True if every kind of work scored as it should."""
    course = course_root / "demo-course"
    assignments = [a for a in list(assignment_ids()) if (course_root / "source" / a).is_dir()]
    make_course(course, course_root)
    kinds = make_class(course, course_root, assignments, CLASS_SIZE)
    book = CourseGradebook.of(course)
    for assignment in assignments:
        book.ensure_assignment(assignment)
        with Gradebook(book.db_url, book.course_id) as gb:
            gb.update_or_create_assignment(assignment, duedate=DUE)
    jobs = find_jobs(course / "submitted")
    console.print(f"\nGrading a sample class: {len(jobs)} submissions in {course} ...")
    outcomes = Batch(course, jobs=os.cpu_count() or 1, limits=Limits()).run(jobs, console)
    table = Table(title="The sample class, graded into nbgrader's gradebook")
    for column in ("student", "assignment", "submitted", "score / max", "time"):
        table.add_column(column)
    ok = True
    for outcome in sorted(outcomes, key=lambda o: (o.job.assignment, o.job.student)):
        kind = kinds[(outcome.job.student, outcome.job.assignment)]
        score, max_score = outcome.results.score, outcome.results.max_score
        expected = _as_expected(kind, score, max_score) and outcome.status != "failed"
        ok &= expected
        table.add_row(
            outcome.job.student,
            outcome.job.assignment,
            kind,
            Text(f"{score:g} / {max_score:g}", style="" if expected else "red"),
            f"{outcome.seconds:.1f} s",
        )
    console.print(table)
    nbgrader = Path(sys.executable).with_name("nbgrader")
    subprocess.run(
        [str(nbgrader), "export", "--log-level=ERROR"],
        cwd=course, check=True, capture_output=True,
    )  # fmt: skip
    pages = write_feedback(course)
    console.print(
        f"Gradebook: {book.db_url}\n"
        f"Grades (nbgrader export): {course / 'grades.csv'}\n"
        f"Feedback pages ({len(pages)}): {course / 'feedback'}/<student>/<assignment>/\n"
        f"Results and executed notebooks: {course / 'autograded'}/<student>/<assignment>/"
    )
    return ok


def main(*, course: str) -> int:
    """Run the demo; 1 if any notebook or sample submission scored other than it should."""
    console = Console()
    root = Path(course).resolve()
    ok = grade_course_notebooks(console, root)
    ok &= grade_sample_class(console, root)
    if not ok:
        console.print("[red]Something scored other than it should: see the red rows above.")
    return 0 if ok else 1
