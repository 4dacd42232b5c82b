"""How long the report's similarity detector takes on a generated class of 500.

The class: ``--students`` submissions of one assignment (default 500 of
``gradient_descent``), the notebooks the sample class hands in
(:func:`autograder.sample_class.handed_in`, the kinds in turn: honest, partial,
mistaken, cheating, broken, late, missing; a missing one is skipped, a broken one cannot
be read and is skipped too), plus the copying pair of the tests' fixtures (ivo, and jun
who copied ivo's notebook with the variables renamed). Printed: the time of
:func:`~autograder.report.similarity.own_code` over the class, the time of
:func:`~autograder.report.similarity.similar_pairs`, and the pairs flagged (the fixtures'
pair should be the only one: the sample class's identical notebooks are common code).

Usage: python benchmarks/similarity.py [--students 500] [--assignment gradient_descent]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder import registry, sample_class  # noqa: E402
from autograder.report import similarity  # noqa: E402


def _fixture_pair(template: Path) -> dict[str, str]:
    """The own code of the tests' copying pair (only for gradient_descent, their assignment)."""
    sys.path.insert(0, str(ROOT / "tests"))
    import test_report_similarity as fixtures

    return {
        student: similarity.own_code(fixtures.notebook_of(fixtures.fixture(student)), template)
        for student in (fixtures.COPIED, fixtures.COPIER)
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--assignment", default="gradient_descent")
    args = parser.parse_args(argv)

    template = registry.assignment(args.assignment).notebook("released", ROOT)
    notebooks, kinds = {}, sample_class.KINDS
    started = time.perf_counter()
    cache: dict[str, bytes | None] = {}  # each kind's notebook is the same for every student
    for i in range(args.students):
        kind = kinds[i % len(kinds)]
        if kind not in cache:
            cache[kind] = sample_class.handed_in(ROOT, args.assignment, kind)
        notebooks[sample_class.student_name(i)] = cache[kind]
    built = time.perf_counter() - started

    started = time.perf_counter()
    codes, skipped = {}, {"missing": 0, "unreadable": 0}
    for student, content in notebooks.items():
        if content is None:
            skipped["missing"] += 1
            continue
        try:
            codes[student] = similarity.own_code(content, template)
        except ValueError:
            skipped["unreadable"] += 1
    own = time.perf_counter() - started
    if args.assignment == "gradient_descent":
        codes |= _fixture_pair(template)

    started = time.perf_counter()
    pairs = similarity.similar_pairs(codes, similarity.template_code(template))
    compared = time.perf_counter() - started

    print(f"{args.students} students of {args.assignment} (notebooks built in {built:.2f} s)")
    print(
        f"own_code over the class: {own:.2f} s for {len(notebooks)} notebooks "
        f"({skipped['missing']} missing, {skipped['unreadable']} unreadable, skipped)"
    )
    print(f"similar_pairs: {compared:.2f} s for {len(codes)} students' code")
    print(f"pairs flagged: {len(pairs)}")
    for pair in pairs[:10]:
        print(f"  {pair.students[0]} / {pair.students[1]}: score {pair.score:.2f}, "
              f"{pair.shared_tokens} shared tokens")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
