"""Time to grade each solution notebook against the time to just execute it.

Both are whole commands, as an instructor runs them, measured in one run and
interleaved so that the machine's noise hits both alike:

* ``jupyter nbconvert --to notebook --execute`` (a kernel runs every cell);
* ``autograder grade`` (the sandboxed child runs the cells, then the hidden checks).

Prints the median of each over the repeats and their ratio (goal: at most 1.5).

Usage: python benchmarks/grade_vs_execute.py [--repeats N] [--assignments ID ...]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from autograder.registry import assignment_ids  # noqa: E402
from autograder.sandbox import bubblewrap  # noqa: E402


def timed(argv: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--assignments", nargs="*", help="only these (default: every one)")
    args = parser.parse_args()
    print(f"sandbox: {'bubblewrap' if bubblewrap() else 'NONE (plain child process)'}")
    print(f"{'assignment':18} {'nbconvert (s)':>14} {'grade (s)':>10} {'ratio':>7}")
    ratios = []
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        for assignment in args.assignments or list(assignment_ids()):
            notebook = ROOT / "solutions" / assignment / f"{assignment}.ipynb"
            if not notebook.exists():
                continue
            execute = [
                str(BIN / "jupyter"),
                "nbconvert",
                "--to",
                "notebook",
                "--execute",
                str(notebook),
                "--output-dir",
                str(scratch),
                "--output",
                "executed",
            ]
            grade = [
                str(BIN / "autograder"),
                "grade",
                str(notebook),
                "--assignment",
                assignment,
                "--results",
                str(scratch / "results.json"),
            ]
            times_execute, times_grade = [], []
            for _ in range(args.repeats):
                times_execute.append(timed(execute, scratch))
                times_grade.append(timed(grade, scratch))
            execute_s = statistics.median(times_execute)
            grade_s = statistics.median(times_grade)
            ratios.append(grade_s / execute_s)
            print(f"{assignment:18} {execute_s:14.2f} {grade_s:10.2f} {grade_s / execute_s:7.2f}")
    print(f"largest ratio: {max(ratios):.2f} (goal: at most 1.5)")


if __name__ == "__main__":
    main()
