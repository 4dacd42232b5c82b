"""The instructor's class report: ``autograder report``.

Run after a batch, it reads the grader's results of every submission (never a
student's process: see :mod:`autograder.report.evidence`) and writes, for each
assignment, ``reports/<assignment>/index.html`` and ``reports/<assignment>/checks.csv``,
and the course page ``reports/index.html``:

- per check: how many were graded and passed, the mean points and the
  discrimination (:mod:`autograder.report.stats`), with the checks worth a look marked;
- pictures (:mod:`autograder.report.plots`), embedded so the pages work offline;
- the most frequent failures of each check, grouped by their hint;
- integrity: what the grader flagged, and pairs of students whose own code is alike
  (:mod:`autograder.report.similarity`);
- late and missing submissions, with the gradebook's penalties;
- on the course page: each assignment's mean, median and number graded, and every
  student's totals.

Pages are rendered from the templates beside this file with Jinja2, autoescaping
everything (student ids, messages and code are the students'). A results file that
cannot be read, an assignment nobody handed in or a class of one each give a page
that says so.

Example:
    >>> written = write_reports(Path("demo-course"))  # doctest: +SKIP
    >>> written[0]
    PosixPath('demo-course/reports/index.html')
"""

from __future__ import annotations

import csv
import datetime
import io
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.feedback import FLAG_KINDS, flags_of
from autograder.report import plots, stats
from autograder.report.evidence import (
    AssignmentEvidence,
    course_assignments,
    load_assignment,
    read_gradebook,
)
from autograder.results import write_atomic

#: Where the pages go, under the course directory.
REPORTS = "reports"
#: The most of a student's own code the similarity check reads (characters). The
#: reference solutions' own code is 2,400 to 7,600 characters (their whole code at most
#: 20,000), so this is 25 times the largest; a notebook padded beyond it is compared on
#: its first part and cannot slow the report down.
MAX_OWN_CODE = 200_000
#: A handed-in notebook larger than this is not read for the similarity check (the batch
#: grades it under its own limits; the page says how many were left out).
MAX_NOTEBOOK_BYTES = 20 * 1024**2


