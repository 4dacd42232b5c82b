"""The ``autograder`` command line: argument parsing only."""

from __future__ import annotations

import argparse
import os
import sys

from autograder.sandbox import Limits


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograder", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    grade = commands.add_parser(
        "grade",
        help="grade one notebook, or every submission of an nbgrader submitted/ folder",
    )
    grade.add_argument(
        "notebook",
        help="a submitted .ipynb file, or a submitted/ folder (<student>/<assignment>/*.ipynb)",
    )
    grade.add_argument("--assignment", help="assignment id (default: from metadata or file name)")
    grade.add_argument(
        "--results", default="results.json", help="where to write results.json (one notebook)"
    )
    grade.add_argument("--student", help="only this student's submissions (folder)")
    grade.add_argument(
        "--jobs", type=int, help="submissions graded at once (folder; default: CPU cores)"
    )
    grade.add_argument(
        "--no-gradebook", action="store_true", help="do not write nbgrader's gradebook (folder)"
    )
    grade.add_argument("--executed", help="also write the notebook with its outputs here")
    grade.add_argument("--seed", type=int, help="seed for the checks' inputs (default: random)")
    Limits.add_arguments(grade)

    feedback = commands.add_parser(
        "feedback", help="write a feedback page per student from autograded/ results"
    )
    feedback.add_argument("--course", default=".", help="the course directory (default: .)")
    feedback.add_argument("--assignment", help="only this assignment")
    feedback.add_argument("--student", help="only this student")

    bundle = commands.add_parser(
        "gradescope", help="build a Gradescope autograder bundle (.zip) for one assignment"
    )
    bundle.add_argument("assignment", help="assignment id")
    bundle.add_argument("--output", default=".", help="a .zip path or a folder (default: .)")

    demo = commands.add_parser(
        "demo", help="grade every solution and released notebook of the course and print a table"
    )
    demo.add_argument("--course", default=".", help="the course directory (default: .)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "grade":
        from autograder import grade

        limits = Limits.from_args(args)
        if os.path.isdir(args.notebook):
            from autograder import batch

            return batch.main(
                submitted=args.notebook,
                assignment=args.assignment,
                student=args.student,
                jobs=args.jobs,
                limits=limits,
                gradebook=not args.no_gradebook,
            )
        try:
            return grade.main(
                notebook=args.notebook,
                assignment=args.assignment,
                results=args.results,
                seed=args.seed,
                limits=limits,
                executed=args.executed,
            )
        except ValueError as error:
            print(f"autograder: {error}", file=sys.stderr)
            return 2
    if args.command == "feedback":
        from autograder import feedback

        return feedback.main(course=args.course, assignment=args.assignment, student=args.student)
    if args.command == "gradescope":
        from autograder import gradescope

        try:
            return gradescope.main(assignment=args.assignment, output=args.output)
        except ValueError as error:
            print(f"autograder: {error}", file=sys.stderr)
            return 2
    if args.command == "demo":
        from autograder import demo

        return demo.main(course=args.course)
    return 2


if __name__ == "__main__":
    sys.exit(main())
