"""Read and validate a submitted notebook; pick out the code cells to run."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from pathlib import Path

from autograder.results import write_atomic

#: Largest notebook file the grader reads.
MAX_NOTEBOOK_BYTES = 50 * 1024**2


class NotebookError(Exception):
    """The file is not a notebook the grader can run; the message says why."""


#: Characters of a cell's first line that its label keeps.
LABEL_CHARS = 60
#: An nbgrader ``grade_id`` a label shows (nbgrader's own are words, digits, ``-`` and ``_``).
_GRADE_ID = re.compile(r"[A-Za-z0-9_.-]{1,60}")


@dataclass(frozen=True)
class Cell:
    """A code cell to run: its position among the notebook's cells, its source, and its
    nbgrader ``grade_id`` (``""`` when it has none)."""

    index: int
    source: str
    grade_id: str = ""

    def label(self, *, start: bool = True) -> str:
        """How the student finds the cell in JupyterLab, which shows no cell numbers: by its
        nbgrader id and its first line.

        Args:
            start: capitalised, to start a sentence ("The cell ..."); else "the cell ...".

        Example:
            >>> Cell(10, "def forward(X, params):\\n    ...", "forward").label()
            'The cell `forward` (starting `def forward(X, params):`)'
            >>> Cell(3, "\\nimport numpy as np\\n").label(start=False)
            'the cell starting `import numpy as np`'
        """
        first = next((line.strip() for line in self.source.splitlines() if line.strip()), "")
        first = first.replace("`", "'")
        if len(first) > LABEL_CHARS:
            first = first[: LABEL_CHARS - 3] + "..."
        the = "The" if start else "the"
        if self.grade_id:
            return f"{the} cell `{self.grade_id}`" + (f" (starting `{first}`)" if first else "")
        if first:
            return f"{the} cell starting `{first}`"
        return f"{'An' if start else 'an'} empty code cell"


#: How the child names a cell in tracebacks and messages: ``<cell 10>`` (the file name it
#: compiles the cell under, see ``child.CELL_FILENAME``) or ``cell 10``.
_CELL_REFERENCE = re.compile(r"<cell (\d+)>|\bcell (\d+)\b")


def name_cells(text: str, cells: list[Cell]) -> str:
    """``text`` with each "cell 10" or "<cell 10>" the child wrote replaced by the cell's label.

    Example:
        >>> name_cells("line 2 of cell 3", [Cell(3, "def h(x):", "h")])
        'line 2 of the cell `h` (starting `def h(x):`)'
    """
    by_index = {cell.index: cell for cell in cells}

    def label(match: re.Match) -> str:
        cell = by_index.get(int(match.group(1) or match.group(2)))
        return cell.label(start=False) if cell else "a cell of your notebook"

    return _CELL_REFERENCE.sub(label, text)


def defining_cell(name: str, cells: list[Cell]) -> Cell | None:
    """The last cell that defines ``name`` at its top level (``def``, ``class``, an
    assignment or an import), or ``None``.

    Example:
        >>> defining_cell("sigmoid", [Cell(1, "import numpy as np"), Cell(2, "def sigmoid(z):")])
        Cell(index=2, source='def sigmoid(z):', grade_id='')
    """
    if not name.isidentifier():
        return None
    word = re.escape(name)
    pattern = re.compile(
        rf"^(?:(?:async\s+)?def|class)\s+{word}\b|^{word}\s*(?::[^=\n]*)?=(?!=)"
        rf"|^(?:from\s+\S+\s+)?import\s[^\n#]*\b{word}\b",
        re.M,
    )
    found = [cell for cell in cells if pattern.search(cell.source)]
    return found[-1] if found else None


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


def _grade_id(cell: dict) -> str:
    """The cell's nbgrader ``grade_id`` if it is a plain id, else ``""`` (it is only shown)."""
    meta = cell.get("metadata")
    meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
    return grade_id if isinstance(grade_id, str) and _GRADE_ID.fullmatch(grade_id) else ""


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
            raise NotebookError(f"Code cell {index} (counting every cell) has no readable source.")
        cells.append(Cell(index, source, _grade_id(cell)))
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
