"""`make notebooks` regenerates only what changed; `make demo` grades in parallel and shows
each kind of work once."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from rich.console import Console

from autograder import demo, generate, registry, sample_class
from autograder.generate import Generated, StableOutputs, source_digest, stable_text, stale
from autograder.sample_class import KINDS, demo_class, make_demo_class
from tests.conftest import ASSIGNMENTS, ROOT

slow = pytest.mark.slow
#: A numpy assignment whose notebooks the tests copy or regenerate (no Keras, no training).
NUMPY = "activations"


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A fresh clone of the repository's last commit, as a new user gets it."""
    target = tmp_path_factory.mktemp("clone") / "course"
    git("clone", "--quiet", "--local", str(ROOT), str(target), cwd=ROOT)
    return target


@pytest.fixture
def scratch_clone(clone, tmp_path) -> Path:
    """A copy of the clone that a test may change."""
    target = tmp_path / "course"
    shutil.copytree(clone, target, symlinks=True)
    return target


# -- what is stale ------------------------------------------------------------------
def test_a_fresh_clone_has_no_stale_notebook_and_regeneration_leaves_it_clean(clone):
    assert stale(clone) == []
    assert generate.main(["--course", str(clone)]) == 0  # `make notebooks`: nothing to do
    assert git("status", "--porcelain", cwd=clone) == ""


def _edit_source(course: Path, assignment: str, edit) -> None:
    path = course / "source" / assignment / f"{assignment}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    edit(notebook)
    nbformat.write(notebook, path)


def test_a_changed_lesson_makes_both_notebooks_stale(scratch_clone):
    def edit(notebook):
        notebook.cells[0].source += "\n\nOne more sentence of the lesson."

    _edit_source(scratch_clone, NUMPY, edit)
    assert stale(scratch_clone) == [Generated(NUMPY, "released"), Generated(NUMPY, "solution")]


def test_a_changed_solution_makes_only_the_solution_stale(scratch_clone):
    """The released notebook holds the stub, not the solution: it is not regenerated."""

    def edit(notebook):
        cell = next(c for c in notebook.cells if "### END SOLUTION" in c.source)
        cell.source = cell.source.replace("### END SOLUTION", "# (a comment)\n### END SOLUTION")

    _edit_source(scratch_clone, NUMPY, edit)
    assert stale(scratch_clone, [NUMPY]) == [Generated(NUMPY, "solution")]


def test_a_source_saved_again_unchanged_is_not_stale(scratch_clone):
    """Saving a source notebook anew (other bytes, same cells) regenerates nothing."""
    path = scratch_clone / "source" / NUMPY / f"{NUMPY}.ipynb"
    before = source_digest(scratch_clone, NUMPY)
    path.write_text(json.dumps(json.loads(path.read_text()), indent=2) + "\n")
    assert source_digest(scratch_clone, NUMPY) != before
    assert stale(scratch_clone, [NUMPY]) == []


def test_a_missing_notebook_is_stale(scratch_clone):
    Generated(NUMPY, "solution").path(scratch_clone).unlink()
    assert stale(scratch_clone, [NUMPY]) == [Generated(NUMPY, "solution")]


def test_a_regenerated_notebook_carries_the_stamp_of_its_source(scratch_clone):
    """Regenerating (here the released notebook: nothing executes) stamps it; while the
    stamp matches its source, the notebook is fresh without a look at its cells."""
    shutil.copyfile(ROOT / "nbgrader_config.py", scratch_clone / "nbgrader_config.py")
    released = Generated(NUMPY, "released")
    path = released.path(scratch_clone)
    before = nbformat.read(path, as_version=4)
    generate.regenerate(scratch_clone, [released], log=lambda line: None)
    after = nbformat.read(path, as_version=4)
    assert after.metadata["autograder"][generate.STAMP] == source_digest(scratch_clone, NUMPY)
    assert generate.comparable(after) == generate.comparable(before)
    assert stale(scratch_clone, [NUMPY]) == []
    after.cells[0].source = "edited by hand"  # trusted: the stamp says what it was made from
    nbformat.write(after, path)
    assert stale(scratch_clone, [NUMPY]) == []

    def edit(notebook):
        notebook.cells[0].source += "\n\nOne more sentence of the lesson."

    _edit_source(scratch_clone, NUMPY, edit)  # the stamp no longer matches: content decides
    assert stale(scratch_clone, [NUMPY]) == [released, Generated(NUMPY, "solution")]


