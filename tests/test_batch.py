"""Grading a class: parallel batch, gradebook, resume after a kill, concurrent graders."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.plugins import LateSubmissionPlugin
from rich.console import Console

from autograder import batch as batch_module
from autograder import devices, registry
from autograder.batch import LOCKS_DIR, Batch, Job, Outcome, find_jobs, summary_table
from autograder.gradebook import CourseGradebook
from autograder.registry import PACKAGE_DIR, Registry
from autograder.results import Results
from autograder.sandbox import Limits
from tests.conftest import ASSIGNMENTS, ROOT, notebook_path

slow = pytest.mark.slow

LIMITS = Limits(cell_timeout=3, notebook_timeout=120, call_timeout=10)
CLI_LIMITS = ["--cell-timeout", "3", "--notebook-timeout", "120"]


def _with_cell(base: Path, source: str, position: int = 1) -> dict:
    notebook = nbformat.read(base, as_version=4)
    notebook.cells.insert(position, nbformat.v4.new_code_cell(source))
    return notebook


def make_course(root: Path, extra_config: str = "") -> Path:
    """A scratch nbgrader course with the kit's source notebooks and a small class."""
    course = root / "course"
    course.mkdir()
    shutil.copytree(ROOT / "source", course / "source")
    (course / "nbgrader_config.py").write_text(
        (ROOT / "nbgrader_config.py").read_text() + extra_config
    )
    solution = notebook_path("solutions", "activations")
    stub = notebook_path("assignments", "activations")
    submissions = {
        ("alice", "activations"): solution.read_bytes(),
        ("bob", "activations"): stub.read_bytes(),
        ("carol", "activations"): b'{"cells": [',
        ("dave", "activations"): nbformat.writes(_with_cell(solution, "while True:\n    pass")),
        ("erin", "activations"): nbformat.writes(
            _with_cell(stub, "import numpy as np\nnp.allclose = lambda *a, **k: True", 2)
        ),
        ("frank", "activations"): None,
        ("gina", "activations"): nbformat.writes(
            _with_cell(solution, "import numpy as np\nhoard = np.ones(int(50e9 / 8))")
        ),
        ("hank", "activations"): nbformat.writes(_with_cell(solution, "print('x' * 10**8)")),
        ("ivan", "activations"): nbformat.writes(_with_cell(solution, "import os\nos._exit(1)")),
        ("alice", "backprop"): notebook_path("solutions", "backprop").read_bytes(),
        ("bob", "backprop"): notebook_path("assignments", "backprop").read_bytes(),
    }
    for (student, assignment), content in submissions.items():
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        if content is not None:
            data = content if isinstance(content, bytes) else content.encode()
            (folder / f"{assignment}.ipynb").write_bytes(data)
        (folder / "timestamp.txt").write_text("2026-11-20 12:00:00.000000 UTC")
    return course


#: Full marks of each assignment the class hands in (the registry's points).
FULL = {
    a: sum(c.points for c in registry.assignment(a).graded) for a in ("activations", "backprop")
}
EXPECTED = {
    ("alice", "activations"): FULL["activations"],
    ("bob", "activations"): 0,
    ("carol", "activations"): 0,
    ("dave", "activations"): FULL["activations"],
    ("erin", "activations"): 0,
    ("frank", "activations"): 0,
    ("gina", "activations"): FULL["activations"],
    ("hank", "activations"): FULL["activations"],
    ("ivan", "activations"): FULL["activations"],
    ("alice", "backprop"): FULL["backprop"],
    ("bob", "backprop"): 0,
}


def gradebook_dump(course: Path) -> dict:
    """Every grade cell's auto score, by (student, assignment, cell)."""
    book = CourseGradebook.of(course)
    dump = {}
    with Gradebook(book.db_url, book.course_id) as gb:
        for assignment in gb.assignments:
            for submission in assignment.submissions:
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        key = (submission.student.id, assignment.name, grade.cell.name)
                        dump[key] = grade.auto_score
    return dump


