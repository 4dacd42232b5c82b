"""The main job: grade the course's own notebooks, then a sample class.

1. Every solution notebook must get full marks and every released notebook 0. They
   are graded in parallel, as a batch (``--jobs``, default the number of cores), the
   slowest first.
2. A generated class is graded in batch into nbgrader's gradebook of a scratch
   course, ``demo-course/``; the grade CSV comes from ``nbgrader export`` and a
   feedback page is written per student. By default it shows each kind of work
   once (:func:`autograder.sample_class.demo_class`: honest, partly finished,
   mistaken, cheating, broken, late and missing, one student each);
   ``--class-size N`` grades a class of ``N`` students who each hand in every
   assignment instead (:func:`autograder.sample_class.make_class`). Last comes the
   class report (:mod:`autograder.report`), ``demo-course/reports/index.html``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nbgrader.api import Gradebook
from rich.console import Console
from rich.table import Table
from rich.text import Text

from autograder import registry
from autograder.batch import Batch, Job, Outcome, find_jobs
from autograder.feedback import write_feedback
from autograder.gradebook import CourseGradebook
from autograder.registry import assignment_ids
from autograder.report import write_reports
from autograder.sample_class import make_class, make_course, make_demo_class
from autograder.sandbox import Limits

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


#: Kinds of sample work that stop early: a stub raises at once, a broken file never runs.
QUICK_KINDS = ("released", "cheat", "broken", "missing")


def slowest_first(jobs: list[Job], kinds: dict[tuple[str, str], str]) -> list[Job]:
    """``jobs`` in the order that ends a parallel batch soonest: the likely slowest first.

    Complete notebooks of assignments whose checks train models take longest; released
    stubs and cheating, broken or missing work (:data:`QUICK_KINDS`) stop early.

    Args:
        jobs: the submissions.
        kinds: the kind of work of each, by ``(student, assignment)``.
    """

    def trains(job: Job) -> int:
        return sum(check.trains for check in registry.assignment(job.assignment).graded)

    def key(job: Job) -> tuple:
        quick = kinds[(job.student, job.assignment)] in QUICK_KINDS
        return quick, -trains(job), job.assignment, job.student

    return sorted(jobs, key=key)


def grade_course_notebooks(
    console: Console, course: Path, scratch: Path, *, jobs: int
) -> bool:  # fmt: skip
    """Grade solutions and released notebooks in parallel; True if each scores what it must.

    Args:
        console: where the progress and the table go.
        course: the course directory whose notebooks are graded.
        scratch: where their results go (``autograded/<kind>/<assignment>/``).
        jobs: how many notebooks to grade at once.
    """
    kinds = {}
    todo = []
    for assignment, kind, path in course_notebooks(course):
        todo.append(Job(kind, assignment, path.parent, path))
        kinds[(kind, assignment)] = kind
    console.print(f"Grading the course's {len(todo)} notebooks, {jobs} at a time ...")
    batch = Batch(scratch, jobs=jobs, limits=Limits(), gradebook=False)
    outcomes = batch.run(slowest_first(todo, kinds), console)
    table = Table(title="Hidden checks on the course's own notebooks")
    for column in ("assignment", "notebook", "score / max", "time", "sandbox"):
        table.add_column(column)
    ok = True
    for outcome in sorted(outcomes, key=lambda o: (o.job.assignment, o.job.student != "solution")):
        doc, job = outcome.results, outcome.job
        expected = doc.max_score if job.student == "solution" else 0
        good = doc.score == expected and outcome.status != "failed"
        ok &= good
        table.add_row(
            job.assignment,
            str(job.notebook.relative_to(course)),
            Text(f"{doc.score:g} / {doc.max_score:g}", style="green" if good else "red"),
            f"{outcome.seconds:.1f} s",
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


def grade_sample_class(
    console: Console, course_root: Path, *, class_size: int | None = None, jobs: int
) -> bool:
    """Grade a generated class in batch; True if every kind of work scored as it should.

    Args:
        console: where the progress and the tables go.
        course_root: the course whose notebooks the class hands in.
        class_size: ``None`` for the demo's class (each kind of work once), else this
            many students, each handing in every assignment.
        jobs: how many submissions to grade at once.
    """
    course = course_root / "demo-course"
    assignments = [a for a in list(assignment_ids()) if (course_root / "source" / a).is_dir()]
    make_course(course, course_root)
    if class_size is None:
        kinds = make_demo_class(course, course_root, assignments)
    else:
        kinds = make_class(course, course_root, assignments, class_size)
    book = CourseGradebook.of(course)
    for assignment in assignments:
        book.ensure_assignment(assignment)
        with Gradebook(book.db_url, book.course_id) as gb:
            gb.update_or_create_assignment(assignment, duedate=DUE)
    found = find_jobs(course / "submitted")
    students = len({job.student for job in found})
    console.print(
        f"\nGrading a sample class: {len(found)} submissions of {students} students in "
        f"{course}, {jobs} at a time ..."
    )
    outcomes: list[Outcome] = Batch(course, jobs=jobs, limits=Limits()).run(
        slowest_first(found, kinds), console
    )
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
    started = time.monotonic()
    reports = write_reports(course)
    console.print(
        f"Gradebook: {book.db_url}\n"
        f"Grades (nbgrader export): {course / 'grades.csv'}\n"
        f"Feedback pages ({len(pages)}): {course / 'feedback'}/<student>/<assignment>/\n"
        f"Results and executed notebooks: {course / 'autograded'}/<student>/<assignment>/\n"
        f"The class report (autograder report, {time.monotonic() - started:.1f} s): {reports[0]}"
    )
    return ok


def main(*, course: str, class_size: int | None = None, jobs: int | None = None) -> int:
    """Run the demo; 1 if any notebook or sample submission scored other than it should.

    Args:
        course: the course directory.
        class_size: ``None`` for the demo's class (each kind of work once), else a
            class of this many students who each hand in every assignment.
        jobs: notebooks graded at once (default: the number of cores).
    """
    console = Console()
    root = Path(course).resolve()
    jobs = jobs or os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="autograder-demo-") as scratch:
        ok = grade_course_notebooks(console, root, Path(scratch), jobs=jobs)
    ok &= grade_sample_class(console, root, class_size=class_size, jobs=jobs)
    if not ok:
        console.print("[red]Something scored other than it should: see the red rows above.")
    return 0 if ok else 1
