"""The committed notebooks: generated from source/, free of solutions, teaching-ready."""

from __future__ import annotations

import ast
import importlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.registry import assignment as registry_assignment
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


# --- Teaching quality: figures, given code, grading paragraphs, quiet outputs -------------

TITLE = re.compile(r"\.set_title\(|\.suptitle\(|\bplt\.title\(")
X_LABEL = re.compile(r"\.set_xlabel\(|\bplt\.xlabel\(")
Y_LABEL = re.compile(r"\.set_ylabel\(|\bplt\.ylabel\(")
IMAGE = re.compile(r"\.imshow\(|\.matshow\(")


def _code_cells(kind: str, assignment: str) -> list:
    notebook = nbformat.read(notebook_path(kind, assignment), as_version=4)
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _name(cell) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id", cell.source[:40])


def _figures(source: str) -> list[str]:
    """The code that draws each figure of a cell: what precedes each ``plt.show()``."""
    return source.split("plt.show()")[:-1]


def _arguments(source: str, method: str) -> list[str]:
    """The argument text of each call ``.method(...)`` in ``source``, parentheses balanced."""
    found = []
    for match in re.finditer(rf"\.{method}\(", source):
        depth, start = 1, match.end()
        for end in range(start, len(source)):
            depth += {"(": 1, ")": -1}.get(source[end], 0)
            if depth == 0:
                found.append(source[start:end])
                break
    return found


def _has_top_level_comma(arguments: str) -> bool:
    depth = 0
    for char in arguments:
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(char, 0)
        if char == "," and depth == 0:
            return True
    return False


def _has_row_labels(figure: str) -> bool:
    """A y label, or y ticks given labels: ``set_yticks(positions, labels)``."""
    return bool(Y_LABEL.search(figure)) or any(
        _has_top_level_comma(arguments) for arguments in _arguments(figure, "set_yticks")
    )


def _figure_problems(figure: str) -> list[str]:
    """What a figure's code lacks: a title, and axis labels (row labels for an image grid)."""
    problems = [] if TITLE.search(figure) else ["a title (set_title, suptitle or plt.title)"]
    labelled = X_LABEL.search(figure) and Y_LABEL.search(figure)
    if IMAGE.search(figure):
        # An image grid may label its rows, or title every panel under a figure title.
        per_panel = ".suptitle(" in figure and ".set_title(" in figure
        labelled = labelled or _has_row_labels(figure) or per_panel
        if not labelled:
            problems.append("axis labels, row labels or a title per panel")
    elif not labelled:
        problems.append("an x and a y label (set_xlabel, set_ylabel)")
    return problems


def test_figure_check_catches_a_chart_without_title():
    """The check below is real: the softmax bars as they once were (no title) fail it."""
    untitled = (
        "fig, ax = plt.subplots()\nax.bar(x, p)\nax.set_xlabel('class')\n"
        "ax.set_ylabel('probability')\nplt.show()"
    )
    assert _figure_problems(_figures(untitled)[0]) == ["a title (set_title, suptitle or plt.title)"]
    unlabelled_grid = (
        "fig, ax = plt.subplots()\nax.imshow(a)\nax.set_yticks([])\nax.set_title('t')\n"
    )
    assert _figure_problems(unlabelled_grid) == ["axis labels, row labels or a title per panel"]
    assert (
        _figure_problems(unlabelled_grid + "ax.set_yticks(np.arange(2) * 30, ['a', 'b'])\n") == []
    )
    assert _figure_problems(unlabelled_grid + "ax.set_yticks(np.arange(2) * 30)\n") != []


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_figure_has_a_title_and_labels(assignment):
    """Each figure a source notebook draws has a title and axis labels (or row labels)."""
    missing = [
        f"{_name(cell)}: figure {n + 1} lacks {', '.join(problems)}"
        for cell in _code_cells("source", assignment)
        for n, figure in enumerate(_figures(cell.source))
        if (problems := _figure_problems(figure))
    ]
    assert not missing, missing


