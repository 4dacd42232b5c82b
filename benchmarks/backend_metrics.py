"""Each graded metric of the Keras assignments over several seeds, on the running backend.

Runs the learning checks of every Keras assignment (the checks that train a model and
record a metric beside its threshold with ``report_metric``) in-process on the reference
solution, once per grading seed, through the kit's test harness
(:func:`tests.harness.reference_training_run`), and prints per metric: the backend, the
number of seeds, mean, standard deviation, worst and best run, the threshold and the
margin of the worst run on the right side of it (negative: some run missed the bar). A
threshold that depends on the run (the capstone's fine-tuning bar is that run's frozen
accuracy minus a margin) is shown as its mean, and the margin is the worst run's own.

``--times`` instead grades each Keras solution notebook once in the sandbox
(``python -m autograder grade``) and prints its grading time, to compare backends.

Run it once per backend, with that backend's environment and KERAS_BACKEND set::

    KERAS_BACKEND=jax .venv-jax/bin/python benchmarks/backend_metrics.py --seeds 5
    KERAS_BACKEND=torch .venv-torch/bin/python benchmarks/backend_metrics.py --times

Usage: python benchmarks/backend_metrics.py [--seeds N] [--first-seed S]
[--assignments a b ...] [--json FILE] [--times]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: The assignments whose notebooks use Keras, in course order.
KERAS_ASSIGNMENTS = ("keras_intro", "cnn", "lstm", "attention", "autoencoder", "aircraft_damage")


def backend_name() -> str:
    """The Keras backend this process runs (KERAS_BACKEND, TensorFlow when unset)."""
    return os.environ.get("KERAS_BACKEND", "tensorflow")


def measure(assignment: str, seed: int) -> dict[str, dict]:
    """The metrics the assignment's learning checks record on the reference for one seed."""
    from tests.harness import reference_training_run

    _, submission = reference_training_run(assignment, seed)
    return {name: dict(metric) for name, metric in submission.metrics.items()}


def margin(metric: dict) -> float:
    """How far a run lies on the passing side of its threshold (negative: it missed)."""
    value, threshold = metric["value"], metric["threshold"]
    return value - threshold if metric["higher_is_better"] else threshold - value


def summarise(runs: list[dict[str, dict]]) -> list[dict]:
    """Per metric over the runs: mean, sd, min, max, mean threshold and worst margin."""
    rows = []
    for name in sorted({name for run in runs for name in run}):
        metrics = [run[name] for run in runs if name in run]
        values = [m["value"] for m in metrics]
        thresholds = [m["threshold"] for m in metrics]
        rows.append({
            "metric": name, "backend": backend_name(), "seeds": len(values),
            "mean": statistics.mean(values),
            "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values), "max": max(values),
            "threshold": statistics.mean(thresholds),
            "threshold_varies": max(thresholds) - min(thresholds) > 1e-12,
            "higher_is_better": metrics[0]["higher_is_better"],
            "margin": min(margin(m) for m in metrics),
        })  # fmt: skip
    return rows


def print_rows(rows: list[dict]) -> None:
    print(f"{'metric':42s} {'backend':10s} {'seeds':>5s} {'mean':>7s} {'sd':>6s} {'min':>7s} "
          f"{'max':>7s} {'threshold':>10s} {'margin':>7s}")  # fmt: skip
    for r in rows:
        bar = f"{'~' if r['threshold_varies'] else ''}{'>=' if r['higher_is_better'] else '<='}"
        print(f"{r['metric']:42s} {r['backend']:10s} {r['seeds']:5d} {r['mean']:7.3f} "
              f"{r['sd']:6.3f} {r['min']:7.3f} {r['max']:7.3f} {bar:>3s}{r['threshold']:7.3f} "
              f"{r['margin']:+7.3f}", flush=True)  # fmt: skip


def metrics_mode(args) -> None:
    warnings.filterwarnings("ignore")
    rows, raw = [], {}
    for assignment in args.assignments:
        started = time.perf_counter()
        runs = [measure(assignment, seed)
                for seed in range(args.first_seed, args.first_seed + args.seeds)]  # fmt: skip
        raw[assignment] = runs
        found = summarise(runs)
        rows.extend(found)
        print(f"# {assignment}: {args.seeds} seeds on {backend_name()} in "
              f"{time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
        print_rows(found)
    print("\n# all metrics")
    print_rows(rows)
    if args.json:
        Path(args.json).write_text(json.dumps({"backend": backend_name(), "rows": rows,
                                               "runs": raw}, indent=1))  # fmt: skip


def times_mode(args) -> None:
    """Grade each solution notebook once in the sandbox, on this backend; print the times."""
    env = {**os.environ, "KERAS_BACKEND": backend_name(), "TF_CPP_MIN_LOG_LEVEL": "3"}
    print(f"{'notebook':20s} {'backend':10s} {'wall_s':>7s} {'score':>11s}")
    times = {}
    for assignment in args.assignments:
        notebook = ROOT / "solutions" / assignment / f"{assignment}.ipynb"
        with tempfile.TemporaryDirectory() as scratch:
            results = Path(scratch) / "results.json"
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "autograder", "grade", str(notebook),
                            "--results", str(results)],
                           cwd=ROOT, env=env, check=True, capture_output=True)  # fmt: skip
            wall = time.perf_counter() - started
            graded = json.loads(results.read_text())
        times[assignment] = {"wall_s": wall, "score": graded["score"],
                             "max_score": graded["max_score"]}  # fmt: skip
        score = f"{graded['score']:g}/{graded['max_score']:g}"
        print(f"{assignment:20s} {backend_name():10s} {wall:7.1f} {score:>11s}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"backend": backend_name(), "times": times}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="grading seeds per assignment")
    parser.add_argument("--first-seed", type=int, default=0, help="the first grading seed")
    parser.add_argument("--assignments", nargs="+", default=list(KERAS_ASSIGNMENTS),
                        choices=KERAS_ASSIGNMENTS)  # fmt: skip
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument("--times", action="store_true",
                        help="grade each solution notebook once and print its grading time")  # fmt: skip
    args = parser.parse_args()
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    (times_mode if args.times else metrics_mode)(args)


if __name__ == "__main__":
    main()