def scores_by_submission(dump: dict) -> dict:
    totals: dict = {}
    for (student, assignment, _), score in dump.items():
        totals[(student, assignment)] = totals.get((student, assignment), 0) + (score or 0)
    return totals


def run_cli(course: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(course / "submitted"), *args],
        capture_output=True, text=True, timeout=600, **kwargs,
    )  # fmt: skip


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory) -> Path:
    """The class graded once, uninterrupted, through the command line."""
    course = make_course(tmp_path_factory.mktemp("batch"))
    process = run_cli(course, "--jobs", "2", *CLI_LIMITS)
    assert process.returncode == 0, process.stdout + process.stderr
    (course / "batch-output.txt").write_text(process.stdout)
    return course


@slow
def test_the_summary_says_where_the_batch_graded(graded_course):
    out = (graded_course / "batch-output.txt").read_text()
    assert "job(s) in parallel on the CPU." in out
    backend = devices.backend()
    where = f"{backend} {devices.version_of(backend)}, Keras {devices.version_of('keras')}, cpu"
    graded = [
        json.loads(path.read_text())
        for path in (graded_course / "autograded").glob("*/*/results.json")
    ]
    ran = sum("runtime" in document["extra_data"] for document in graded)
    assert 0 < ran < len(graded)  # a missing or broken notebook never ran anywhere
    assert f"Graded with {where}: {ran} submission(s)." in out, out


@slow
def test_every_submission_gets_results_and_an_executed_notebook(graded_course):
    for (student, assignment), score in EXPECTED.items():
        folder = graded_course / "autograded" / student / assignment
        results = json.loads((folder / "results.json").read_text())
        assert results["score"] == score, (student, assignment, results.get("output"))
        if student in ("alice", "bob", "dave", "erin", "gina", "hank", "ivan"):
            executed = nbformat.read(folder / f"{assignment}.ipynb", as_version=4)
            nbformat.validate(executed)
            assert any(cell.get("outputs") for cell in executed.cells)
    frank = json.loads((graded_course / "autograded/frank/activations/results.json").read_text())
    assert "No notebook named activations.ipynb was submitted" in frank["output"]
    assert frank["extra_data"]["handed_in"] is False  # missing, for the class report
    carol = json.loads((graded_course / "autograded/carol/activations/results.json").read_text())
    assert "not valid JSON" in carol["output"]
    assert "handed_in" not in carol["extra_data"]  # handed in, though broken
    notes = {
        "dave": "did not finish within 3 s",
        "gina": "MemoryError",
        "hank": "printed 100,000,001 characters",
        "ivan": "was skipped: the process running it exited",
    }
    for student, note in notes.items():
        path = graded_course / "autograded" / student / "activations" / "results.json"
        assert note in json.loads(path.read_text())["output"]


@slow
def test_scores_land_in_nbgraders_gradebook(graded_course):
    assert scores_by_submission(gradebook_dump(graded_course)) == EXPECTED


