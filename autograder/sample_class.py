"""A class of sample submissions, for the demo and the benchmarks.

Each student hands in one kind of work per assignment, cycling through: an
honest solution, a partly finished notebook, a common mistake (the sample mistake
of the assignment's table, :mod:`autograder.cases`), a cheat, a broken file, a
late honest submission and a missing notebook. The submissions
are built from the course's own released and solution notebooks, laid out as
nbgrader collects them: ``submitted/<student>/<assignment>/<assignment>.ipynb``
with a ``timestamp.txt``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from autograder import registry

#: Patches what graders running in the student's kernel rely on (numpy, builtins, the
#: kit's own scoring, a results.json in the working folder); the sandboxed grader
#: cannot be reached from the notebook.
CHEAT = (
    "import builtins, numpy as np\n"
    "np.allclose = lambda *a, **k: True\n"
    "builtins.abs = lambda x: 0\n"
    "open('results.json', 'w').write('{\"score\": 100}')\n"
    "try:\n"
    "    import autograder.scoring as grader\n"
    "    real_run_checks = grader.run_checks\n"
    "    def run_checks(*args, **kwargs):\n"
    "        results = real_run_checks(*args, **kwargs)\n"
    "        for result in results:\n"
    "            result.score = result.max_score\n"
    "        return results\n"
    "    grader.run_checks = run_checks\n"
    "except ImportError:\n"
    "    pass\n"
)

KINDS = ("honest", "partial", "mistake", "cheat", "broken", "late", "missing")
NAMES = (
    "ada", "ben", "cleo", "dan", "eve", "finn", "gus", "hana", "ivo", "jun", "kai", "lea",
    "mo", "nia", "oto", "pia", "quin", "rui", "sol", "tea",
)  # fmt: skip
ON_TIME = "2026-11-20 09:00:00.000000 UTC"
LATE = "2026-11-23 18:30:00.000000 UTC"


def handed_in(course_root: Path, assignment: str, kind: str) -> bytes | None:
    """The notebook file a student of this ``kind`` hands in (``None``: nothing)."""
    from autograder import cases  # the tables are the kit's, not a bundle's

    book = registry.assignment(assignment)
    solution, released = (
        book.notebook("solution", course_root),
        book.notebook("released", course_root),
    )
    if kind == "missing":
        return None
    if kind == "broken":
        return solution.read_bytes()[:2000]  # cut off mid-file: not valid JSON
    notebook = nbformat.read(released if kind == "cheat" else solution, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    if kind == "partial":  # the second half of the functions still stubs
        stubs = cases.solution_cells(released)
        cells = cases.solution_cells(notebook)
        for cell, stub in list(zip(cells, stubs, strict=True))[len(cells) // 2 :]:
            cell.source = stub.source
    elif kind == "mistake":  # the table's sample mistake (every assignment has one: a test checks)
        mistake = cases.load(assignment).sample
        cell = cases.defining_cell(cases.solution_cells(notebook), mistake.function)
        cell.source = cases.mistaken_cell(cell.source, mistake)
    elif kind == "cheat":
        notebook.cells.insert(1, nbformat.v4.new_code_cell(CHEAT))
    return nbformat.writes(notebook).encode()


def make_class(
    course: Path, course_root: Path, assignments: list[str], n_students: int
) -> dict[tuple[str, str], str]:
    """Write a class of ``n_students`` into ``course/submitted``.

    Args:
        course: the course directory to fill (its ``submitted/`` is replaced).
        course_root: where the released and solution notebooks come from.
        assignments: the assignment ids.
        n_students: how many students (named ``ada``, ``ben``, ... then numbered).

    Returns:
        The kind of each submission, by ``(student, assignment)``.
    """
    submitted = course / "submitted"
    shutil.rmtree(submitted, ignore_errors=True)
    kinds = {}
    for i in range(n_students):
        student = NAMES[i] if i < len(NAMES) else f"student{i:03d}"
        for j, assignment in enumerate(assignments):
            kind = KINDS[(i + j) % len(KINDS)]
            folder = submitted / student / assignment
            folder.mkdir(parents=True)
            content = handed_in(course_root, assignment, kind)
            if content is not None:
                (folder / f"{assignment}.ipynb").write_bytes(content)
            (folder / "timestamp.txt").write_text(LATE if kind == "late" else ON_TIME)
            kinds[(student, assignment)] = kind
    return kinds


def make_course(course: Path, course_root: Path) -> None:
    """A fresh nbgrader course directory with the kit's source notebooks and config."""
    shutil.rmtree(course, ignore_errors=True)
    course.mkdir(parents=True)
    shutil.copytree(course_root / "source", course / "source")
    shutil.copyfile(course_root / "nbgrader_config.py", course / "nbgrader_config.py")
