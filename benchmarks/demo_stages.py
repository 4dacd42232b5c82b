"""`make demo`'s stages, the earlier way and the present way, timed in the same run.

1. The course's own notebooks (every solution and released notebook): graded one
   after another with ``grade_notebook`` (earlier) and as a parallel batch, the slowest
   first (:func:`autograder.demo.grade_course_notebooks`).
2. The sample class: ``--old-class-size`` students each handing in every assignment
   (earlier: 8, so 72 submissions for nine assignments) and the demo's class, each kind
   of work once (:func:`autograder.sample_class.demo_class`); both through
   :func:`autograder.demo.grade_sample_class` (batch, gradebook, export, feedback).
3. ``make notebooks``: the staleness check that now precedes the demo, on this
   checkout (earlier every notebook was regenerated and every solution executed).

Each stage runs on a scratch copy of the course holding only ``--assignments`` (default:
all). A busy machine slows both sides alike, so compare the ratios.

    python benchmarks/demo_stages.py --assignments activations backprop lstm --jobs 2
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder import demo, generate  # noqa: E402
from autograder.grade import grade_notebook  # noqa: E402
from autograder.registry import assignment_ids  # noqa: E402


def scratch_course(root: Path, assignments: list[str]) -> Path:
    """A course holding only ``assignments``' source, released and solution notebooks."""
    for folder in ("source", "solutions", "assignments"):
        for assignment in assignments:
            shutil.copytree(ROOT / folder / assignment, root / folder / assignment)
    shutil.copyfile(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    return root


def timed(step) -> tuple[float, object]:
    started = time.perf_counter()
    value = step()
    return time.perf_counter() - started, value


def sequential(course: Path) -> bool:
    """The earlier first stage: each course notebook graded in turn, in this process."""
    ok = True
    for assignment, kind, path in demo.course_notebooks(course):
        doc = grade_notebook(path, assignment=assignment)
        ok &= doc.score == (doc.max_score if kind == "solution" else 0)
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignments", nargs="+", help="only these (default: all)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--old-class-size", type=int, default=8)
    parser.add_argument("--skip-old-class", action="store_true", help="time only the new class")
    args = parser.parse_args()
    assignments = [
        a for a in assignment_ids() if not args.assignments or a in args.assignments
    ]  # fmt: skip
    quiet = Console(file=io.StringIO(), width=200)
    rows: list[tuple[str, float, float | None, bool]] = []
    with tempfile.TemporaryDirectory(prefix="demo-stages-") as scratch:
        root = scratch_course(Path(scratch) / "course", assignments)
        n = len(demo.course_notebooks(root))
        old, ok_old = timed(lambda: sequential(root))
        new, ok_new = timed(
            lambda: demo.grade_course_notebooks(
                quiet, root, Path(scratch) / "graded", jobs=args.jobs
            )
        )
        rows.append((f"course notebooks ({n}): one by one vs {args.jobs} jobs", old, new,
                     ok_old and ok_new))  # fmt: skip
        if args.skip_old_class:
            old_class, ok_old = None, True
        else:
            old_class, ok_old = timed(
                lambda: demo.grade_sample_class(
                    quiet, root, class_size=args.old_class_size, jobs=args.jobs
                )
            )
        new_class, ok_new = timed(lambda: demo.grade_sample_class(quiet, root, jobs=args.jobs))
        submissions = len(list((root / "demo-course" / "submitted").glob("*/*")))
        old_n = args.old_class_size * len(assignments)
        rows.append((f"class: {old_n} submissions vs {submissions} (each kind once)",
                     old_class, new_class, ok_old and ok_new))  # fmt: skip
    check, stale = timed(lambda: generate.stale(ROOT))
    rows.append((f"make notebooks: staleness check ({len(stale)} stale here)", None, check, True))
    print(f"{'stage':62} {'earlier':>9} {'now':>9} {'ratio':>7}  as expected")
    for name, before, after, ok in rows:
        ratio = f"{before / after:6.1f}x" if before and after else "-"
        earlier = f"{before:8.1f}s" if before is not None else "-"
        print(f"{name:62} {earlier:>9} {after:8.1f}s {ratio:>7}  {'yes' if ok else 'NO'}")
    total_old = sum(r[1] or 0 for r in rows[:2])
    total_new = sum(r[2] or 0 for r in rows[:2])
    if total_new and all(r[1] for r in rows[:2]):
        print(f"grading, both stages: {total_old:.1f}s -> {total_new:.1f}s "
              f"({total_old / total_new:.1f}x faster)")  # fmt: skip


if __name__ == "__main__":
    main()