@slow
def test_nbgrader_export_gives_the_grade_csv(graded_course):
    subprocess.run(
        [str(Path(sys.executable).with_name("nbgrader")), "export", "--log-level=ERROR"],
        cwd=graded_course, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    rows = (graded_course / "grades.csv").read_text().splitlines()
    header = rows[0].split(",")
    records = [dict(zip(header, row.split(","), strict=True)) for row in rows[1:]]
    exported = {(r["student_id"], r["assignment"]): float(r["score"]) for r in records}
    # nbgrader lists every student for every assignment; no submission scores 0.
    assert exported == {key: float(EXPECTED.get(key, 0)) for key in exported}
    assert set(exported) >= set(EXPECTED)
    assert all(r["timestamp"].startswith("2026-11-20 12:00:00") for r in records if r["timestamp"])


@slow
def test_output_has_progress_and_summary(graded_course):
    process = run_cli(graded_course, "--jobs", "2", *CLI_LIMITS)
    assert process.returncode == 0
    assert f"done {len(EXPECTED)} · failed 0 · remaining 0" in process.stdout
    assert "Batch grading" in process.stdout
    assert process.stdout.count("unchanged") == len(EXPECTED)


@slow
def test_regrading_is_idempotent(graded_course):
    before = gradebook_dump(graded_course)
    results_before = {
        p: p.read_text() for p in (graded_course / "autograded").rglob("results.json")
    }
    outcomes = Batch(graded_course, jobs=2, limits=LIMITS).run(
        find_jobs(graded_course / "submitted")
    )
    assert {o.status for o in outcomes} == {"unchanged"}
    assert gradebook_dump(graded_course) == before
    assert {p: p.read_text() for p in results_before} == results_before


@slow
def test_a_changed_submission_is_regraded_and_manual_overrides_survive(tmp_path):
    course = make_course(tmp_path)
    batch = Batch(course, jobs=2, limits=LIMITS)
    batch.run(find_jobs(course / "submitted", student="bob", assignment="activations"))
    book = CourseGradebook.of(course)
    with Gradebook(book.db_url, book.course_id) as gb:
        grade = gb.find_grade("test_softmax", "activations", "activations", "bob")
        grade.manual_score = 5.0
        gb.db.commit()
    solution = notebook_path("solutions", "activations").read_bytes()
    (course / "submitted/bob/activations/activations.ipynb").write_bytes(solution)
    outcomes = batch.run(find_jobs(course / "submitted", student="bob", assignment="activations"))
    assert [o.status for o in outcomes] == ["graded"]
    with Gradebook(book.db_url, book.course_id) as gb:
        grade = gb.find_grade("test_softmax", "activations", "activations", "bob")
        assert grade.auto_score == 7.0 and grade.manual_score == 5.0
        assert grade.needs_manual_grade


@slow
def test_a_killed_batch_resumes_and_gives_the_same_gradebook(tmp_path, graded_course):
    course = make_course(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "autograder", "grade", str(course / "submitted"), "--jobs", "1",
         *CLI_LIMITS],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while not list((course / "autograded").rglob("results.json")):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.2)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done_before = len(list((course / "autograded").rglob("results.json")))
    assert 1 <= done_before < len(EXPECTED)
    resumed = run_cli(course, "--jobs", "2", *CLI_LIMITS)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert resumed.stdout.count("unchanged") >= done_before
    assert gradebook_dump(course) == gradebook_dump(graded_course)


