"""How long each solution notebook takes to run top to bottom, against a 60 s budget.

Each ``solutions/<id>/<id>.ipynb`` is executed with nbclient in a scratch folder
(a fresh kernel per notebook, kernel start-up included), as a student who runs
every cell would. Printed per notebook: the seconds it took, the ratio to the
60 s budget (goal: below 1 on 2 CPU cores), and the machine's load average
before and after, so that a busy machine shows in the figures.

With ``--cells N`` it also prints each notebook's N slowest cells (by grade_id), to
show where the time goes.

With ``--against DIR`` (a folder laid out like solutions/, e.g. an older commit's, written
with ``git archive``) each notebook runs from both, interleaved, and the ratio of the two
times is printed: on a busy machine a ratio measured in one run means more than either time.

Usage: python benchmarks/notebook_times.py [--only ID ...] [--repeats N] [--cells N]
       [--against DIR]
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.registry import assignment_ids  # noqa: E402

BUDGET_SECONDS = 60.0


def _cell_seconds(cell) -> float:
    """How long nbclient's recorded timing says one executed cell took."""
    timing = cell.metadata.get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = datetime.datetime.fromisoformat
    return (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds()


def run_notebook(notebook_path: Path) -> tuple[float, list[tuple[float, str]]]:
    """Execute one notebook in a scratch copy of its folder.

    Returns:
        The wall seconds, and ``(seconds, grade_id)`` of each code cell, slowest first.
    """
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / notebook_path.parent.name
        shutil.copytree(notebook_path.parent, folder)
        notebook = nbformat.read(folder / notebook_path.name, as_version=4)
        client = NotebookClient(
            notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": folder}}
        )
        started = time.perf_counter()
        client.execute(stderr=subprocess.DEVNULL)  # the kernel's own start-up warnings
        seconds = time.perf_counter() - started
    cells = sorted(
        (
            (_cell_seconds(cell), cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {n}"))
            for n, cell in enumerate(notebook.cells)
            if cell.cell_type == "code"
        ),
        reverse=True,
    )
    return seconds, cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="assignment ids")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--cells", type=int, default=0, help="show the N slowest cells")
    parser.add_argument("--against", type=Path, default=None, help="another solutions folder")
    args = parser.parse_args()
    ids = args.only or list(assignment_ids())
    print(f"{os.cpu_count()} CPU cores; budget {BUDGET_SECONDS:.0f} s per notebook")
    print(f"{'notebook':18s} {'seconds':>8s} {'/ 60 s':>7s}  load average before -> after")
    for assignment in ids:
        path = ROOT / "solutions" / assignment / f"{assignment}.ipynb"
        if not path.exists():
            continue
        before = os.getloadavg()[0]
        other = args.against / assignment / path.name if args.against else None
        runs, others = [], []
        for _ in range(args.repeats):
            runs.append(run_notebook(path))
            if other is not None and other.exists():
                others.append(run_notebook(other)[0])
        seconds = statistics.median(run[0] for run in runs)
        after = os.getloadavg()[0]
        versus = ""
        if others:
            other_seconds = statistics.median(others)
            versus = f"  against {other_seconds:.1f} s: ratio {seconds / other_seconds:.2f}"
        print(
            f"{assignment:18s} {seconds:8.1f} {seconds / BUDGET_SECONDS:7.2f}"
            f"  {before:.2f} -> {after:.2f}{versus}",
            flush=True,
        )
        for cell_seconds, name in runs[-1][1][: args.cells]:
            print(f"    {name:28s} {cell_seconds:6.1f} s")


if __name__ == "__main__":
    main()