# -- stable outputs -----------------------------------------------------------------
TF_START_UP = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    "I0000 00:00:1796245633.902821   14777 port.cc:153] oneDNN custom operations are on.\n"
    "I0000 00:00:1796245634.015250   14777 cpu_feature_guard.cc:227] This TensorFlow binary "
    "is optimized to use available CPU instructions in performance-critical operations.\n"
    "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild "
    "TensorFlow with the appropriate compiler flags.\n"
    "2026-12-02 21:07:12.123456: E tensorflow/core/util/port.cc:113] cuInit failed\n"
)


def test_stable_outputs_drop_timestamps_tensorflow_logs_and_progress_bars():
    cell = nbformat.v4.new_code_cell("import keras")
    cell.metadata["execution"] = {"iopub.status.busy": "2026-12-02T21:07:12.880714Z"}
    cell.metadata["nbgrader"] = {"grade": False}
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text=TF_START_UP),
        nbformat.v4.new_output(
            "stream",
            name="stdout",
            text="WARNING:tensorflow:5 out of the last 6 calls to <function f at 0x7f9d83f0b380>"
            " triggered tf.function retracing.\n"
            "1/1 ━━━━━━━━━━━━━━━━━━━━ 0s 31ms/step\n"
            "validation accuracy: 100.0%\n",
        ),
        nbformat.v4.new_output("display_data", data={"text/plain": "<Figure>"}),
    ]
    kept, _ = StableOutputs().preprocess_cell(copy.deepcopy(cell), {}, 0)
    assert "execution" not in kept.metadata and kept.metadata["nbgrader"] == {"grade": False}
    assert [o.output_type for o in kept.outputs] == ["stream", "display_data"]
    assert kept.outputs[0].text == "validation accuracy: 100.0%\n"


def test_stable_text_keeps_what_a_lesson_prints():
    lesson = (
        "Epoch 1/5: loss 0.42\n"
        "I learned 3 things: 1/2 of them are 0.5s long\n"
        "WARNING: your learning rate is large\n"
        "trained in 0.18 s; loss 0.2950 -> 0.0150\n"
    )
    assert stable_text(lesson) == lesson
    assert stable_text(TF_START_UP + lesson) == lesson


def test_the_course_config_runs_the_stable_steps_after_execution():
    config_text = (ROOT / "nbgrader_config.py").read_text()
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    solution = list(config.GenerateSolution.preprocessors)
    execute = solution.index("nbgrader.preprocessors.Execute")
    assert solution.index("autograder.generate.StableOutputs") > execute
    assert solution[-1] == "autograder.generate.StampSource"
    assert config.GenerateAssignment.preprocessors[-1] == "autograder.generate.StampSource"
    assert "RECIPE" in config_text  # the config tells who changes a pipeline what to bump


# -- the demo -----------------------------------------------------------------------
def test_the_demo_class_shows_each_kind_of_work_once():
    kinds = demo_class(ASSIGNMENTS)
    by_student: dict[str, set[str]] = {}
    for (student, _), kind in kinds.items():
        by_student.setdefault(student, set()).add(kind)
    assert all(len(found) == 1 for found in by_student.values()), by_student
    assert sorted(next(iter(k)) for k in by_student.values()) == sorted(KINDS)
    trains = {a for a in ASSIGNMENTS if any(c.trains for c in registry.assignment(a).graded)}
    keras = {(s, a): kind for (s, a), kind in kinds.items() if a in trains}
    assert set(keras.values()) == {"mistake"}, "Keras only where the kind needs it"
    assert {a for (_, a) in keras} == {sample_class.KERAS_MISTAKE, sample_class.CAPSTONE}
    numpy = [a for a in ASSIGNMENTS if a not in trains]
    assert {a for (_, a) in kinds if a not in trains} == set(numpy), "every numpy assignment"
    from_reference = [a for (_, a), kind in kinds.items()
                      if kind in sample_class.FROM_REFERENCE and a in numpy]  # fmt: skip
    assert len(from_reference) == len(set(from_reference)), "no two copies of one reference"


