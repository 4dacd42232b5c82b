"""How often each statistical check of rbm gives the wrong verdict, over many seeds.

For every check whose verdict rests on random draws (``STATISTICAL`` in
``tests/checks/test_rbm.py``), runs it in-process once per seed on each correct case
(the reference and the table's alternatives) and each mistake it must catch, and
prints the false failures of the correct cases, the passes of the mistakes (both must
be 0) and the seconds each took. The tolerances are derived so that a correct case
fails with probability below 1e-7 per run; a thousand seeds can show a far larger
rate, not prove that one.

Usage: python benchmarks/statistical_checks.py [--seeds 1000] [--jobs 2] [--check SUBSTRING]
       [--case SUBSTRING]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.checks.test_rbm import ASSIGNMENT, STATISTICAL, case_namespace  # noqa: E402
from tests.harness import failing_seeds  # noqa: E402


def _run(job: tuple[str, str, int, int]) -> tuple[str, str, int, float]:
    """``(check, case, failures, seconds)`` over the seeds ``first .. first + n - 1``."""
    check, case, first, n = job
    warnings.simplefilter("ignore", RuntimeWarning)  # overflowing mistakes, on purpose
    start = time.perf_counter()
    failed = failing_seeds(ASSIGNMENT, check, case_namespace(case), range(first, first + n))
    return check, case, len(failed), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--first-seed", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--check", default="", help="only the checks whose names contain it")
    parser.add_argument("--case", default="", help="only the cases whose names contain it")
    args = parser.parse_args()
    jobs, kinds = [], {}
    for check, (correct, mistakes, _) in STATISTICAL.items():
        if args.check not in check:
            continue
        for kind, names in (("correct", correct), ("mistake", mistakes)):
            for case in (name for name in names if args.case in name):
                kinds[check, case] = kind
                jobs.append((check, case, args.first_seed, args.seeds))
    print(f"{'check':52} {'case':72} {'kind':8} {'wrong':>6} {'seeds':>6} {'s/run':>7}")
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for check, case, failures, seconds in pool.map(_run, jobs):
            kind = kinds[check, case]
            wrong = failures if kind == "correct" else args.seeds - failures
            print(f"{check:52} {case:72} {kind:8} {wrong:6d} {args.seeds:6d} "
                  f"{seconds / args.seeds:7.3f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
