"""How many known mistakes and correct alternatives each assignment's table holds, and
how many the checks handle as they must.

Runs the kit's generic tests of the tables (``tests/checks/test_every_assignment.py``,
the slow ones included) for each assignment, and counts the mistakes (from
``autograder/cases/<id>.py``) that a check of their function caught with their
words, and the alternatives that got full marks.

Usage: python benchmarks/mutants.py [assignment ...]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.registry import assignment_ids  # noqa: E402

SUITE = ROOT / "tests" / "checks" / "test_every_assignment.py"
TESTS = {
    "test_mistake_is_caught_by_a_check_of_its_function": "mistakes",
    "test_correct_alternative_gets_full_marks": "alternatives",
}


class _Tally:
    """Records, per mistake or alternative, whether its test passed."""

    def __init__(self) -> None:
        self.cases: dict[str, dict[str, bool]] = {"mistakes": {}, "alternatives": {}}

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        kind = TESTS.get(item.originalname)
        if kind is None or report.when != "call":
            return
        case = item.callspec.params["mistake" if kind == "mistakes" else "alternative"]
        self.cases[kind][case.id] = report.passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*")
    args = parser.parse_args()
    print(f"{'assignment':18} {'mistakes caught':>16} {'alternatives accepted':>22} {'time':>8}")
    for assignment in args.assignments or list(assignment_ids()):
        tally = _Tally()
        started = time.perf_counter()
        selected = f"({' or '.join(TESTS)}) and {assignment}-"
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            pytest.main(
                [str(SUITE), "-q", "-p", "no:cacheprovider", "-k", selected], plugins=[tally]
            )
        seconds = time.perf_counter() - started
        mistakes, alternatives = tally.cases["mistakes"], tally.cases["alternatives"]
        print(
            f"{assignment:18} {sum(mistakes.values()):>8} / {len(mistakes):<7}"
            f" {sum(alternatives.values()):>11} / {len(alternatives):<10} {seconds:7.1f}s"
        )
        for name, ok in {**mistakes, **alternatives}.items():
            if not ok:
                print(f"   failed: {name}")


if __name__ == "__main__":
    main()
