"""Reading submitted notebooks: what is run, and what is refused with a reason."""

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.notebook import NotebookError, read_notebook


def _write(tmp_path, cells, metadata=None):
    notebook = new_notebook(cells=cells, metadata=metadata or {})
    path = tmp_path / "submission.ipynb"
    nbformat.write(notebook, path)
    return path


def test_code_cells_are_kept_in_order_with_their_positions(tmp_path):
    path = _write(
        tmp_path, [new_markdown_cell("# t"), new_code_cell("a = 1"), new_code_cell("b = 2")]
    )
    notebook = read_notebook(path)
    assert [(c.index, c.source) for c in notebook.cells] == [(2, "a = 1"), (3, "b = 2")]


def test_visible_test_cells_are_not_run(tmp_path):
    test_cell = new_code_cell(
        "assert False", metadata={"nbgrader": {"grade": True, "solution": False, "points": 1}}
    )
    solution_cell = new_code_cell(
        "x = 1", metadata={"nbgrader": {"grade": False, "solution": True}}
    )
    path = _write(tmp_path, [solution_cell, test_cell])
    assert [c.source for c in read_notebook(path).cells] == ["x = 1"]


def test_assignment_comes_from_metadata(tmp_path):
    path = _write(tmp_path, [new_code_cell("")], {"autograder": {"assignment": "backprop"}})
    assert read_notebook(path).assignment == "backprop"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2, 3]", "not a Jupyter notebook"),
        (json.dumps({"cells": "nope"}).encode(), "not a Jupyter notebook"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
    ],
    ids=["empty", "invalid-json", "json-list", "cells-not-a-list", "binary"],
)
def test_broken_files_are_refused_with_a_reason(tmp_path, content, reason):
    path = tmp_path / "broken.ipynb"
    path.write_bytes(content)
    with pytest.raises(NotebookError, match=reason):
        read_notebook(path)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(NotebookError, match="could not be read"):
        read_notebook(tmp_path / "absent.ipynb")


def test_an_old_version_3_notebook_is_upgraded(tmp_path):
    from nbformat.v3 import new_code_cell as v3_code_cell
    from nbformat.v3 import new_notebook as v3_notebook
    from nbformat.v3 import new_worksheet, writes_json

    notebook = v3_notebook(worksheets=[new_worksheet(cells=[v3_code_cell(input="x = 1")])])
    path = tmp_path / "old.ipynb"
    path.write_text(writes_json(notebook))
    assert [c.source for c in read_notebook(path).cells] == ["x = 1"]


def test_cells_are_labelled_as_jupyterlab_shows_them_never_by_number(tmp_path):
    """By nbgrader grade_id where there is one, else by the first line (trimmed)."""
    solution = new_code_cell(
        "\n\ndef forward(X, params):\n    return X",
        metadata={"nbgrader": {"grade": False, "solution": True, "grade_id": "forward"}},
    )
    odd_id = new_code_cell("x = 1", metadata={"nbgrader": {"grade_id": "<b>not an id</b>"}})
    long_line = "y = " + " + ".join(["1"] * 40)
    path = _write(
        tmp_path,
        [new_markdown_cell("# t"), solution, odd_id, new_code_cell(long_line), new_code_cell("")],
    )
    labels = [cell.label() for cell in read_notebook(path).cells]
    assert labels[0] == "The cell `forward` (starting `def forward(X, params):`)"
    assert labels[1] == "The cell starting `x = 1`"  # an id that is not a plain id is not shown
    assert labels[2].startswith("The cell starting `y = 1 + 1") and labels[2].endswith("...`")
    assert len(labels[2]) <= len("The cell starting ``") + 60
    assert labels[3] == "An empty code cell"
    assert not any(
        f"Cell {i}" in label or f"cell {i}" in label for label in labels for i in range(6)
    )


def test_the_child_s_cell_numbers_become_labels_and_names_find_their_cell():
    from autograder.notebook import Cell, defining_cell, name_cells

    cells = [
        Cell(2, "import numpy as np"),
        Cell(4, "def sigmoid(z):\n    return z", "sigmoid"),
        Cell(5, "from math import tau as TAU\nrate: float = 0.1"),
    ]
    text = name_cells("invalid syntax (<cell 4>, line 2) and line 1 of cell 2, cell 9", cells)
    assert text == (
        "invalid syntax (the cell `sigmoid` (starting `def sigmoid(z):`), line 2) and line 1 "
        "of the cell starting `import numpy as np`, a cell of your notebook"
    )
    assert defining_cell("sigmoid", cells) is cells[1]
    assert defining_cell("np", cells) is cells[0]
    assert defining_cell("TAU", cells) is cells[2] and defining_cell("rate", cells) is cells[2]
    assert defining_cell("sig", cells) is None and defining_cell("a b", cells) is None