def test_the_course_notebooks_are_graded_slowest_first():
    jobs = [
        demo.Job(kind, a, ROOT, ROOT / f"{a}.ipynb")
        for a in ("activations", "cnn")
        for kind in ("released", "solution")
    ]
    kinds = {(job.student, job.assignment): job.student for job in jobs}
    order = [(job.student, job.assignment) for job in demo.slowest_first(jobs, kinds)]
    assert order == [
        ("solution", "cnn"),
        ("solution", "activations"),
        ("released", "cnn"),
        ("released", "activations"),
    ]


def _small_course(tmp_path: Path, assignments: list[str]) -> Path:
    course = tmp_path / "root"
    for folder in ("source", "solutions", "assignments"):
        for assignment in assignments:
            shutil.copytree(ROOT / folder / assignment, course / folder / assignment)
    shutil.copyfile(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    return course


@slow
def test_the_demo_grades_the_course_notebooks_in_parallel(tmp_path):
    """References full, stubs 0, graded two at a time."""
    course = _small_course(tmp_path, [NUMPY, "gradient_descent"])
    console = Console(record=True, width=200)
    assert demo.grade_course_notebooks(console, course, tmp_path / "scratch", jobs=2)
    rows = [line.split("│") for line in console.export_text().splitlines() if "│" in line]
    scores = {row[2].strip(): row[3].strip() for row in rows if len(row) > 3}
    for assignment in (NUMPY, "gradient_descent"):
        points = f"{registry.assignment(assignment).points:g}"
        assert scores[f"solutions/{assignment}/{assignment}.ipynb"] == f"{points} / {points}"
        assert scores[f"assignments/{assignment}/{assignment}.ipynb"] == f"0 / {points}"
    # and a notebook that scores other than it must fails the demo
    released = course / "solutions" / NUMPY / f"{NUMPY}.ipynb"
    shutil.copyfile(course / "assignments" / NUMPY / f"{NUMPY}.ipynb", released)
    assert not demo.grade_course_notebooks(console, course, tmp_path / "again", jobs=2)


@slow
def test_the_demo_class_scores_as_each_kind_should_into_the_gradebook(tmp_path):
    """Honest and late full, partial and mistaken some, cheating, broken and missing 0; the
    grades CSV of `nbgrader export` and a feedback page per submission."""
    numpy = [a for a in ASSIGNMENTS if not any(c.trains for c in registry.assignment(a).graded)]
    course = _small_course(tmp_path, numpy)
    console = Console(record=True, width=200)
    assert demo.grade_sample_class(console, course, jobs=2)
    demo_course = course / "demo-course"
    grades = (demo_course / "grades.csv").read_text().splitlines()
    kinds = make_demo_class(tmp_path / "kinds", course, numpy)
    rows = [line.split(",") for line in grades[1:]]
    header = grades[0].split(",")
    score, most = header.index("raw_score"), header.index("max_score")
    student, assignment = header.index("student_id"), header.index("assignment")
    scores = {(r[student], r[assignment]): (float(r[score] or 0), float(r[most])) for r in rows}
    for (who, what), kind in kinds.items():
        got, points = scores[(who, what)]
        assert points > 0
        if kind in ("honest", "late"):
            assert got == points, (who, what, kind)
        elif kind in ("partial", "mistake"):
            assert 0 < got < points, (who, what, kind)
        else:
            assert got == 0, (who, what, kind)
    pages = list((demo_course / "feedback").rglob("*.html"))
    assert len(pages) >= len([k for k in kinds.values() if k != "missing"])
    # The class report: each kind where it belongs (the late and missing student, the cheat).
    by_kind = {kind: key for key, kind in kinds.items()}
    for kind, start, end in (("late", "late by", "</table>"), ("missing", "Missing (", "</p>"),
                             ("cheat", "Flagged by the grader (1)", "</table>")):  # fmt: skip
        who, what = by_kind[kind]
        page = (demo_course / "reports" / what / "index.html").read_text()
        assert re.search(rf"\b{who}\b", page.split(start)[1].split(end)[0]), kind
    who, what = by_kind["honest"]
    assert "Nobody handed in late" in (demo_course / "reports" / what / "index.html").read_text()
    for assignment in numpy:  # each made from the reference on an assignment of its own
        assert (
            "Alike code (0 pairs)"
            in (demo_course / "reports" / assignment / "index.html").read_text()
        )
    course_page = (demo_course / "reports" / "index.html").read_text()
    assert all(f"<td>{who}</td>" in course_page for who, _ in kinds)
