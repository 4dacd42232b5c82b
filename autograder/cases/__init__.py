"""Each assignment's table of known mistakes and correct alternatives.

``autograder/cases/<assignment>.py`` holds ``MISTAKES``, wrong versions of the
student's functions that its checks must catch with a message that names the
mistake; ``ALTERNATIVES``, correct versions written otherwise that must get full
marks; and ``CALLS``, example arguments for each function, on which the released
stub must raise ``NotImplementedError``. One of the mistakes is marked
``sample=True``: the sample class hands it in.

A mistake is usually a small edit of the reference: the text of the solution's
definition of its function with a few ``(old, new)`` replacements, so the table says
what is wrong and nothing else. A mistake that rewrites a function (or an
alternative, which is always written otherwise) gives whole ``source`` instead.

The kit's tests read the tables through :func:`load` and try every entry
(``tests/checks/test_every_assignment.py``); the sample class reads the sample
mistake. The tables are not part of grading: a Gradescope bundle does not ship them.

Example:
    >>> reference = "def double(x):\\n    return 2 * x\\n"
    >>> Mistake("adds", "double", edits=[("2 * x", "2 + x")]).apply(reference)
    'def double(x):\\n    return 2 + x\\n'
"""

from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

CASES_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Mistake:
    """A wrong version of one student function and what its checks must say about it.

    Args:
        id: a short name for the mistake (``sigmoid_overflows``).
        function: the graded function (or class) it gets wrong; a check named after it
            must fail.
        edits: ``(old, new)`` replacements in the reference's definition of ``function``;
            each ``old`` must occur there.
        source: whole definitions instead of edits (run after the reference's cells).
        words: a phrase (or phrases, all of them) that the failed check's message contains.
        check: the check that must catch it, when one is meant for it; else any check of
            ``function`` may.
        also: other checks that must catch it too, each with a phrase its message contains.
        slow: only a check that trains a model catches it (the kit's slow tests run it).
        sample: the sample class hands this mistake in.
        learns: ``False`` for a model that does not learn (it cannot, or not the task):
            its builder must keep at most half of its points.
    """

    id: str
    function: str
    edits: list[tuple[str, str]] = field(default_factory=list)
    source: str = ""
    words: str | tuple[str, ...] = ()
    check: str | None = None
    also: dict[str, str] = field(default_factory=dict)
    slow: bool = False
    sample: bool = False
    learns: bool = True

    def apply(self, reference: str) -> str:
        """The mistaken definitions: ``source``, or ``reference`` (a definition) with the edits."""
        if self.source:
            return self.source
        return apply_edits(reference, self.edits, what=f"the reference's `{self.function}`")

    @property
    def phrases(self) -> tuple[str, ...]:
        return (self.words,) if isinstance(self.words, str) and self.words else tuple(self.words)


@dataclass(frozen=True)
class Alternative:
    """Correct definitions written otherwise than the reference; they must get full marks.

    Args:
        id: a short name (``relu_with_where``).
        source: the definitions, run after the reference's cells.
        slow: a check that trains a model must be run to tell (its checks that train
            are then run too).
    """

    id: str
    source: str
    slow: bool = False

    def functions(self, graded: tuple[str, ...]) -> tuple[str, ...]:
        """The ``graded`` functions (or classes) its source defines anew."""
        tree = ast.parse(self.source)
        defined = {
            node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.ClassDef)
        }
        return tuple(name for name in graded if name in defined)


def apply_edits(text: str, edits: list[tuple[str, str]], *, what: str = "the text") -> str:
    """``text`` with each ``(old, new)`` replaced; ``ValueError`` when an ``old`` is not in it."""
    for old, new in edits:
        if old not in text:
            raise ValueError(f"{what} does not contain {old!r}")
        text = text.replace(old, new)
    return text


@dataclass(frozen=True)
class Cases:
    """One assignment's mistakes and alternatives."""

    assignment: str
    mistakes: tuple[Mistake, ...]
    alternatives: tuple[Alternative, ...]
    #: Example positional arguments of each graded function, by name.
    calls: dict[str, tuple] = field(default_factory=dict)

    def mistake(self, mistake_id: str) -> Mistake:
        """The mistake called ``mistake_id``; ``KeyError`` when there is none."""
        for mistake in self.mistakes:
            if mistake.id == mistake_id:
                return mistake
        raise KeyError(mistake_id)

    @property
    def sample(self) -> Mistake:
        """The mistake the sample class hands in (the first marked ``sample``, else the first)."""
        return next((m for m in self.mistakes if m.sample), self.mistakes[0])


def load(assignment: str) -> Cases:
    """The cases of ``assignment`` (``autograder/cases/<assignment>.py``)."""
    module = importlib.import_module(f"{__name__}.{assignment}")
    return Cases(assignment, tuple(module.MISTAKES), tuple(module.ALTERNATIVES), dict(module.CALLS))


def definition(source: str, name: str) -> str:
    """The source of the top-level ``def``/``class`` called ``name`` in ``source``.

    ``ValueError`` when ``source`` defines no such thing.

    Example:
        >>> definition("x = 1\\ndef f(a):\\n    return a\\n", "f")
        'def f(a):\\n    return a'
    """
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name:
            lines = source.splitlines()
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
            return "\n".join(lines[start : node.end_lineno])
    raise ValueError(f"the source does not define {name!r}")


def solution_cells(notebook) -> list:
    """The nbgrader solution code cells (the student's functions) of a notebook, in order.

    Args:
        notebook: a path, or a notebook ``nbformat`` has read.
    """
    if not hasattr(notebook, "cells"):
        notebook = nbformat.read(notebook, as_version=4)
    return [
        cell
        for cell in notebook.cells
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution")
    ]


def defining_cell(cells: list, name: str):
    """The first of ``cells`` whose source defines ``name`` at top level; ``ValueError`` if none."""
    for cell in cells:
        try:
            definition(cell.source, name)
        except (ValueError, SyntaxError):
            continue
        return cell
    raise ValueError(f"no cell defines {name!r}")


def reference_definition(notebook: Path, name: str) -> str:
    """The reference's definition of ``name``: from the solution cell that defines it."""
    return definition(defining_cell(solution_cells(notebook), name).source, name)


def mistaken_cell(cell_source: str, mistake: Mistake) -> str:
    """A solution cell's source with ``mistake`` put into its definition of the function.

    The cell's other lines stay; a mistake given as whole ``source`` replaces the
    definition with it.
    """
    original = definition(cell_source, mistake.function)
    return cell_source.replace(original, mistake.apply(original).strip("\n"))
