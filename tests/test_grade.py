"""Grading whole notebooks end to end, in the sandbox, as `autograder grade` does."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import nbformat
import pytest

from autograder.grade import grade_notebook
from autograder.sandbox import Limits
from tests.conftest import ASSIGNMENTS, SOLUTION_RUNS, notebook_path

pytestmark = pytest.mark.slow


def test_every_assignment_has_a_notebook_and_checks():
    assert set(ASSIGNMENTS) >= {"gradient_descent", "backprop", "activations"}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_gets_full_marks_on_a_seed_drawn_per_run(graded_solutions, assignment):
    runs = graded_solutions[assignment]
    for run in runs:
        failed = [t["name"] + ": " + t["output"] for t in run["tests"] if t["status"] != "passed"]
        assert not failed, failed
        assert run["score"] == run["max_score"] > 0
    assert len({run["extra_data"]["seed"] for run in runs}) == SOLUTION_RUNS
    assert len({run["score"] for run in runs}) == 1


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_notebook_scores_zero_saying_not_implemented(graded_released, assignment):
    document = graded_released[assignment]
    assert document["score"] == 0
    assert document["max_score"] > 0
    for test in document["tests"]:
        assert test["status"] == "failed"
        assert "not implemented yet" in test["output"], test


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_results_follow_gradescope_format(graded_solutions, assignment):
    document = graded_solutions[assignment][0]
    assert set(document) >= {"score", "max_score", "execution_time", "tests"}
    for test in document["tests"]:
        assert set(test) == {"name", "score", "max_score", "status", "output", "visibility"}
        assert test["name"].startswith("test_")
        assert test["status"] in ("passed", "failed")
    assert document["extra_data"]["sandbox"] in ("bubblewrap", "none")
    json.dumps(document)  # plain JSON


def test_cli_writes_results_and_exits_zero_whatever_the_score(tmp_path):
    results = tmp_path / "out" / "results.json"
    released = notebook_path("assignments", ASSIGNMENTS[0])
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            str(released),
            "--assignment",
            ASSIGNMENTS[0],
            "--results",
            str(results),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert process.returncode == 0, process.stderr
    document = json.loads(results.read_text())
    assert document["score"] == 0 and document["max_score"] > 0


def test_cli_infers_the_assignment_from_metadata(tmp_path):
    assignment = ASSIGNMENTS[-1]
    renamed = tmp_path / "my_homework.ipynb"
    renamed.write_bytes(notebook_path("assignments", assignment).read_bytes())
    results = tmp_path / "results.json"
    process = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(renamed), "--results", str(results)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert process.returncode == 0, process.stderr
    assert json.loads(results.read_text())["extra_data"]["assignment"] == assignment


def test_cli_refuses_an_unknown_assignment_clearly(tmp_path):
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            str(tmp_path / "x.ipynb"),
            "--assignment",
            "no_such_thing",
            "--results",
            str(tmp_path / "r.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert process.returncode == 2
    assert "unknown assignment 'no_such_thing'" in process.stderr


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "empty"), (b'{"cells": [', "not valid JSON"), (b'{"a": 1}', "not a Jupyter notebook")],
    ids=["empty", "invalid-json", "not-a-notebook"],
)
def test_broken_files_score_zero_with_the_reason(tmp_path, content, reason):
    path = tmp_path / "broken.ipynb"
    path.write_bytes(content)
    document = grade_notebook(path, assignment=ASSIGNMENTS[0]).to_gradescope()
    assert document["score"] == 0 and document["max_score"] > 0
    assert reason in document["output"]
    assert all(reason in test["output"] for test in document["tests"])


def _edited(tmp_path, assignment, edit, name="edited.ipynb"):
    notebook = nbformat.read(notebook_path("solutions", assignment), as_version=4)
    edit(notebook)
    path = tmp_path / name
    nbformat.write(notebook, path)
    return path


def _is_test_cell(cell):
    meta = cell.metadata.get("nbgrader", {})
    return meta.get("grade") and not meta.get("solution")


def test_visible_test_cells_do_not_count(tmp_path):
    """Deleting or rewriting the visible tests changes nothing either way."""
    assignment = ASSIGNMENTS[0]

    def sabotage(notebook):
        for cell in notebook.cells:
            if _is_test_cell(cell):
                cell.source = "assert False, 'rewritten by the student'"

    document = grade_notebook(
        _edited(tmp_path, assignment, sabotage), assignment=assignment
    ).to_gradescope()
    assert document["score"] == document["max_score"]

    def delete_tests(notebook):
        notebook.cells = [c for c in notebook.cells if not _is_test_cell(c)]

    document = grade_notebook(
        _edited(tmp_path, assignment, delete_tests), assignment=assignment
    ).to_gradescope()
    assert document["score"] == document["max_score"]


def test_deleted_solution_cells_lose_only_their_functions(tmp_path):
    assignment = ASSIGNMENTS[0]
    removed = []

    def delete_first_solution(notebook):
        for i, cell in enumerate(notebook.cells):
            if cell.metadata.get("nbgrader", {}).get("solution"):
                removed.append(cell.metadata["nbgrader"]["grade_id"])
                del notebook.cells[i]
                return

    document = grade_notebook(
        _edited(tmp_path, assignment, delete_first_solution), assignment=assignment
    ).to_gradescope()
    assert 0 < document["score"] < document["max_score"]
    lost = [t for t in document["tests"] if t["status"] == "failed"]
    assert any("is not defined in your notebook" in t["output"] for t in lost)


def test_reordered_cells_give_a_clear_result(tmp_path):
    assignment = ASSIGNMENTS[0]
    document = grade_notebook(
        _edited(tmp_path, assignment, lambda nb: nb.cells.reverse()), assignment=assignment
    ).to_gradescope()
    # The imports now run last, so functions that need numpy at call time still
    # work, and cells that used a function before its definition are reported.
    assert document["max_score"] > 0
    assert "raised NameError" in document["output"]


@pytest.mark.parametrize(
    ("cell", "note"),
    [
        ("while True:\n    pass", "did not finish within 3 s"),
        ("import numpy as np\nwaste = np.ones(int(50e9 / 8))", "MemoryError"),
        ("print('x' * 100_000_000)", "printed 100,000,001 characters"),
    ],
    ids=["infinite-loop", "50GB-allocation", "100MB-print"],
)
def test_a_runaway_cell_is_reported_and_the_rest_graded(tmp_path, cell, note):
    assignment = ASSIGNMENTS[0]
    path = _edited(
        tmp_path, assignment, lambda nb: nb.cells.insert(1, nbformat.v4.new_code_cell(cell))
    )
    document = grade_notebook(
        path, assignment=assignment, limits=Limits(cell_timeout=3)
    ).to_gradescope()
    assert note in document["output"]
    assert document["score"] == document["max_score"]


def test_training_checks_report_what_they_measured(graded_solutions):
    """Measured figures go to extra_data.metrics beside their thresholds, for the records."""
    for assignment, runs in graded_solutions.items():
        for run in runs:
            assert 0 < run["extra_data"]["notebook_seconds"] <= run["execution_time"]
            for metric in run["extra_data"].get("metrics", {}).values():
                assert metric["passed"] and set(metric) == {
                    "value",
                    "threshold",
                    "higher_is_better",
                    "passed",
                }, (assignment, metric)
    if "rbm" in graded_solutions:
        assert "rbm_feature_accuracy" in graded_solutions["rbm"][0]["extra_data"]["metrics"]


def test_the_grader_process_never_imports_keras():
    """Keras runs in the sandboxed child only; the grader's process needs numpy."""
    keras_assignments = [
        a for a in ASSIGNMENTS if "import keras" in notebook_path("solutions", a).read_text()
    ]
    assert keras_assignments
    script = (
        "import sys\n"
        "from autograder.grade import grade_notebook\n"
        f"doc = grade_notebook({str(notebook_path('solutions', keras_assignments[0]))!r})\n"
        "assert doc.score == doc.max_score, doc\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('keras', 'tensorflow')]\n"
        "assert not loaded, loaded\n"
    )
    process = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             timeout=300)  # fmt: skip
    assert process.returncode == 0, process.stderr[-2000:]