def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    environment = Environment(
        loader=FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=False,
    )
    environment.globals.update(num=_number, pct=_percent, duration=_duration)
    return environment


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, int | float):
        return f"{round(value, 3):g}"
    return str(value)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def _duration(seconds: float) -> str:
    """``"2 d 3 h"``, ``"5 h 12 min"`` or ``"40 min"``: how late, as a person says it."""
    minutes = int(seconds // 60)
    days, hours, minutes = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{max(minutes, 1)} min"


@dataclass(frozen=True)
class Figure:
    """A picture of a page: its data URI and what it shows."""

    uri: str
    caption: str


def checks_csv(rows: Sequence[stats.CheckRow]) -> str:
    """``checks.csv``: a header of :data:`~autograder.report.stats.CSV_COLUMNS`, a row per check."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(stats.CSV_COLUMNS)
    writer.writerows(row.csv_row() for row in rows)
    return out.getvalue()


def _flagged(evidence: AssignmentEvidence) -> list[dict[str, Any]]:
    flagged = []
    for submission in evidence.submissions.values():
        found = flags_of(submission.results or {})
        if found:
            flagged.append(
                {
                    "student": submission.student,
                    "score": submission.results.score,
                    "flags": [
                        {**flag, "meaning": FLAG_KINDS.get(flag["kind"], ""), "detail":
                         flag["detail"][:2000]}
                        for flag in found
                    ],
                }
            )  # fmt: skip
    return flagged


def _similar(evidence: AssignmentEvidence) -> tuple[list, str]:
    """The alike pairs of the assignment's handed-in notebooks, and the page's note on them."""
    from autograder.report import similarity

    if evidence.template is None:
        return [], (
            "The released notebook was not found, so the template cannot be left out: "
            "no similarity was computed."
        )
    codes: dict[str, str] = {}
    unreadable = 0
    for submission in evidence.submissions.values():
        if not submission.handed_in or submission.notebook is None:
            continue
        try:
            if submission.notebook.stat().st_size > MAX_NOTEBOOK_BYTES:
                raise ValueError("too large")
            code = similarity.own_code(submission.notebook, evidence.template)
        except (OSError, ValueError):
            unreadable += 1
            continue
        codes[submission.student] = code[:MAX_OWN_CODE]
    pairs = similarity.similar_pairs(codes, similarity.template_code(evidence.template))
    note = (
        f"The code of {len(codes)} handed-in notebook{'s' if len(codes) != 1 else ''} "
        "was compared (copydetect's winnowing), with the released template and code that "
        "many students share left out. A pair is listed when more than "
        f"{similarity.THRESHOLD:.0%} of one student's own code is also the other's: "
        "students who each wrote their own code stay far below that."
    )
    if unreadable:
        note += (
            f" {unreadable} notebook{'s' if unreadable != 1 else ''} could not be read "
            f"(not a notebook, or over {MAX_NOTEBOOK_BYTES // 1024**2} MiB) and "
            f"{'were' if unreadable != 1 else 'was'} left out."
        )
    return pairs, note


@dataclass
class AssignmentReport:
    """What the course page takes from one assignment's page."""

    id: str
    link: str
    summary: stats.Summary
    missing: int
    to_look_at: str
    evidence: AssignmentEvidence


def assignment_page(
    evidence: AssignmentEvidence, *, written: str
) -> tuple[str, str, AssignmentReport]:
    """The page and ``checks.csv`` of one assignment.

    Args:
        evidence: the assignment as :func:`~autograder.report.evidence.load_assignment` read it.
        written: when the report is written, for the footer.

    Returns:
        The HTML page, the CSV and the figures the course page lists.
    """
    rows = stats.check_rows(evidence)
    summary = stats.summary(evidence)
    graded = evidence.graded
    figures = [
        Figure(uri, caption)
        for uri, caption in (
            (plots.score_histogram([s.results.score for s in graded], summary.max_score),
             "Scores of the graded submissions."),
            (plots.pass_rates(rows), "Share of the graded submissions that passed each check."),
            (plots.difficulty_discrimination(rows),
             "Each check (numbered as in the table): pass rate against discrimination; "
             f"the shaded band is below {stats.LOW_DISCRIMINATION}."),
            (plots.grading_times([s.results.execution_time for s in graded]),
             "Seconds the grader took on each submission."),
        )
        if uri is not None
    ]  # fmt: skip
    pairs, similarity_note = _similar(evidence)
    late = sorted(
        (s for s in evidence.submissions.values() if s.handed_in and s.seconds_late > 0),
        key=lambda s: -s.seconds_late,
    )
    page = _environment().get_template("assignment.html").render(
        assignment=evidence.assignment, summary=summary, rows=rows,
        failures=stats.failures(evidence), figures=figures, flagged=_flagged(evidence),
        pairs=pairs, similarity_note=similarity_note, late=late, missing=evidence.missing,
        due=evidence.due, gradebook=evidence.gradebook, unreadable=evidence.unreadable,
        low=stats.LOW_DISCRIMINATION, written=written,
    )  # fmt: skip
    return page, checks_csv(rows), brief(evidence, rows)


def brief(
    evidence: AssignmentEvidence, rows: Sequence[stats.CheckRow] | None = None
) -> AssignmentReport:
    """What the course page shows of an assignment (``rows``: its checks' figures, if known)."""
    rows = stats.check_rows(evidence) if rows is None else rows
    look = [row.check.removeprefix("test_") for row in rows if "flawed" in row.flag]
    return AssignmentReport(
        evidence.assignment, f"{evidence.assignment}/index.html", stats.summary(evidence),
        len(evidence.missing), ", ".join(look), evidence,
    )  # fmt: skip


def course_page(reports: Sequence[AssignmentReport], *, written: str) -> str:
    """The course page: each assignment in brief, and every student's scores and total."""
    students = sorted({s for r in reports for s in (*r.evidence.submissions, *r.evidence.missing)})
    rows = []
    for student in students:
        cells, total, penalty = [], 0.0, 0.0
        for report in reports:
            submission = report.evidence.submissions.get(student)
            if submission is None or not submission.handed_in:
                cells.append("—")
            elif submission.results is None:
                cells.append("?")
            else:
                score = submission.results.score
                flag = " ⚑" if flags_of(submission.results) else ""
                cells.append(f"{_number(score)}{flag}")
                total += score
                penalty += submission.penalty or 0.0
        rows.append({"id": student, "cells": cells, "penalty": penalty, "total": total - penalty})
    means = [
        (r.id, r.summary.mean / r.summary.max_score)
        for r in reports
        if r.summary.mean is not None and r.summary.max_score
    ]
    return _environment().get_template("course.html").render(
        assignments=reports, students=rows, picture=plots.assignment_means(means),
        written=written,
    )  # fmt: skip


def write_reports(course: Path, *, assignment: str | None = None) -> list[Path]:
    """Write the course page and each assignment's page and ``checks.csv``.

    Args:
        course: the course directory (``autograded/``, ``submitted/``, the gradebook).
        assignment: only this assignment's page (the course page still lists them all).

    Returns:
        The files written: the course page first.

    Raises:
        ValueError: ``assignment`` is not one the course knows.
    """
    course = Path(course)
    written = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    gradebook = read_gradebook(course)
    ids = course_assignments(course, gradebook)
    if assignment is not None and assignment not in ids:
        raise ValueError(f"the course has no assignment {assignment!r}; it has {ids}")
    reports, files = [], []
    out = course / REPORTS
    for name in ids:
        evidence = load_assignment(course, name, gradebook)
        if assignment is not None and name != assignment:
            reports.append(brief(evidence))
            continue
        page, table, report = assignment_page(evidence, written=written)
        reports.append(report)
        write_atomic(out / name / "index.html", page)
        write_atomic(out / name / "checks.csv", table)
        files += [out / name / "index.html", out / name / "checks.csv"]
    write_atomic(out / "index.html", course_page(reports, written=written))
    return [out / "index.html", *files]


def main(*, course: str, assignment: str | None = None) -> int:
    """``autograder report``: write the pages and say where, and how long it took."""
    started = time.monotonic()
    files = write_reports(Path(course), assignment=assignment)
    pages = [f for f in files if f.suffix == ".html"]
    print(
        f"wrote {len(pages)} report page{'s' if len(pages) != 1 else ''} in "
        f"{time.monotonic() - started:.1f} s: open {files[0]}"
    )
    return 0
