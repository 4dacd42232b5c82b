"""`nbgrader autograde` and formgrader's buttons give the grade of `autograder grade submitted/`.

The course's nbgrader_config.py puts the kit's grader into nbgrader's own pipeline
(autograder/nbgrader_grading.py): nbgrader autograde grades the submitted notebook
with the kit's batch, in the sandbox, and no kernel runs. One scratch course with an
honest, a partial and two cheating submissions is graded three ways: by the kit's
batch, by `nbgrader autograde` on an ungraded copy, and by formgrader's Autograde
button (NbGraderAPI.autograde) on a copy the kit had graded first.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.apps import NbGraderAPI
from nbgrader.converters import Autograde
from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import determine_grade

from autograder import nbgrader_grading, registry
from autograder.batch import Outcome, find_jobs
from autograder.gradebook import course_config
from autograder.results import Results
from autograder.sample_class import handed_in, make_course
from tests.conftest import ROOT
from tests.test_batch import gradebook_dump

ASSIGNMENT = "activations"
BIN = Path(sys.executable).parent
#: Who hands in what.
KINDS = {"ada": "honest", "ben": "partial", "cleo": "cheat", "dan": "forger", "eve": "naive"}
FAKE = "forged by the student"


def forger_notebook() -> bytes:
    """The released stub, plus a cell that writes a full-marks results.json wherever it can:
    its working folder (nbgrader's autograded folder, in a kernel) and any course above it."""
    notebook = nbformat.reads(handed_in(ROOT, ASSIGNMENT, "cheat").decode(), as_version=4)
    fake = json.dumps({"score": 30, "max_score": 30, "tests": [], "output": FAKE})
    notebook.cells[1] = nbformat.v4.new_code_cell(
        "from pathlib import Path\n"
        "here = Path.cwd()\n"
        "targets = [here / 'results.json'] + [\n"
        f"    up / step / 'dan' / {ASSIGNMENT!r} / 'results.json'\n"
        "    for up in here.parents for step in ('autograded', 'submitted')\n"
        "]\n"
        "for path in targets:\n"
        "    try:\n"
        f"        path.write_text({fake!r})\n"
        "    except OSError:\n"
        "        pass\n"
    )
    return nbformat.writes(notebook).encode()


def naive_notebook() -> bytes:
    """The solution with a softmax that overflows: some of softmax's checks pass, not all."""
    notebook = nbformat.reads(handed_in(ROOT, ASSIGNMENT, "honest").decode(), as_version=4)
    (cell,) = [
        c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "softmax"
    ]
    cell.source = (
        "def softmax(z, axis=-1):\n"
        "    e = np.exp(np.asarray(z, dtype=float))  # not shifted: overflows for large z\n"
        "    return e / e.sum(axis=axis, keepdims=True)\n"
    )
    return nbformat.writes(notebook).encode()


def build_course(course: Path) -> None:
    make_course(course, ROOT)
    for student, kind in KINDS.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / "timestamp.txt").write_text("2026-11-20 09:00:00.000000 UTC")
        notebook = folder / f"{ASSIGNMENT}.ipynb"
        if kind == "forger":
            notebook.write_bytes(forger_notebook())
        elif kind == "naive":
            notebook.write_bytes(naive_notebook())
        else:
            notebook.write_bytes(handed_in(ROOT, ASSIGNMENT, kind))
    # The forger also hands in a results.json with full marks, stamped with the very
    # digest the kit will compute for that notebook.
    (job,) = find_jobs(course / "submitted", student="dan")
    forged = {"score": 30, "max_score": 30, "tests": [], "output": FAKE}
    forged["extra_data"] = {"digest": job.digest(), "student": "dan", "assignment": ASSIGNMENT}
    (job.folder / "results.json").write_text(json.dumps(forged))


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(course)}
    if "PYTHONPATH" in os.environ:  # the kit under test, where it is not the installed one
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return subprocess.run(
        [str(BIN / "nbgrader"), *args, "--log-level=INFO"],
        cwd=course, capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip


def api(course: Path) -> NbGraderAPI:
    """The API formgrader's buttons call, configured from the course's nbgrader_config.py."""
    config = course_config(course)
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def results_of(course: Path) -> dict[str, dict]:
    """Each student's results.json, without what varies between runs (times, limits used)."""
    documents = {}
    for student in KINDS:
        path = course / "autograded" / student / ASSIGNMENT / "results.json"
        document = json.loads(path.read_text())
        extra = document.get("extra_data", {})
        documents[student] = {
            "score": document["score"],
            "max_score": document["max_score"],
            "output": document.get("output"),
            "tests": document["tests"],
            "extra_data": {k: extra.get(k) for k in ("assignment", "student", "seed", "digest")},
        }
    return documents


@pytest.fixture(scope="module")
def courses(tmp_path_factory) -> dict[str, Path]:
    """kit: graded by `autograder grade submitted/`; cli: by `nbgrader autograde` alone;
    button: graded by the kit, then by formgrader's Autograde button for every student."""
    root = tmp_path_factory.mktemp("parity")
    kit, cli, button = root / "kit", root / "cli", root / "button"
    build_course(kit)
    shutil.copytree(kit, cli)
    graded = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(kit / "submitted"), "--jobs", "2"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert graded.returncode == 0, graded.stdout + graded.stderr
    shutil.copytree(kit, button)
    for command in (("generate_assignment", ASSIGNMENT), ("autograde", ASSIGNMENT, "--force")):
        done = nbgrader(cli, *command)
        assert done.returncode == 0, done.stdout + done.stderr
    for student in KINDS:
        answer = api(button).autograde(ASSIGNMENT, student)
        assert answer["success"], answer
    done = nbgrader(cli, "generate_feedback", ASSIGNMENT, "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    return {"kit": kit, "cli": cli, "button": button}


@pytest.mark.slow
def test_the_kit_grades_honest_partial_and_cheating_work_apart(courses):
    results = results_of(courses["kit"])
    scores = {student: results[student]["score"] for student in KINDS}
    full = sum(check.points for check in registry.assignment(ASSIGNMENT).graded)
    assert scores["ada"] == results["ada"]["max_score"] == full
    assert 0 < scores["ben"] < full and 0 < scores["eve"] < full
    assert scores["cleo"] == scores["dan"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("path", ["cli", "button"])
def test_nbgrader_autograde_gives_exactly_the_kit_s_grades(courses, path):
    assert gradebook_dump(courses[path]) == gradebook_dump(courses["kit"])
    assert results_of(courses[path]) == results_of(courses["kit"])
    # partial credit within a cell: the naive softmax passes some of its checks
    softmax = gradebook_dump(courses[path])[("eve", ASSIGNMENT, "test_softmax")]
    assert 0 < softmax < sum(
        t["max_score"] for t in results_of(courses["kit"])["eve"]["tests"]
        if t["name"].startswith("test_softmax_")
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("path", ["cli", "button"])
def test_no_submitted_or_forged_results_json_replaces_the_kit_s(courses, path):
    for student in KINDS:
        text = (courses[path] / "autograded" / student / ASSIGNMENT / "results.json").read_text()
        assert FAKE not in text
    dan = results_of(courses[path])["dan"]
    assert dan["score"] == 0 and len(dan["tests"]) > 1


@pytest.mark.slow
def test_graded_cells_carry_the_kit_s_points_and_messages(courses):
    results = results_of(courses["cli"])["ben"]
    failed = [t for t in results["tests"] if t["status"] == "failed"]
    assert failed
    notebook = nbformat.read(
        courses["cli"] / "autograded" / "ben" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4
    )
    graded = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert graded
    text = ""
    for cell in graded:
        kinds = [(o.output_type, o.get("name")) for o in cell.outputs]
        assert kinds == [("stream", "stdout"), ("execute_result", None)]
        float(cell.outputs[1].data["text/plain"])
        text += cell.outputs[0].text
    for test in failed:
        assert test["output"].splitlines()[0] in text


@pytest.mark.slow
def test_generate_feedback_shows_the_kit_s_messages_and_nothing_hidden(courses):
    results = results_of(courses["cli"])
    checks_source = (ROOT / "autograder" / "checks" / f"{ASSIGNMENT}.py").read_text()
    for student in KINDS:
        page = (
            courses["cli"] / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        ).read_text()
        assert "HIDDEN TESTS" not in page and "from autograder" not in page
        assert "def test_" not in page and "@points" not in page
        for test in results[student]["tests"]:
            assert test["name"] in checks_source
            line = test["output"].splitlines()[0]
            assert html.escape(line) in page or html.escape(line, quote=False) in page


@pytest.mark.slow
def test_a_results_json_copied_from_the_submission_is_not_the_kit_s(courses, tmp_path):
    """Even where nbgrader copies the submission's results.json (no ignore rule for it)."""
    course = tmp_path / "course"
    shutil.copytree(courses["cli"], course)
    done = nbgrader(course, "autograde", ASSIGNMENT, "--student", "dan", "--force",
                    "--CourseDirectory.ignore=['.ipynb_checkpoints']")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert results_of(course)["dan"] == results_of(courses["kit"])["dan"]
    assert FAKE not in (course / "autograded" / "dan" / ASSIGNMENT / "results.json").read_text()


@pytest.mark.slow
def test_autograde_refuses_a_pipeline_that_runs_the_student_s_kernel(courses, tmp_path):
    course = tmp_path / "course"
    shutil.copytree(courses["kit"], course)
    before = gradebook_dump(course)
    stock = "['nbgrader.preprocessors.Execute', 'nbgrader.preprocessors.SaveAutoGrades']"
    done = nbgrader(course, "autograde", ASSIGNMENT, "--student", "cleo", "--force",
                    f"--Autograde.autograde_preprocessors={stock}")  # fmt: skip
    assert done.returncode != 0
    assert "refusing to autograde" in done.stdout + done.stderr
    assert "GradeWithKit" in done.stdout + done.stderr
    assert gradebook_dump(course) == before


@pytest.mark.slow
def test_autograde_records_nothing_when_the_kit_cannot_grade(courses, tmp_path, monkeypatch):
    course = tmp_path / "course"
    shutil.copytree(courses["kit"], course)
    before = gradebook_dump(course)

    def fails(self, job):
        return Outcome(job, "failed", Results([], notes=["The grader failed on this submission."]))

    monkeypatch.setattr(nbgrader_grading.Batch, "grade", fails)
    answer = api(course).autograde(ASSIGNMENT, "ada")
    assert not answer["success"]
    assert "the kit could not grade ada/activations" in answer["log"]
    assert gradebook_dump(course) == before


@pytest.mark.slow
def test_generate_feedback_refuses_without_a_current_grade_from_the_kit(courses, tmp_path):
    course = tmp_path / "course"
    shutil.copytree(courses["cli"], course)
    # ada hands in again (nbgrader collect updates the timestamp); ben's grade is gone
    (course / "submitted" / "ada" / ASSIGNMENT / "timestamp.txt").write_text(
        "2026-11-21 09:00:00.000000 UTC"
    )
    (course / "autograded" / "ben" / ASSIGNMENT / "results.json").unlink()
    for student, reason in (("ada", "handed in again"), ("ben", "no grade from the kit")):
        done = nbgrader(course, "generate_feedback", ASSIGNMENT, "--student", student, "--force")
        assert done.returncode != 0 and reason in done.stdout + done.stderr
        assert not (course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").exists()


# -- the pieces, without grading ---------------------------------------------------
STOCK = list(Autograde.class_traits()["autograde_preprocessors"].default())


def test_only_a_pipeline_that_grades_with_the_kit_is_accepted():
    config = course_config(ROOT)
    nbgrader_grading.check_autograde_pipeline(config.Autograde.autograde_preprocessors)
    kit = "autograder.nbgrader_grading.GradeWithKit"
    for pipeline in (STOCK, [kit, *STOCK], STOCK[1:], [*STOCK[1:], kit]):
        with pytest.raises(nbgrader_grading.KitGradingError, match="refusing to autograde"):
            nbgrader_grading.check_autograde_pipeline(pipeline)


def test_graded_cells_give_nbgrader_the_kit_s_partial_credit():
    notebook = nbformat.read(ROOT / "assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    cell = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade"))
    function = cell.metadata.nbgrader.grade_id.removeprefix("test_")
    results = {
        "tests": [
            {"name": f"test_{function}_a", "score": 1.0, "max_score": 1.0, "status": "passed",
             "output": "Passed."},
            {"name": f"test_{function}_b", "score": 0.0, "max_score": 1.0, "status": "failed",
             "output": "a <message> for the student"},
        ],
        "output": "a note of the grader",
    }  # fmt: skip
    cell.metadata.nbgrader.points = 2.0
    written = nbgrader_grading.fill_grade_cells(notebook, results)
    assert written[cell.metadata.nbgrader.grade_id] == 1.0
    assert determine_grade(cell) == (1.0, 2.0)
    assert "a <message> for the student" in cell.outputs[0].text
    assert "a note of the grader" in cell.outputs[0].text
    others = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")][1:]
    assert all(determine_grade(c)[0] == 0 for c in others)


def test_hidden_test_regions_are_stripped_from_feedback():
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("a = 1\n### BEGIN HIDDEN TESTS\nsecret()\n### END HIDDEN TESTS\nb = 2"),
            nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\nsecret()  # never closed"),
        ]
    )  # fmt: skip
    nbgrader_grading.strip_hidden_tests(notebook)
    assert [c.source for c in notebook.cells] == ["a = 1\nb = 2", ""]