def test_the_file_name_decides_the_assignment_and_a_disagreeing_metadata_is_reported(tmp_path):
    """``backprop.ipynb`` holding the activations solution is graded as backprop, and says so."""
    path = tmp_path / "backprop.ipynb"
    path.write_bytes(notebook_path("solutions", "activations").read_bytes())
    document = grade_notebook(path).to_gradescope()
    assert document["extra_data"]["assignment"] == "backprop"
    assert document["score"] < document["max_score"]
    assert "metadata says it is the assignment `activations`" in document["output"]
    assert [f["kind"] for f in document["extra_data"]["flags"]] == ["metadata"]


def test_the_grader_process_has_a_memory_limit_of_its_own(tmp_path):
    """With a grader memory limit far too small for it, the grader cannot even load its checks."""
    results = tmp_path / "results.json"
    argv = [sys.executable, "-m", "autograder", "grade",
            str(notebook_path("solutions", "activations")), "--results", str(results)]  # fmt: skip
    small = subprocess.run([*argv, "--grader-memory-gb", "0.02"], capture_output=True, timeout=300)
    assert small.returncode != 0 and not results.exists()
    assert b"MemoryError" in small.stderr


def test_a_renamed_helper_is_told_as_a_function_that_could_not_run(tmp_path):
    """sigmoid renamed: its own checks say it is not defined; sigmoid_derivative, which
    calls it, could not run, and is told which name is missing, with no hint about values."""
    assignment = "activations"

    def rename_sigmoid(notebook):
        for cell in notebook.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == "sigmoid":
                cell.source = cell.source.replace("def sigmoid(", "def my_sigmoid(", 1)

    document = grade_notebook(
        _edited(tmp_path, assignment, rename_sigmoid), assignment=assignment
    ).to_gradescope()
    outputs = {t["name"]: t["output"] for t in document["tests"] if t["status"] == "failed"}
    assert "is not defined in your notebook" in outputs["test_sigmoid_values_match_reference"]
    derivative = [o for n, o in outputs.items() if n.startswith("test_sigmoid_derivative_")]
    assert derivative
    for output in derivative:
        assert "`sigmoid_derivative` could not run" in output, output
        assert "`sigmoid`, which is not defined" in output
        assert "No cell of your notebook defines `sigmoid`" in output
        assert "Hint" not in output and "not about its values" in output
        assert "line " in output and "the cell `sigmoid_derivative`" in output
        assert not re.search(r"\b[Cc]ell \d", output), output
