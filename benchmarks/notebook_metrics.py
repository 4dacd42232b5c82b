"""Per notebook: how long the solution runs, what the hidden checks add, what it measured.

Each solution notebook is graded three times with fresh seeds. Printed per
assignment: the time to execute the solution with nbconvert; in the grader, the
time its cells took and the time the hidden checks added; and every figure a
training check measured (accuracy, error ratio) with its threshold and its
spread over the three runs.

Usage: python benchmarks/notebook_metrics.py [--runs N] [assignment ...]
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

from autograder.grade import grade_notebook  # noqa: E402
from autograder.registry import assignment_ids  # noqa: E402


def nbconvert_seconds(notebook: Path) -> float:
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        subprocess.run(
            [str(BIN / "jupyter"), "nbconvert", "--to", "notebook", "--execute", str(notebook),
             "--output-dir", scratch, "--output", "executed"],
            check=True, capture_output=True,
        )  # fmt: skip
        return time.perf_counter() - started


def spread(values: list[float]) -> str:
    return f"{statistics.mean(values):.3g} (min {min(values):.3g}, max {max(values):.3g})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("assignments", nargs="*")
    args = parser.parse_args()
    for assignment in args.assignments or list(assignment_ids()):
        notebook = ROOT / "solutions" / assignment / f"{assignment}.ipynb"
        if not notebook.exists():
            continue
        runs = [
            grade_notebook(notebook, assignment=assignment).to_gradescope()
            for _ in range(args.runs)
        ]
        cells = [r["extra_data"]["notebook_seconds"] for r in runs]
        checks = [r["execution_time"] - r["extra_data"]["notebook_seconds"] for r in runs]
        scores = sorted({f"{r['score']:g}/{r['max_score']:g}" for r in runs})
        print(f"{assignment}: scores {', '.join(scores)} over {args.runs} runs")
        print(f"  nbconvert --execute:        {nbconvert_seconds(notebook):6.1f} s")
        print(f"  cells in the sandbox:       {spread(cells)} s")
        print(f"  hidden checks added:        {spread(checks)} s")
        names = sorted({name for r in runs for name in r["extra_data"].get("metrics", {})})
        for name in names:
            found = [
                r["extra_data"]["metrics"][name]
                for r in runs
                if name in r["extra_data"].get("metrics", {})
            ]
            direction = ">=" if found[0]["higher_is_better"] else "<="
            print(
                f"  {name}: {spread([m['value'] for m in found])}, "
                f"threshold {direction} {found[0]['threshold']:g}"
            )


if __name__ == "__main__":
    main()