def _defined_names(source: str) -> list[str]:
    """Top-level functions and classes a cell defines (IPython magics left out)."""
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("%"))
    return [
        node.name
        for node in ast.parse(code).body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    ]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_given_code_is_locked_and_solution_cells_hold_only_graded_functions(assignment):
    """A student who rewrites a solution cell loses nothing given; given cells cannot be edited.

    Every code cell that is neither a solution nor a grade cell is locked, and a solution
    cell defines only functions the grader grades: a helper the notebook gives (a sigmoid)
    lives in a locked cell of its own.
    """
    graded = set(registry_assignment(assignment).functions)
    unlocked, extra = [], []
    for cell in _code_cells("source", assignment):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            extra += [
                f"{_name(cell)} defines {n}" for n in _defined_names(cell.source) if n not in graded
            ]
        elif not meta.get("grade") and not meta.get("locked"):
            unlocked.append(_name(cell))
    assert not unlocked, f"code cells to lock (nbgrader locked: true): {unlocked}"
    assert not extra, f"move given helpers out of solution cells into locked ones: {extra}"


#: What TensorFlow prints that a student should never see: C++ start-up logs, oneDNN and
#: CUDA notices, Python-side warnings, and Keras progress bars with their timings.
TF_NOISE = re.compile(r"oneDNN|cuda|TF_ENABLE|I0000|absl|WARNING:tensorflow|ms/step|s/step", re.I)


def _output_texts(cell) -> list[str]:
    texts = []
    for output in cell.get("outputs", []):
        if "text" in output:
            texts.append(output["text"])
        texts.append(output.get("data", {}).get("text/plain", ""))
        texts.extend(output.get("traceback", []))
    return texts


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_outputs_carry_no_tensorflow_noise(assignment):
    """The committed solution outputs hold no TensorFlow log lines or progress timings."""
    noisy = [
        f"{_name(cell)}: {match.group(0)!r}"
        for cell in _code_cells("solutions", assignment)
        for text in _output_texts(cell)
        if (match := TF_NOISE.search(text))
    ]
    assert not noisy, noisy


def _uses_keras(assignment: str) -> bool:
    return any(
        re.search(r"^import keras\b", cell.source, re.M)
        for cell in _code_cells("source", assignment)
    )


KERAS_ASSIGNMENTS = [a for a in ASSIGNMENTS if _uses_keras(a)]
PARTIAL_CREDIT = (
    "Each threshold check gives partial credit, linear between a floor that chance reaches and "
    "the threshold, and a model that does not learn keeps at most half of its builder's points."
)


@pytest.mark.parametrize("assignment", KERAS_ASSIGNMENTS)
def test_keras_notebook_says_what_its_hidden_checks_demand(assignment):
    """A Keras notebook has a Grading paragraph: partial credit, the parameter budget."""
    notebook = nbformat.read(notebook_path("source", assignment), as_version=4)
    markdown = " ".join(
        " ".join(c.source.split()) for c in notebook.cells if c.cell_type == "markdown"
    )
    assert "**Grading.**" in markdown, "a paragraph that starts with **Grading.**"
    assert PARTIAL_CREDIT in markdown, "the Grading paragraph states how partial credit works"
    budget = getattr(importlib.import_module(f"autograder.checks.{assignment}"), "MAX_PARAMS", None)
    if budget is not None:
        assert f"{budget:,} parameters" in markdown, f"the budget of {budget:,} parameters"


@pytest.mark.parametrize("assignment", KERAS_ASSIGNMENTS)
def test_keras_notebook_quiets_tensorflow_before_importing_keras(assignment):
    """The first code cell sets TensorFlow's log level before it imports Keras."""
    first = _code_cells("source", assignment)[0].source
    assert 'os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")' in first
    assert first.index("TF_CPP_MIN_LOG_LEVEL") < first.index("import keras")
