"""The class report: its figures equal ones computed here, its flags, its pages in a browser."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from autograder import cli, report, sample_class
from autograder.registry import REGISTRY
from autograder.report import stats
from autograder.report.evidence import load_assignment
from autograder.results import CheckResult, Results
from tests.conftest import ROOT

ASSIGNMENT = "backprop"
#: The check planted to reward a wrong answer in the fixture course.
PLANTED = "test_forward_matches_reference"
N_STUDENTS = 60
FLAGGED, LATE = (7,), (11,)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, dict[str, Results]]:
    """A class of 60 whose results are known, one check rewarding a wrong answer; reported."""
    course = tmp_path_factory.mktemp("generated")
    results = sample_class.write_graded_class(
        course, ASSIGNMENT, N_STUDENTS, seed=3, rewards_wrong=PLANTED, flagged=FLAGGED, late=LATE
    )
    report.write_reports(course)
    return course, results


def _csv(course: Path, assignment: str = ASSIGNMENT) -> list[dict[str, str]]:
    with open(course / "reports" / assignment / "checks.csv", newline="") as handle:
        return list(csv.DictReader(handle))


class _Page(HTMLParser):
    """The text of a page, and its images' sources."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.text: list[str] = []
        self.images: list[str] = []
        self.feed(page)

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "img":
            self.images.append(dict(attrs).get("src", ""))

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


def _page(course: Path, assignment: str | None = ASSIGNMENT) -> _Page:
    path = course / "reports" / (f"{assignment}/index.html" if assignment else "index.html")
    return _Page(path.read_text())


# -- the figures ------------------------------------------------------------------------
def test_every_figure_of_checks_csv_equals_one_computed_independently(generated):
    course, results = generated
    students = sorted(results)
    names = [check.name for check in REGISTRY.assignment(ASSIGNMENT).graded]
    points = np.array([[c.score for c in results[s].checks] for s in students])  # (N, C)
    maxima = np.array([c.max_score for c in results[students[0]].checks])
    rows = _csv(course)
    assert [row["check"] for row in rows] == names
    assert list(rows[0]) == [*stats.CSV_COLUMNS]
    for j, row in enumerate(rows):
        x = points[:, j]
        rest = points.sum(axis=1) - x
        assert int(row["graded"]) == N_STUDENTS
        assert int(row["passed"]) == int((x >= maxima[j]).sum())
        assert float(row["points"]) == maxima[j]
        assert float(row["pass_rate"]) == pytest.approx((x >= maxima[j]).mean(), abs=5e-5)
        assert float(row["mean_points"]) == pytest.approx(x.mean(), abs=5e-5)
        if x.std() == 0 or rest.std() == 0:
            assert row["discrimination"] == ""
        else:
            assert float(row["discrimination"]) == pytest.approx(
                np.corrcoef(x, rest)[0, 1], abs=5e-5
            )
        function = next(c.function for c in REGISTRY.assignment(ASSIGNMENT).graded
                        if c.name == row["check"])  # fmt: skip
        assert row["function"] == function


def test_a_check_that_rewards_a_wrong_answer_shows_negative_discrimination(generated):
    course, _ = generated
    rows = {row["check"]: row for row in _csv(course)}
    planted = rows.pop(PLANTED)
    assert float(planted["discrimination"]) < -0.3
    assert planted["flag"] == "negative discrimination: possibly flawed"
    honest = [float(r["discrimination"]) for r in rows.values() if r["discrimination"]]
    assert min(honest) > stats.LOW_DISCRIMINATION  # the rest discriminate, and are not marked
    assert not any("flawed" in r["flag"] for r in rows.values())
    course_page = _page(course, None).words
    assert PLANTED.removeprefix("test_") in course_page  # "checks to look at"


def test_checks_nobody_or_everybody_passes_are_marked():
    def row(scores):
        evidence = _evidence(
            {f"s{i}": [("test_relu_values", v, 1.0)] for i, v in enumerate(scores)}
        )
        return next(r for r in stats.check_rows(evidence) if r.check == "test_relu_values")

    assert row([0.0, 0.0, 0.0]).flag == "nobody passed"
    assert row([1.0, 1.0, 1.0]).flag == "everybody passed"
    assert row([1.0, 1.0, 1.0]).discrimination is None  # constant: empty, not NaN


