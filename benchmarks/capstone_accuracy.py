"""The capstone's learning checks over many seeds: the accuracies against their bars.

Runs the two checks of ``aircraft_damage`` that train (feature extraction on the kit's
pretrained base; fine-tuning after ``unfreeze_top_layers``) in-process, on the reference
and on the table's correct alternatives, one grading seed after another (each seed draws
the held-out photographs and the training seed). Printed: per model and check, the mean,
standard deviation, worst and best measured accuracy, the bar, and the margin of the worst
run above it.

Usage: python benchmarks/capstone_accuracy.py [--seeds N] [--alternative-seeds M]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder import cases  # noqa: E402
from autograder.checks import aircraft_damage as checks  # noqa: E402
from autograder.scoring import run_checks  # noqa: E402
from autograder.submission import LocalSubmission  # noqa: E402
from tests.harness import reference  # noqa: E402

ASSIGNMENT = "aircraft_damage"
FROZEN, TUNED = "aircraft_frozen_accuracy", "aircraft_fine_tuned_accuracy"


def measure(namespace: dict, seed: int) -> dict[str, float]:
    """The metrics the two training checks record for one seed, and the frozen/tuned gap."""
    submission = LocalSubmission(namespace, seed=seed)
    trained = {"test_build_transfer_model_learns_from_frozen_features",
               "test_unfreeze_top_layers_fine_tuning_keeps_the_accuracy"}  # fmt: skip
    results = run_checks(ASSIGNMENT, submission, only=trained.__contains__)
    figures = {name: float(m["value"]) for name, m in submission.metrics.items()}
    figures["full marks"] = float(all(r.score == r.max_score for r in results))
    tuned = submission.metrics.get(TUNED)
    if tuned is not None:  # its bar is that run's frozen accuracy minus the margin
        figures["fine-tuned minus frozen"] = (
            tuned["value"] - tuned["threshold"] - checks.FINE_TUNE_MARGIN
        )
    return figures


def report(label: str, runs: list[dict[str, float]]) -> None:
    bars = {FROZEN: checks.MIN_ACCURACY, "fine-tuned minus frozen": -checks.FINE_TUNE_MARGIN}
    print(f"{label}: {len(runs)} seeds, full marks on {sum(r['full marks'] for r in runs):.0f}")
    for key in (FROZEN, TUNED, "fine-tuned minus frozen"):
        values = [r[key] for r in runs if key in r]
        if not values:
            continue
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        line = (f"  {key:26s} mean {statistics.mean(values):+.3f} sd {spread:.3f} "
                f"worst {min(values):+.3f} best {max(values):+.3f}")  # fmt: skip
        if key in bars:
            line += f"  bar {bars[key]:+.3f}, worst run {min(values) - bars[key]:+.3f} above it"
        print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeds for the reference")
    parser.add_argument("--alternative-seeds", type=int, default=5,
                        help="seeds for each correct alternative")  # fmt: skip
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    models = {"reference": reference(ASSIGNMENT)}
    for alternative in cases.load(ASSIGNMENT).alternatives:
        if alternative.slow:
            models[alternative.id] = reference(ASSIGNMENT, alternative.source)
    for label, namespace in models.items():
        n = args.seeds if label == "reference" else args.alternative_seeds
        report(label, [measure(namespace, 1000 + seed) for seed in range(n)])
    print(f"{time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
