"""A class graded by stock `nbgrader autograde` and by `autograder grade --jobs 2`.

Both grade the same generated class (honest, partly finished, mistaken,
cheating, broken, late and missing submissions) into their own copy of the
course's gradebook, in one run on this machine.

The baseline is nbgrader as it ships: the course's nbgrader_config.py puts the
kit's grader in place of nbgrader's Execute preprocessor, so the baseline's
command line sets ``Autograde.sanitize_preprocessors`` and
``Autograde.autograde_preprocessors`` back to nbgrader's own defaults: each
notebook runs in a Jupyter kernel, one at a time, and a grade cell scores when
its visible tests raise nothing (the kit's notebooks hold no hidden tests, so
the baseline runs fewer checks than the kit, and none in a sandbox).

Prints the wall time of each, their ratio (goal: the kit at least 1.6x faster on
2 cores, while it runs more checks, in a sandbox), whether the scores agree on
the honest submissions, what the cheats got, and how the kit's wall time grows
from 10 to 40 submissions.

Usage: python benchmarks/batch_vs_nbgrader.py [--students N] [--jobs N] [--assignments ID ...]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.registry import assignment_ids  # noqa: E402
from autograder.sample_class import make_class, make_course  # noqa: E402
from tests.test_batch import gradebook_dump, scores_by_submission  # noqa: E402

BIN = Path(sys.executable).parent
ENV = {"PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp"}


def timed(argv: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=ENV, capture_output=True, check=False)
    return time.perf_counter() - started


def stock_nbgrader() -> list[str]:
    """Command-line options that give `nbgrader autograde` its stock pipeline (Execute) back."""
    from nbgrader.converters import Autograde

    traits = Autograde.class_traits()
    options = []
    for name in ("sanitize_preprocessors", "autograde_preprocessors"):
        names = [f"{cls.__module__}.{cls.__name__}" for cls in traits[name].default()]
        options.append(f"--Autograde.{name}={names!r}")
    return options


def prepare(root: Path, name: str, assignments: list[str], students: int) -> tuple[Path, dict]:
    course = root / name
    make_course(course, ROOT)
    kinds = make_class(course, ROOT, assignments, students)
    for assignment in assignments:  # the instructor's release step, not timed
        subprocess.run(
            [str(BIN / "nbgrader"), "generate_assignment", assignment, "--force"],
            cwd=course, env=ENV, capture_output=True, check=True,
        )  # fmt: skip
    return course, kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=7, help="students per assignment")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--assignments", nargs="+", help="only these (default: all)")
    args = parser.parse_args()
    assignments = [
        a
        for a in list(assignment_ids())
        if (ROOT / "solutions" / a / f"{a}.ipynb").exists()
        and (not args.assignments or a in args.assignments)
    ]
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        theirs, kinds = prepare(root, "nbgrader", assignments, args.students)
        ours, _ = prepare(root, "kit", assignments, args.students)
        n = len(kinds)
        nbgrader_s = sum(
            timed([str(BIN / "nbgrader"), "autograde", a, "--force", *stock_nbgrader()], theirs)
            for a in assignments
        )
        kit_s = timed(
            [str(BIN / "autograder"), "grade", "submitted", "--jobs", str(args.jobs)], ours
        )
        their_scores = scores_by_submission(gradebook_dump(theirs))
        our_scores = scores_by_submission(gradebook_dump(ours))
        honest = [k for k, kind in kinds.items() if kind in ("honest", "late")]
        agree = all(their_scores.get(k) == our_scores.get(k) for k in honest)
        print(f"class: {n} submissions ({len(honest)} honest) of {len(assignments)} assignments")
        print(f"stock nbgrader autograde (one at a time, in a kernel): {nbgrader_s:7.1f} s")
        print(f"autograder grade --jobs {args.jobs} (sandboxed):           {kit_s:7.1f} s")
        print(f"speed-up: {nbgrader_s / kit_s:.2f}x (goal: at least 1.6x)")
        print(f"scores equal on the honest submissions: {agree}")
        cheats = [k for k, kind in kinds.items() if kind == "cheat"]
        print(
            "points the cheats got: nbgrader "
            f"{sum(their_scores.get(k, 0) for k in cheats):g}, kit "
            f"{sum(our_scores.get(k, 0) for k in cheats):g}"
        )
        print("\nkit wall time by class size:")
        for size in (10, 20, 40):
            students = -(-size // len(assignments))
            course, sized = prepare(root, f"kit{size}", assignments, students)
            seconds = timed(
                [str(BIN / "autograder"), "grade", "submitted", "--jobs", str(args.jobs)], course
            )
            print(
                f"  {len(sized):3d} submissions: {seconds:6.1f} s  ({seconds / len(sized):.2f} s each)"
            )
            shutil.rmtree(course)


if __name__ == "__main__":
    main()
