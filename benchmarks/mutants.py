"""How many common mistakes and correct alternatives each assignment's tests hold.

Reads the mutants and alternatives of ``tests/checks/test_<id>.py`` and scores
each against the hidden checks over several seeds, in-process: a mutant counts
as caught when, on every seed, a check named after its function fails; an
alternative as accepted when it gets full marks on every seed.

Usage: python benchmarks/mutants.py [--seeds N]
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.scoring import available_assignments, function_of, graded_functions  # noqa: E402
from tests.harness import reference, score  # noqa: E402


def _sources(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def mutants_of(module) -> list[tuple[str, str, list[str]]]:
    """``(id, function, sources)`` of each mutant, whatever the module's layout."""
    table = getattr(module, "MUTANTS", None) or getattr(module, "MISTAKES", None) or []
    items = table.items() if isinstance(table, dict) else ((row[0], row[1:]) for row in table)
    return [(name, rest[0], _sources(rest[1])) for name, rest in items]


def alternatives_of(module) -> list[tuple[str, list[str]]]:
    table = getattr(module, "ALTERNATIVES", [])
    items = table.items() if isinstance(table, dict) else table
    return [(name, _sources(sources)) for name, sources in items]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    seeds = range(1000, 1000 + args.seeds)
    print(f"{'assignment':18} {'mutants caught':>15} {'alternatives accepted':>22} {'time':>7}")
    for assignment in available_assignments():
        if not (ROOT / "source" / assignment / f"{assignment}.ipynb").exists():
            continue
        try:
            module = importlib.import_module(f"tests.checks.test_{assignment}")
        except ModuleNotFoundError:
            continue
        started = time.perf_counter()
        functions = list(graded_functions(assignment))
        mutants, alternatives = mutants_of(module), alternatives_of(module)
        caught, missed = 0, []
        for name, function, sources in mutants:
            namespace_sources = sources
            if all(
                any(
                    function_of(r.name, functions) == function and not r.passed
                    for r in score(
                        assignment, reference(assignment, *namespace_sources), s
                    ).values()
                )
                for s in seeds
            ):
                caught += 1
            else:
                missed.append(name)
        accepted, refused = 0, []
        for name, sources in alternatives:
            if all(
                all(
                    r.passed for r in score(assignment, reference(assignment, *sources), s).values()
                )
                for s in seeds
            ):
                accepted += 1
            else:
                refused.append(name)
        seconds = time.perf_counter() - started
        print(
            f"{assignment:18} {caught:>7} / {len(mutants):<7} {accepted:>11} / {len(alternatives):<10}"
            f" {seconds:6.1f}s"
        )
        for name in missed:
            print(f"   not caught on every seed: {name}")
        for name in refused:
            print(f"   not accepted on every seed: {name}")


if __name__ == "__main__":
    main()
