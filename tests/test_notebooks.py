"""The committed notebooks: generated from source/, free of solutions, teaching-ready."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.registry import function_of, graded_functions
from autograder.scoring import run_checks
from autograder.submission import LocalSubmission
from tests.conftest import ASSIGNMENTS, ROOT, notebook_path

SOLUTION_REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)


def _comparable(path: Path) -> list[tuple]:
    """What nbgrader's output must match: cell types, sources and nbgrader metadata."""
    notebook = nbformat.read(path, as_version=4)
    return [
        (cell.cell_type, cell.source, dict(cell.metadata.get("nbgrader", {})))
        for cell in notebook.cells
    ]


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    """A scratch course: source/ copied, released and solution notebooks regenerated."""
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "source", course / "source")
    (course / "nbgrader_config.py").write_text(
        (ROOT / "nbgrader_config.py").read_text()
        + "\nfrom nbgrader.preprocessors import ClearMarkScheme, ClearOutput, "
        "IncludeHeaderFooter, LockCells\n"
        "# Outputs are not compared, so the solutions need not be executed here.\n"
        "c.GenerateSolution.preprocessors = "
        "[IncludeHeaderFooter, LockCells, ClearOutput, ClearMarkScheme]\n"
    )
    bin_dir = Path(sys.executable).parent
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(course)}
    for assignment in ASSIGNMENTS:
        for command in ("generate_assignment", "generate_solution"):
            subprocess.run(
                [str(bin_dir / "nbgrader"), command, assignment, "--force", "--log-level=ERROR"],
                cwd=course,
                env=env,
                check=True,
                capture_output=True,
                timeout=300,
            )
    return course


@pytest.mark.parametrize("kind", ["assignments", "solutions"])
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_notebooks_are_not_stale(regenerated, assignment, kind):
    fresh = regenerated / kind / assignment / f"{assignment}.ipynb"
    committed = notebook_path(kind, assignment)
    assert committed.exists(), f"{committed} is missing: run `make notebooks`"
    assert _comparable(committed) == _comparable(fresh), (
        f"{committed} is stale: run `make notebooks` and commit the result"
    )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_notebook_holds_no_solution(assignment):
    source = notebook_path("source", assignment).read_text()
    released = nbformat.read(notebook_path("assignments", assignment), as_version=4)
    released_code = "\n".join(c.source for c in released.cells)
    assert "### BEGIN SOLUTION" not in released_code
    solution_lines = {
        line.strip()
        for cell in nbformat.reads(source, as_version=4).cells
        for region in SOLUTION_REGION.findall(cell.source)
        for line in region.splitlines()
        if len(line.strip()) > 12 and not line.strip().startswith("#")
    }
    leaked = [line for line in solution_lines if line in released_code]
    assert not leaked, leaked
    # one stub per graded function
    stubs = released_code.count("raise NotImplementedError()")
    assert stubs >= len(graded_functions(assignment)) >= 2


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebook_is_a_lesson(assignment):
    """Prose with formulas, a stub per function with a docstring, visible tests, plots."""
    notebook = nbformat.read(notebook_path("source", assignment), as_version=4)
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "$" in markdown, "formulas in LaTeX"
    assert "plt." in code, "plots"
    assert notebook.metadata["autograder"]["assignment"] == assignment
    solutions = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")]
    tests = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]
    functions = graded_functions(assignment)
    assert len(solutions) >= len(functions) >= 2 and len(tests) >= len(functions)
    for cell in solutions:
        assert '"""' in cell.source, f"docstring in {cell.metadata['nbgrader']['grade_id']}"
    for cell in tests:
        assert cell.source.lstrip().startswith('"""'), "visible tests start with a docstring"
    assert "import tensorflow" not in code and "from tensorflow" not in code


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_grade_cells_carry_the_points_of_their_checks(assignment):
    """Each function's visible test cell is worth its hidden checks, and hides none of them.

    That is what lets the kit put each check's points on the matching grade cell of
    nbgrader's gradebook, from `autograder grade` and from `nbgrader autograde` alike.
    The hidden checks run only in the kit's grader, never in a notebook.
    """
    functions = graded_functions(assignment)
    totals: dict[str, float] = {}
    for result in run_checks(assignment, LocalSubmission({})):
        function = function_of(result.name, list(functions))
        assert function is not None, f"{result.name} is not named after a graded function"
        totals[function] = totals.get(function, 0.0) + result.max_score
    notebook = nbformat.read(notebook_path("source", assignment), as_version=4)
    cells = {
        c.metadata["nbgrader"]["grade_id"]: c
        for c in notebook.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    }
    assert set(cells) == {f"test_{f}" for f in functions}
    for function, total in totals.items():
        cell = cells[f"test_{function}"]
        assert float(cell.metadata["nbgrader"]["points"]) == total
    for cell in notebook.cells:  # no hidden block left, nothing of the kit's grader imported
        assert "HIDDEN TESTS" not in cell.source
        assert not re.search(r"^\s*(from|import) autograder\b", cell.source, re.M)
