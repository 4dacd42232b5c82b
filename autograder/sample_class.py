"""A class of sample submissions, for the demo and the benchmarks.

There are seven kinds of work: an honest solution, a partly finished notebook, a
common mistake (the sample mistake of the assignment's table, :mod:`autograder.cases`),
a cheat, a broken file, a late honest submission and a missing notebook.
:func:`make_demo_class` shows each kind once: one student per kind, on an assignment
graded without training a model (each kind on another one), and the mistaken
student hands in a Keras assignment too (:data:`KERAS_MISTAKE`), since a mistake is
the one kind whose catching depends on the assignment's checks, and the capstone
(:data:`CAPSTONE`). :func:`make_class`
makes a larger class: each student hands in every assignment, cycling through the
kinds. The submissions are built from the course's own released and solution
notebooks, laid out as nbgrader collects them:
``submitted/<student>/<assignment>/<assignment>.ipynb`` with a ``timestamp.txt``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from autograder import registry
from autograder.results import CheckResult, Results

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
#: The kinds of work made from the reference solution (the same code, or most of it).
FROM_REFERENCE = ("honest", "partial", "mistake", "late")
NAMES = (
    "ada", "ben", "cleo", "dan", "eve", "finn", "gus", "hana", "ivo", "jun", "kai", "lea",
    "mo", "nia", "oto", "pia", "quin", "rui", "sol", "tea",
)  # fmt: skip
#: The Keras assignment the demo's mistaken student also hands in: of the assignments that
#: train a model, the one whose mistaken notebook grades fastest (about 35 s on one core).
KERAS_MISTAKE = "lstm"
#: The capstone, which the mistaken student hands in too: the course's real-world
#: application, whose sample mistake (images left in 0..255) costs one check.
CAPSTONE = "aircraft_damage"
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
    """Write a class of ``n_students`` into ``course/submitted``, each handing in every assignment.

    Student ``i`` hands in kind ``KINDS[(i + j) % 7]`` of assignment ``j``, so seven or
    more students show every kind of work on every assignment.

    Args:
        course: the course directory to fill (its ``submitted/`` is replaced).
        course_root: where the released and solution notebooks come from.
        assignments: the assignment ids.
        n_students: how many students (named ``ada``, ``ben``, ... then numbered).

    Returns:
        The kind of each submission, by ``(student, assignment)``.
    """
    kinds = {
        (student_name(i), assignment): KINDS[(i + j) % len(KINDS)]
        for i in range(n_students)
        for j, assignment in enumerate(assignments)
    }
    return write_class(course, course_root, kinds)


def demo_class(assignments: list[str]) -> dict[tuple[str, str], str]:
    """Who hands in what in the demo: each kind of work once, mostly without Keras.

    One student per kind (``ada`` honest, ``ben`` partial, ... ``gus`` missing). Each
    goes to one of the assignments whose checks train no model, in turn, so every one of
    them is seen; the kinds made from the reference solution (:data:`FROM_REFERENCE`)
    come first, each on an assignment of its own where there are enough, since two
    copies of one reference are rightly paired by the report's similarity check. The
    mistaken student also hands in
    :data:`KERAS_MISTAKE` (else the first assignment that trains one) and the
    capstone (:data:`CAPSTONE`), the class's Keras notebooks: a model's mistake must
    cost points too.

    Args:
        assignments: the assignment ids to choose from.

    Returns:
        The kind of each submission, by ``(student, assignment)``.

    Example:
        >>> demo_class(["activations", "backprop", "cnn", "lstm"])[("cleo", "lstm")]
        'mistake'
    """
    trains = {a: any(check.trains for check in registry.assignment(a).graded) for a in assignments}
    cheap = [a for a in assignments if not trains[a]] or list(assignments)
    keras = [a for a in assignments if trains[a]]
    # The kinds made from the reference first, so that each gets an assignment of its own.
    order = sorted(range(len(KINDS)), key=lambda k: KINDS[k] not in FROM_REFERENCE)
    kinds = {
        (student_name(k), cheap[place % len(cheap)]): KINDS[k] for place, k in enumerate(order)
    }
    if keras:
        mistaken = student_name(KINDS.index("mistake"))
        kinds[(mistaken, KERAS_MISTAKE if KERAS_MISTAKE in keras else keras[0])] = "mistake"
        if CAPSTONE in keras:
            kinds[(mistaken, CAPSTONE)] = "mistake"
    return kinds


def make_demo_class(
    course: Path, course_root: Path, assignments: list[str]
) -> dict[tuple[str, str], str]:
    """Write :func:`demo_class` into ``course/submitted`` (replaced); return its kinds."""
    return write_class(course, course_root, demo_class(assignments))


def write_class(
    course: Path, course_root: Path, kinds: dict[tuple[str, str], str]
) -> dict[tuple[str, str], str]:
    """Write each ``(student, assignment)``'s kind of work into ``course/submitted`` (replaced).

    Args:
        course: the course directory to fill.
        course_root: where the released and solution notebooks come from.
        kinds: the kind of each submission, by ``(student, assignment)``.

    Returns:
        ``kinds``.
    """
    submitted = course / "submitted"
    shutil.rmtree(submitted, ignore_errors=True)
    for (student, assignment), kind in kinds.items():
        folder = submitted / student / assignment
        folder.mkdir(parents=True)
        content = handed_in(course_root, assignment, kind)
        if content is not None:
            (folder / f"{assignment}.ipynb").write_bytes(content)
        (folder / "timestamp.txt").write_text(LATE if kind == "late" else ON_TIME)
    return kinds


def student_name(i: int) -> str:
    """The ``i``-th student's name: ``ada``, ``ben``, ... then ``student020`` and on."""
    return NAMES[i] if i < len(NAMES) else f"student{i:03d}"