def test_the_mistakes_are_counted_by_hint(generated):
    course, results = generated
    expected: dict[str, dict[str, int]] = {}
    for graded in results.values():
        for check in graded.checks:
            if not check.passed:
                hint = check.output.split("Hint: ")[1]
                expected.setdefault(check.name, {}).setdefault(hint, 0)
                expected[check.name][hint] += 1
    found = stats.failures(load_assignment(course, ASSIGNMENT))
    for name, groups in expected.items():
        assert {f.mistake: len(f.students) for f in found[name]} == groups
    page = _page(course).words
    name, groups = next(iter(expected.items()))
    hint, count = max(groups.items(), key=lambda item: item[1])
    assert hint in page


def test_mistake_of_groups_messages_that_differ_only_in_numbers():
    a = stats.mistake_of("`f(x)` returned [0.1 0.2] at x=3; expected a sum of 1.5")
    b = stats.mistake_of("`f(x)` returned [7.  -2.] at x=-4.5e-3; expected a sum of 2")
    assert a == b
    assert stats.mistake_of("bad. Hint: use np.exp") != stats.mistake_of("bad. Hint: use np.log")


def test_pearson_is_empty_where_either_side_is_constant_or_too_short():
    assert stats.pearson([1, 2, 3], [2, 2, 2]) is None
    assert stats.pearson([0.1 + 0.2, 0.3, 0.3], [1, 2, 3]) is None  # spread below rounding
    assert stats.pearson([1, 2], [2, 1]) is None
    assert stats.pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)


# -- integrity, lateness --------------------------------------------------------------
def test_a_flagged_cheat_appears_and_honest_work_does_not(generated):
    course, _ = generated
    page = _page(course).words
    cheat = sample_class.student_name(FLAGGED[0])
    integrity = page.split("Flagged by the grader")[1].split("Alike code")[0]
    assert cheat in integrity and "numpy.allclose was replaced" in integrity
    others = [sample_class.student_name(i) for i in range(N_STUDENTS) if i not in FLAGGED]
    assert not any(f" {name} " in f" {integrity} " for name in others)
    assert "Flagged by the grader (1)" in page


def _evidence(by_student: dict[str, list[tuple[str, float, float]]], flags=None):
    from autograder.report.evidence import AssignmentEvidence, Submission

    evidence = AssignmentEvidence("activations")
    for student, checks in by_student.items():
        extra = {"flags": flags} if flags else {}
        results = Results([CheckResult(n, s, m, "Passed." if s >= m else "No.")
                           for n, s, m in checks], extra=extra)  # fmt: skip
        evidence.submissions[student] = Submission(student, results)
    return evidence


# -- pages that must not crash --------------------------------------------------------
def _one(course: Path, student: str, assignment: str, results: Results | str) -> None:
    path = course / "autograded" / student / assignment / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(results, Results):
        results.write(path)
    else:
        path.write_text(results)
    (course / "submitted" / student / assignment).mkdir(parents=True, exist_ok=True)


def _passing(assignment: str) -> Results:
    checks = REGISTRY.assignment(assignment).graded
    return Results(
        [CheckResult(c.name, c.points, c.points, "Passed.") for c in checks],
        execution_time=3.0, extra={"assignment": assignment},
    )  # fmt: skip


def test_a_class_of_one_student_gets_a_clear_page(tmp_path):
    _one(tmp_path, "ada", "activations", _passing("activations"))
    report.write_reports(tmp_path)
    page = _page(tmp_path, "activations")
    assert "1 graded submission ·" in page.words
    assert len(page.images) >= 2  # the histogram and the pass rates; no correlation to draw
    rows = _csv(tmp_path, "activations")
    assert all(row["discrimination"] == "" and row["flag"] == "everybody passed" for row in rows)
    assert "ada" in _page(tmp_path, None).words


def test_an_assignment_nobody_submitted_gets_a_clear_page(tmp_path):
    (tmp_path / "source" / "rbm").mkdir(parents=True)
    _one(tmp_path, "ada", "activations", _passing("activations"))
    report.write_reports(tmp_path)
    page = _page(tmp_path, "rbm")
    assert "Nobody's submission of rbm has been graded" in page.words
    assert page.images == []
    rows = _csv(tmp_path, "rbm")
    assert [r["check"] for r in rows] == [c.name for c in REGISTRY.assignment("rbm").graded]
    assert {r["graded"] for r in rows} == {"0"} and {r["pass_rate"] for r in rows} == {""}
    assert "ada" in _page(tmp_path, None).words


