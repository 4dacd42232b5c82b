"""Read and validate a submitted notebook; pick out the code cells to run."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

from autograder.results import write_atomic

#: Largest notebook file the grader reads.
MAX_NOTEBOOK_BYTES = 50 * 1024**2


class NotebookError(Exception):
    """The file is not a notebook the grader can run; the message says why."""


@dataclass(frozen=True)
class Cell:
    """A code cell to run: its position among the notebook's cells and its source."""

    index: int
    source: str

    def label(self) -> str:
        """How the student finds the cell: its number and first line."""
        first = next((line.strip() for line in self.source.splitlines() if line.strip()), "")
        if len(first) > 50:
            first = first[:47] + "..."
        return f"Cell {self.index} (`{first}`)" if first else f"Cell {self.index}"


@dataclass(frozen=True)
class Notebook:
    """What the grader needs of a notebook."""

    cells: list[Cell]
    assignment: str | None


def is_visible_test(cell: dict) -> bool:
    """An nbgrader autograded test cell: it runs for the student, never for the grade."""
    meta = cell.get("metadata")
    meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    return isinstance(meta, dict) and bool(meta.get("grade")) and not meta.get("solution")


def _upgrade(data: dict) -> dict:
    """A version 3 notebook (with worksheets) converted to version 4 by nbformat."""
    import nbformat  # slow to import; only old notebooks need it

    try:
        return dict(nbformat.convert(nbformat.from_dict(data), 4))
    except Exception as error:  # nbformat raises various errors on odd files
        raise NotebookError(f"The notebook could not be read: {error}") from None


def read_notebook(path: str | Path) -> Notebook:
    """Read ``path`` and return its runnable code cells.

    Visible test cells (nbgrader ``grade`` cells without a solution) are left
    out: the hidden checks decide the grade, so editing or deleting them changes
    nothing.

    Raises:
        NotebookError: the file is missing, empty, too large, not JSON or not a notebook.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as error:
        raise NotebookError(f"The notebook file could not be read ({error.strerror}).") from None
    if size == 0:
        raise NotebookError("The notebook file is empty.")
    if size > MAX_NOTEBOOK_BYTES:
        raise NotebookError(
            f"The notebook file is {size:,} bytes; the limit is {MAX_NOTEBOOK_BYTES:,}."
        )
    try:
        data = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NotebookError(
            f"The file is not a valid notebook: it is not valid JSON ({error}). "
            "Re-download your notebook from JupyterLab and submit it again."
        ) from None
    if isinstance(data, dict) and isinstance(data.get("worksheets"), list):
        data = _upgrade(data)
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookError(
            "The file is JSON but not a Jupyter notebook (it has no list of cells)."
        )
    notebook = data
    cells = []
    for index, cell in enumerate(notebook["cells"], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code" or is_visible_test(cell):
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(str(part) for part in source)
        if not isinstance(source, str):
            raise NotebookError(f"Cell {index} has no readable source.")
        cells.append(Cell(index, source))
    metadata = notebook.get("metadata", {})
    assignment = (
        metadata.get("autograder", {}).get("assignment") if isinstance(metadata, dict) else None
    )
    return Notebook(cells, assignment if isinstance(assignment, str) else None)


def write_executed(
    source: str | Path,
    destination: str | Path,
    outputs: dict[int, dict],
    errors: dict[int, str],
    skipped: dict[int, str],
) -> None:
    """Write a copy of ``source`` with the outputs the sandboxed run produced.

    Args:
        source: the submitted notebook (already read once by :func:`read_notebook`).
        destination: where the executed copy goes.
        outputs: per cell index, ``{"stdout": str, "figures": [png bytes]}``.
        errors: per cell index, the error the cell raised.
        skipped: per cell index, why the cell was skipped.
    """
    notebook = json.loads(Path(source).read_bytes())
    if isinstance(notebook.get("worksheets"), list):
        notebook = _upgrade(notebook)
    for index, cell in enumerate(notebook["cells"], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        cell["outputs"] = []
        cell["execution_count"] = None
        produced = outputs.get(index, {})
        if produced.get("stdout"):
            cell["outputs"].append(
                {"output_type": "stream", "name": "stdout", "text": produced["stdout"]}
            )
        for png in produced.get("figures", []):
            cell["outputs"].append(
                {
                    "output_type": "display_data",
                    "data": {"image/png": base64.b64encode(png).decode()},
                    "metadata": {},
                }
            )
        problem = skipped.get(index) or errors.get(index)
        if problem:
            ename, _, evalue = problem.partition(": ")
            cell["outputs"].append(
                {
                    "output_type": "error",
                    "ename": ename or "Error",
                    "evalue": evalue or problem,
                    "traceback": [problem],
                }
            )
    write_atomic(destination, json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
