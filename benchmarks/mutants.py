"""How many common mistakes and correct alternatives each assignment's tests hold.

Runs each ``tests/checks/test_<id>.py`` and counts, among its parametrized
tests, the distinct mistakes (tests whose name mentions a mutant or mistake)
that every test caught, and the distinct correct alternatives (tests whose name
mentions an alternative) that got full marks in every test.

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

from autograder.scoring import available_assignments  # noqa: E402


class _Tally:
    """Records, per mutant or alternative, whether all its tests passed."""

    def __init__(self) -> None:
        self.cases: dict[str, dict[str, bool]] = {"mutants": {}, "alternatives": {}}

    @staticmethod
    def _kind(name: str) -> str | None:
        if "alternative" in name:
            return "alternatives"
        if "mutant" in name or "mistake" in name:
            return "mutants"
        return None

    @staticmethod
    def _case(item) -> str:
        params = item.callspec.params
        for key in params:
            if any(word in key for word in ("mutant", "mistake", "alternative", "case")):
                value = params[key]
                return value if isinstance(value, str) else item.callspec.id.split("-")[0]
        return item.callspec.id.split("-")[0]

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        kind = self._kind(item.originalname or item.name)
        if kind is None or not hasattr(item, "callspec") or report.when != "call":
            return
        case = self._case(item)
        self.cases[kind][case] = self.cases[kind].get(case, True) and report.passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*")
    args = parser.parse_args()
    print(f"{'assignment':18} {'mutants caught':>15} {'alternatives accepted':>22} {'time':>8}")
    for assignment in args.assignments or available_assignments():
        module = ROOT / "tests" / "checks" / f"test_{assignment}.py"
        if not module.exists():
            continue
        tally = _Tally()
        started = time.perf_counter()
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            pytest.main([str(module), "-q", "-p", "no:cacheprovider"], plugins=[tally])
        seconds = time.perf_counter() - started
        mutants, alternatives = tally.cases["mutants"], tally.cases["alternatives"]
        print(
            f"{assignment:18} {sum(mutants.values()):>7} / {len(mutants):<7}"
            f" {sum(alternatives.values()):>11} / {len(alternatives):<10} {seconds:7.1f}s"
        )
        for name, ok in {**mutants, **alternatives}.items():
            if not ok:
                print(f"   failed: {name}")


if __name__ == "__main__":
    main()