def test_a_results_file_that_cannot_be_read_is_listed_and_left_out(tmp_path):
    _one(tmp_path, "ada", "activations", _passing("activations"))
    _one(tmp_path, "ben", "activations", "{not json")
    _one(tmp_path, "cleo", "activations", json.dumps({"score": 3}))
    infinite = _passing("activations").to_gradescope()
    infinite["tests"][0]["score"] = float("inf")
    _one(tmp_path, "dan", "activations", json.dumps(infinite))  # Infinity: JSON as Python writes it
    report.write_reports(tmp_path)
    page = _page(tmp_path, "activations").words
    assert "Results that could not be read (3)" in page
    assert "dan : results.json holds a score or a time that is not a finite number" in page
    assert "ben : results.json is not valid JSON" in page  # (bold id, then text)
    assert "cleo : results.json is not a results.json document" in page
    assert "1 graded submission ·" in page
    assert {r["graded"] for r in _csv(tmp_path, "activations")} == {"1"}
    course = _page(tmp_path, None)
    assert "?" in course.words.split("ben")[1].split("cleo")[0]


def test_a_missing_notebook_counts_as_missing_not_as_a_zero(tmp_path):
    from autograder.grade import grade_unrunnable

    _one(tmp_path, "ada", "activations", _passing("activations"))
    missing = grade_unrunnable("activations", "No notebook named activations.ipynb was submitted.")
    missing.extra["handed_in"] = False
    _one(tmp_path, "gus", "activations", missing)
    report.write_reports(tmp_path)
    page = _page(tmp_path, "activations").words
    assert "Missing (1): gus." in page
    assert "1 graded submission ·" in page


def test_everything_a_student_wrote_is_escaped(tmp_path):
    attack = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    results = _passing("activations")
    results.checks[0] = CheckResult(results.checks[0].name, 0.0, 1.0, f"returned {attack}")
    results.extra["flags"] = [{"kind": "patched", "detail": attack}]
    _one(tmp_path, "eve<img src=x onerror=alert(3)>", "activations", results)  # no "/" in an id
    _one(tmp_path, "ada", "activations", _passing("activations"))
    report.write_reports(tmp_path)
    for path in (tmp_path / "reports").rglob("*.html"):
        text = path.read_text()
        assert "<script>" not in text and "<img src=x" not in text
    page = _page(tmp_path, "activations").words
    assert attack in page and "eve<img src=x onerror=alert(3)>" in page  # shown, as text


def test_unknown_assignment_is_a_clear_error(tmp_path, capsys):
    _one(tmp_path, "ada", "activations", _passing("activations"))
    assert cli.main(["report", "--course", str(tmp_path), "--assignment", "nope"]) == 2
    assert "the course has no assignment 'nope'" in capsys.readouterr().err


def test_the_command_writes_one_assignment_and_the_course_page(tmp_path, capsys):
    _one(tmp_path, "ada", "activations", _passing("activations"))
    _one(tmp_path, "ada", "rbm", _passing("rbm"))
    assert cli.main(["report", "--course", str(tmp_path), "--assignment", "rbm"]) == 0
    assert "wrote 2 report pages" in capsys.readouterr().out
    assert (tmp_path / "reports" / "rbm" / "index.html").exists()
    assert not (tmp_path / "reports" / "activations").exists()
    assert "activations" in _page(tmp_path, None).words  # still listed


def test_the_pages_need_no_network(generated):
    course, _ = generated
    for path in (course / "reports").rglob("*.html"):
        text = path.read_text()
        assert "http://" not in text and "https://" not in text and "<script" not in text
        assert all(src.startswith("data:image/png;base64,") for src in _Page(text).images)


def test_the_course_page_lists_every_assignment_and_every_students_total(generated):
    course, results = generated
    page = _page(course, None).words
    scores = sorted(r.score for r in results.values())
    assert f"{ASSIGNMENT} {N_STUDENTS} 0 {round(float(np.mean(scores)), 3):g}" in page
    for student, graded in results.items():
        assert f"{student} {graded.score:g}" in page


# -- in a real browser -----------------------------------------------------------------
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _screenshot(page: Path, out: Path) -> np.ndarray:
    """The page as Chromium draws it, headless and offline, as an (H, W, 3) array."""
    import matplotlib.image

    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--window-size=1280,3000",
         f"--screenshot={out}", page.resolve().as_uri()],
        check=True, capture_output=True, timeout=120, env={**os.environ, "HOME": str(out.parent)},
    )  # fmt: skip
    return matplotlib.image.imread(out)[..., :3]


