"""How long ``autograder report`` takes: on the demo class, and on a generated class of 500.

1. **The demo class**: the report of ``demo-course/`` as ``make demo`` left it (skipped,
   saying so, when there is none).
2. **A generated class**: ``--students`` submissions of one assignment (default 500 of
   ``backprop``), with results drawn as
   :func:`autograder.sample_class.write_graded_class` draws them (no grading) and the
   notebooks the sample class hands in (each kind of work in turn: honest, partial,
   mistaken, cheating, broken, late, missing). Printed: the whole report's time, and
   the similarity detector's part of it (reading the notebooks and comparing them),
   measured in the same run, with the pairs it flagged.

Usage: python benchmarks/report.py [--students 500] [--assignment backprop] [--demo DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder import report, sample_class  # noqa: E402
from autograder.report import evidence as evidence_module  # noqa: E402


def _timed(function, *args, **kwargs):
    started = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - started


def generated_class(course: Path, assignment: str, students: int) -> None:
    """Results drawn for ``students`` and the sample class's notebooks beside them."""
    sample_class.write_graded_class(course, assignment, students, seed=0, flagged=(3,))
    kinds = sample_class.KINDS
    for i in range(students):
        content = sample_class.handed_in(ROOT, assignment, kinds[i % len(kinds)])
        if content is not None:
            folder = course / "submitted" / sample_class.student_name(i) / assignment
            (folder / f"{assignment}.ipynb").write_bytes(content)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--assignment", default="backprop")
    parser.add_argument("--demo", type=Path, default=ROOT / "demo-course")
    args = parser.parse_args()

    if (args.demo / "autograded").is_dir():
        files, seconds = _timed(report.write_reports, args.demo)
        graded = sum(1 for _ in (args.demo / "autograded").glob("*/*/results.json"))
        print(f"demo class ({graded} graded submissions): report in {seconds:.2f} s, "
              f"{len(files)} files")  # fmt: skip
    else:
        print(f"demo class: no {args.demo}/autograded (run `make demo` first): skipped")

    with tempfile.TemporaryDirectory(prefix="report-bench-") as scratch:
        course = Path(scratch)
        _, made = _timed(generated_class, course, args.assignment, args.students)
        print(f"generated class: {args.students} submissions of {args.assignment} "
              f"written in {made:.1f} s")  # fmt: skip
        _, whole = _timed(report.write_reports, course)
        loaded = evidence_module.load_assignment(course, args.assignment)
        (pairs, _), similar = _timed(report._similar, loaded)
        print(f"  the whole report: {whole:.2f} s")
        print(f"  of which similarity (read {args.students} notebooks, compare): "
              f"{similar:.2f} s measured again alone, {len(pairs)} pair(s) flagged")  # fmt: skip
        print(f"  the rest (figures, pictures, pages): {whole - similar:.2f} s "
              f"(ratio similarity / whole: {similar / whole:.2f})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