def make_course(course: Path, course_root: Path) -> None:
    """A fresh nbgrader course directory with the kit's source notebooks and config."""
    shutil.rmtree(course, ignore_errors=True)
    course.mkdir(parents=True)
    shutil.copytree(course_root / "source", course / "source")
    shutil.copyfile(course_root / "nbgrader_config.py", course / "nbgrader_config.py")


def write_graded_class(
    course: Path,
    assignment: str,
    n_students: int,
    *,
    seed: int = 0,
    rewards_wrong: str | None = None,
    flagged: tuple[int, ...] = (),
    late: tuple[int, ...] = (),
) -> dict[str, Results]:
    """Write the results of a class as if it had been graded, without grading anything.

    For the report's tests and benchmark: each student ``i`` has an ability drawn from
    N(0, 1), each check a difficulty, and a student passes a check when ability plus
    noise beats its difficulty (a failed check scores 0, or half its points for one of
    several points, at random). A failure's message is one of two mistakes of that
    check, each with a hint. ``rewards_wrong`` names a check planted to reward a wrong
    answer: exactly the students of below-median ability pass it. Students in
    ``flagged`` carry a ``patched`` flag; those in ``late`` hand in two days late.

    Writes ``autograded/<student>/<assignment>/results.json`` and
    ``submitted/<student>/<assignment>/timestamp.txt`` (no notebook).

    Args:
        course: the course directory.
        assignment: one of the kit's assignments (its checks and points are the registry's).
        n_students: how many students (:func:`student_name`).
        seed: the seed of every draw.
        rewards_wrong: a check that rewards a wrong answer, or ``None``.
        flagged: the indices of students the grader flagged.
        late: the indices of students who handed in late.

    Returns:
        Each student's results, by student id.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    checks = registry.assignment(assignment).graded
    ability = rng.normal(size=n_students)
    difficulty = rng.uniform(-1.5, 1.5, size=len(checks))
    median = float(np.median(ability))
    out = {}
    for i in range(n_students):
        student = student_name(i)
        results = []
        for j, check in enumerate(checks):
            if check.name == rewards_wrong:
                passed = ability[i] < median
            else:
                passed = ability[i] + rng.normal(scale=0.5) > difficulty[j]
            if passed:
                score, output = check.points, "Passed."
            else:
                score = check.points / 2 if check.points > 1 and rng.random() < 0.3 else 0.0
                mistake = int(rng.integers(2))
                output = (
                    f"`{check.function}(x)` returned {rng.normal():.4f} at x={rng.normal():.3f}. "
                    f"Hint: mistake {mistake} of {check.function}."
                )
            results.append(CheckResult(check.name, score, check.points, output))
        extra = {"assignment": assignment, "student": student, "seed": seed}
        if i in flagged:
            extra["flags"] = [{"kind": "patched", "detail": "numpy.allclose was replaced"}]
        graded = Results(results, execution_time=float(rng.uniform(5, 60)), extra=extra)
        graded.write(course / "autograded" / student / assignment / "results.json")
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "timestamp.txt").write_text(LATE if i in late else ON_TIME)
        out[student] = graded
    return out