def _plotted(image: np.ndarray) -> int:
    """How many pixels have the plots' colour (the bars, the points)."""
    from matplotlib.colors import to_rgb

    return int((np.abs(image - np.array(to_rgb(report.plots.COLOUR))).max(axis=-1) < 0.06).sum())


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="LOUD SKIP: Chromium is not installed, so the report's pages were not rendered in a "
    "browser (`make browser`, or Debian's chromium package)",
)
def test_every_page_renders_in_headless_chromium_with_its_pictures(generated, tmp_path):
    course, _ = generated
    pages = sorted((course / "reports").rglob("*.html"))
    assert len(pages) >= 2
    for i, page in enumerate(pages):
        image = _screenshot(page, tmp_path / f"page{i}.png")
        assert image.std() > 0.05, f"{page} renders blank"
        assert _plotted(image) > 5000, f"{page}: its pictures are not drawn"
    # The same page with its pictures' data broken draws none of their colour: the count
    # above is the pictures', not the page's.
    broken = tmp_path / "broken.html"
    text = (
        (course / "reports" / ASSIGNMENT / "index.html")
        .read_text()
        .replace("data:image/png;base64,", "data:image/png;base64,AAAA")
    )
    broken.write_text(text)
    assert _plotted(_screenshot(broken, tmp_path / "broken.png")) < 500


def test_late_work_shows_the_penalty_the_gradebook_applied(tmp_path):
    """With the course's late rule "zero", late work loses its whole score, and the report says so."""
    import datetime

    from nbgrader.api import Gradebook

    from autograder.gradebook import CourseGradebook
    from autograder.sample_class import make_course

    course = tmp_path / "course"
    make_course(course, ROOT)
    with open(course / "nbgrader_config.py", "a") as config:
        config.write('\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    book = CourseGradebook.of(course)
    book.ensure_assignment("activations")
    with Gradebook(book.db_url, book.course_id) as gb:
        gb.update_or_create_assignment("activations", duedate="2026-11-22 23:59:00 UTC")
    for student, stamp in (("ada", sample_class.ON_TIME), ("finn", sample_class.LATE)):
        results = _passing("activations")
        _one(course, student, "activations", results)
        (course / "submitted" / student / "activations" / "timestamp.txt").write_text(stamp)
        book.record(
            student=student, assignment="activations", results=results,
            timestamp=book.timestamp(course / "submitted" / student / "activations"),
        )  # fmt: skip
    report.write_reports(course)
    evidence = load_assignment(course, "activations", report.read_gradebook(course))
    finn, ada = evidence.submissions["finn"], evidence.submissions["ada"]
    assert finn.penalty == finn.results.score > 0 and ada.penalty is None
    assert finn.seconds_late == pytest.approx(
        (datetime.datetime(2026, 11, 23, 18, 30) - datetime.datetime(2026, 11, 22, 23, 59))
        .total_seconds()
    )  # fmt: skip
    page = _page(course, "activations").words
    late = page.split("late by penalty")[1].split("Missing")[0]
    assert f"finn 2026-11-23 18:30:00 UTC 18 h 31 min {finn.penalty:g}" in late
    assert "ada" not in late
    students = _page(course, None).words
    score = f"{finn.results.score:g}"
    assert re.search(rf"finn {score} (— )+{score} 0 ", students)  # score, others, penalty, total


def test_two_students_who_copy_are_paired_on_the_page_with_their_shared_lines(tmp_path):
    """Two copies of one solution (a comment with HTML added to one) in a class of four."""
    import nbformat

    solution = nbformat.read(ROOT / "solutions" / "activations" / "activations.ipynb", 4)
    released = (ROOT / "assignments" / "activations" / "activations.ipynb").read_bytes()
    copy = nbformat.from_dict(solution)
    cell = next(c for c in copy.cells if c.metadata.get("nbgrader", {}).get("solution"))
    cell.source = "# mine, <script>alert(1)</script>\n" + cell.source
    for student, notebook in (("ada", nbformat.writes(solution).encode()),
                              ("ben", nbformat.writes(copy).encode()),
                              ("cleo", released), ("dan", released),
                              ("eve", b"{ broken")):  # fmt: skip
        _one(tmp_path, student, "activations", _passing("activations"))
        (tmp_path / "submitted" / student / "activations" / "activations.ipynb").write_bytes(
            notebook
        )
    report.write_reports(tmp_path)
    text = (tmp_path / "reports" / "activations" / "index.html").read_text()
    page = _Page(text).words
    assert "Alike code (1 pair)" in page
    assert "The code of 4 handed-in notebooks was compared" in page
    assert "1 notebook could not be read" in page  # eve's, left out
    assert "ada and ben :" in page.replace("</strong>", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>" not in text
    assert text.count('<div class="shared">') >= 10  # their shared lines, marked