@slow
def test_ctrl_c_stops_cleanly_and_a_rerun_finishes(tmp_path):
    course = make_course(tmp_path)
    # A shell runs a background job with SIGINT ignored, and a child inherits that: had
    # the tests been started so, the batch would never hear the Ctrl-C. A terminal's
    # foreground batch hears it, so the batch starts with SIGINT's default disposition.
    process = subprocess.Popen(
        [sys.executable, "-m", "autograder", "grade", str(course / "submitted"), "--jobs", "1",
         *CLI_LIMITS],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while not list((course / "autograded").rglob("results.json")):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    assert "run again to resume" in output
    assert run_cli(course, "--jobs", "2", *CLI_LIMITS).returncode == 0
    assert scores_by_submission(gradebook_dump(course)) == EXPECTED


@slow
def test_two_instructors_grading_different_assignments_at_once_lose_no_grade(tmp_path):
    course = make_course(tmp_path)
    first, second = (
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "autograder",
                "grade",
                str(course / "submitted"),
                "--assignment",
                assignment,
                "--jobs",
                "1",
                *CLI_LIMITS,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for assignment in ("activations", "backprop")
    )
    assert first.wait(timeout=600) == 0, first.stderr.read()
    assert second.wait(timeout=600) == 0, second.stderr.read()
    assert scores_by_submission(gradebook_dump(course)) == EXPECTED


class HalfOffWhenLate(LateSubmissionPlugin):
    """A course's own late rule: half the score off, however late."""

    def late_submission_penalty(self, student_id, score, total_seconds):
        return score / 2


@slow
@pytest.mark.parametrize(
    ("config", "penalty"),
    [
        ('c.LateSubmissionPlugin.penalty_method = "zero"', lambda score: score),
        (f'c.AssignLatePenalties.plugin_class = "{__name__}.HalfOffWhenLate"', lambda s: s / 2),
    ],
    ids=["nbgrader's zero rule", "the course's own plugin"],
)
def test_late_submissions_follow_nbgraders_rules(tmp_path, config, penalty):
    """A late submission's penalty is what the configured late plugin says, as in nbgrader."""
    course = make_course(tmp_path, f"\n{config}\n")
    book = CourseGradebook.of(course)
    book.ensure_assignment("backprop")
    with Gradebook(book.db_url, book.course_id) as gb:
        gb.update_or_create_assignment("backprop", duedate="2026-11-19 12:00:00 UTC")
    Batch(course, jobs=2, limits=LIMITS).run(find_jobs(course / "submitted", assignment="backprop"))
    with Gradebook(book.db_url, book.course_id) as gb:
        submission = gb.find_submission("backprop", "alice")
        assert submission.total_seconds_late == 24 * 3600
        notebook = gb.find_submission_notebook("backprop", "backprop", "alice")
        full = sum(check.points for check in registry.assignment("backprop").graded)
        assert notebook.score == full and notebook.late_submission_penalty == penalty(full)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_sample_class_hands_in_each_assignments_sample_mistake(assignment):
    """`make demo`'s mistaken submission is the solution with the table's sample mistake in
    the one cell that defines its function (the kit's tests prove a check catches it)."""
    import nbformat

    from autograder import cases
    from autograder.sample_class import handed_in

    mistake = cases.load(assignment).sample
    notebook = nbformat.reads(handed_in(ROOT, assignment, "mistake").decode(), as_version=4)
    solution = nbformat.read(notebook_path("solutions", assignment), as_version=4)
    changed = [
        (ours.source, theirs.source)
        for ours, theirs in zip(solution.cells, notebook.cells, strict=True)
        if ours.source != theirs.source
    ]
    assert len(changed) == 1
    original, wrong = changed[0]
    assert cases.definition(wrong, mistake.function) == mistake.apply(
        cases.definition(original, mistake.function)
    ).strip("\n")


# -- the content hash ------------------------------------------------------


@pytest.fixture
def scratch_package(tmp_path, monkeypatch) -> Path:
    """A copy of the package that the registry (and so ``Job.digest``) reads instead."""
    package = tmp_path / "autograder"
    shutil.copytree(PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(registry, "REGISTRY", Registry(package))
    return package


def test_the_digest_covers_helpers_tasks_and_the_grader_and_nothing_else(tmp_path, scratch_package):
    folder = tmp_path / "submitted" / "ada" / "cnn"
    folder.mkdir(parents=True)
    (folder / "cnn.ipynb").write_text("{}")
    job = Job("ada", "cnn", folder, folder / "cnn.ipynb")
    baseline = job.digest()
    assert job.digest() == baseline

    def digest_after_touching(relative: str) -> str:
        path = scratch_package / relative
        original = path.read_bytes()
        path.write_bytes(original + b"\n# touched\n")
        try:
            return job.digest()
        finally:
            path.write_bytes(original)

    for needed in (
        "checks/cnn.py",
        "checks/_digits.py",
        "checks/common.py",
        "tasks/keras_models.py",
        "tasks/__init__.py",
        "sandbox.py",
        "child.py",
        "grade.py",
    ):
        assert digest_after_touching(needed) != baseline, needed
    for unrelated in ("checks/backprop.py", "checks/autoencoder.py", "tasks/attention.py"):
        assert digest_after_touching(unrelated) == baseline, unrelated
    (folder / "cnn.ipynb").write_text("{ }")
    assert job.digest() != baseline
    assert Job("ada", "cnn", folder, None).digest() != baseline


# -- what reaches the terminal ----------------------------------------------

HOSTILE_IDS = ("[bold red]x", "[link=http:evil.example]y", "z\x1b[2J\x07", "w\rover\u202e")


def _outcome(student: str, results: dict, status: str = "graded") -> Outcome:
    job = Job(student, "activations", Path("."), None)
    return Outcome(job, status, Results.from_gradescope(results), 1.0)


def _rendered(renderable, *, terminal: bool) -> str:
    console = Console(
        file=io.StringIO(),
        force_terminal=terminal,
        color_system="truecolor" if terminal else None,
        width=200,
    )
    console.print(renderable)
    return console.file.getvalue()


def test_the_summary_table_shows_ids_as_plain_text():
    results = {"score": 1, "max_score": 30, "tests": []}
    outcomes = [_outcome(student, results) for student in HOSTILE_IDS]
    for terminal in (False, True):
        text = _rendered(summary_table(outcomes), terminal=terminal)
        assert "[bold red]x" in text and "[link=http:evil.example]y" in text
        assert "z\\x1b[2J\\x07" in text and "w\\rover\\u202e" in text
        assert "\x07" not in text and "\r" not in text and "\u202e" not in text
        assert "\x1b[2J" not in text and "\x1b]8;" not in text  # no clear screen, no link
    plain = _rendered(summary_table(outcomes), terminal=False)
    assert "\x1b" not in plain


def test_the_summary_table_marks_flagged_submissions():
    flags = [
        {"kind": "channel", "detail": "a"},
        {"kind": "channel", "detail": "b"},
        {"kind": "[red]limit\x1b[0m", "detail": "c"},
    ]
    honest = {"score": 30, "max_score": 30, "tests": [], "extra_data": {"flags": []}}
    flagged = {"score": 30, "max_score": 30, "tests": [], "extra_data": {"flags": flags}}
    table = _rendered(
        summary_table([_outcome("ada", honest), _outcome("eve", flagged)]), terminal=False
    )
    rows = {line.split("│")[1].strip(): line for line in table.splitlines() if "│" in line}
    assert "flags" in table.splitlines()[2]
    assert "⚑" not in rows["ada"]
    assert "⚑ channel ×2, [red]limit\\x1b[0m" in rows["eve"]
    assert (
        batch_module.flagged([_outcome("ada", honest), _outcome("eve", flagged)])[0].job.student
        == "eve"
    )


@slow
def test_a_batch_of_hostile_ids_and_flags_prints_them_as_plain_text(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # one line per row
    course = make_small_course(tmp_path, {(s, "activations"): "stub" for s in HOSTILE_IDS})
    argv = dict(
        submitted=str(course / "submitted"), assignment=None, student=None, jobs=2, limits=LIMITS
    )
    assert batch_module.main(**argv) == 0
    first = capsys.readouterr().out
    for student in HOSTILE_IDS:
        results = json.loads(
            (course / "autograded" / student / "activations" / "results.json").read_text()
        )
        assert results["score"] == 0 and results["extra_data"]["student"] == student
    assert "[bold red]x" in first and "[link=http:evil.example]y" in first, first
    assert "z\\x1b[2J\\x07" in first and "\x1b" not in first and "\x07" not in first
    assert "flagged" not in first
    # The grader's flags on one submission, its digest kept: reused, and marked.
    path = course / "autograded" / HOSTILE_IDS[0] / "activations" / "results.json"
    results = json.loads(path.read_text())
    results["extra_data"]["flags"] = [{"kind": "patched", "detail": "numpy.allclose"}]
    path.write_text(json.dumps(results))
    assert batch_module.main(**argv) == 0
    second = capsys.readouterr().out
    assert second.count("unchanged") == len(HOSTILE_IDS)
    assert "⚑ patched" in second and "1 submission(s) flagged" in second
    assert scores_by_submission(gradebook_dump(course)) == {
        (student, "activations"): 0 for student in HOSTILE_IDS
    }


# -- two batches on one course ----------------------------------------------


def make_small_course(root: Path, submissions: dict[tuple[str, str], str]) -> Path:
    """A scratch course whose submissions are each assignment's ``solution`` or ``stub``."""
    course = root / "course"
    course.mkdir()
    shutil.copytree(ROOT / "source", course / "source")
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    for (student, assignment), kind in submissions.items():
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        source = notebook_path("solutions" if kind == "solution" else "assignments", assignment)
        shutil.copy(source, folder / f"{assignment}.ipynb")
        (folder / "timestamp.txt").write_text("2026-11-20 12:00:00.000000 UTC")
    return course


class _CountingBatch(Batch):
    """A batch that counts the graders it starts, per submission."""

    started: dict = {}
    guard = threading.Lock()

    def _run_grader(self, job, out_dir, digest):
        with self.guard:
            self.started[(job.student, job.assignment)] = (
                self.started.get((job.student, job.assignment), 0) + 1
            )
        return super()._run_grader(job, out_dir, digest)


@slow
def test_two_batches_on_one_course_grade_each_submission_once_and_agree(tmp_path, monkeypatch):
    submissions = {
        ("alice", "activations"): "solution",
        ("bob", "activations"): "stub",
        ("carol", "gradient_descent"): "solution",
        ("dave", "gradient_descent"): "stub",
    }
    course = make_small_course(tmp_path, submissions)
    monkeypatch.setattr(_CountingBatch, "started", {})
    jobs = find_jobs(course / "submitted")
    assert len(jobs) == len(submissions)
    outcomes: dict[int, list[Outcome]] = {}
    errors: list[BaseException] = []
    ready = threading.Barrier(2)

    def run(index: int) -> None:
        try:
            batch = _CountingBatch(course, jobs=2, limits=LIMITS)
            ready.wait()
            outcomes[index] = batch.run(jobs, Console(file=io.StringIO()))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not errors, errors
    # Each submission graded by one batch, reused by the other.
    assert _CountingBatch.started == {key: 1 for key in submissions}
    for key in submissions:
        statuses = sorted(
            o.status
            for run in outcomes.values()
            for o in run
            if (o.job.student, o.job.assignment) == key
        )
        assert statuses == ["graded", "unchanged"], (key, statuses)
    # results.json and the gradebook agree, and on the right scores.
    in_gradebook = scores_by_submission(gradebook_dump(course))
    for (student, assignment), kind in submissions.items():
        folder = course / "autograded" / student / assignment
        results = json.loads((folder / "results.json").read_text())
        assert in_gradebook[(student, assignment)] == results["score"]
        assert (results["score"] == results["max_score"]) == (kind == "solution") and results[
            "max_score"
        ] > 0
        job = next(j for j in jobs if (j.student, j.assignment) == (student, assignment))
        assert results["extra_data"]["digest"] == job.digest()
        # Nothing left behind: no temporary files, no lock files.
        assert {p.name for p in folder.iterdir()} == {
            "results.json",
            f"{assignment}.ipynb",
            "timestamp.txt",
        }
    leftovers = [
        p
        for p in course.rglob("*")
        if p.is_file()
        and (p.suffix in (".tmp", ".lock") or "partial" in p.name)
        and p.name != ".autograder.lock"
    ]
    assert leftovers == []
    assert list((course / LOCKS_DIR).iterdir()) == []


@slow
def test_a_batch_waits_for_a_submission_another_holds_then_reuses_it(tmp_path):
    course = make_small_course(tmp_path, {("alice", "activations"): "solution"})
    (job,) = find_jobs(course / "submitted")
    first = Batch(course, jobs=1, limits=LIMITS, gradebook=False)
    graded = first.grade(job)
    assert graded.status == "graded"
    holder = Batch(course, jobs=1, limits=LIMITS, gradebook=False)
    result: list[Outcome] = []
    with holder._submission_lock(job):
        waiter = threading.Thread(target=lambda: result.append(first.grade(job)))
        waiter.start()
        time.sleep(1.0)
        assert not result  # still waiting for the lock
    waiter.join(timeout=60)
    assert [o.status for o in result] == ["unchanged"]
    assert result[0].results == graded.results
    assert not job.lock_path(course).exists()
