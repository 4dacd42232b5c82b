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
    grade.add_argument(
        "--device", choices=("auto", "cpu", "gpu"), default="auto",
        help="where the Keras backend computes: a GPU where there is one (auto), the CPU, "
        "or a GPU or fail (default: auto)",
    )  # fmt: skip
    grade.add_argument(
        "--gpus", default="all",
        help="the GPUs a folder's jobs are spread over: all, none, or numbers like 0,1 "
        "(default: all)",
    )  # fmt: skip
    Limits.add_arguments(grade)

    unrunnable = commands.add_parser(
        "unrunnable",
        help="write the results of a submission that cannot be graded: every check fails "
        "with the reason",
    )
    unrunnable.add_argument("assignment", help="assignment id")
    unrunnable.add_argument("--reason", required=True, help="what the student reads")
    unrunnable.add_argument("--results", default="results.json", help="where to write them")

    commands.add_parser(
        "assignments",
        help="list the assignments: their functions, checks, points, data and tasks",
    )

    feedback = commands.add_parser(
        "feedback", help="write a feedback page per student from autograded/ results"
    )
    feedback.add_argument("--course", default=".", help="the course directory (default: .)")
    feedback.add_argument("--assignment", help="only this assignment")
    feedback.add_argument("--student", help="only this student")

    report = commands.add_parser(
        "report",
        help="write the class report after a batch: per check pass rates and discrimination, "
        "the mistakes the class makes, flagged and alike submissions, late and missing work",
    )
    report.add_argument("--course", default=".", help="the course directory (default: .)")
    report.add_argument("--assignment", help="only this assignment's page")

    bundle = commands.add_parser(
        "gradescope", help="build a Gradescope autograder bundle (.zip) for one assignment"
    )
    bundle.add_argument("assignment", help="assignment id")
    bundle.add_argument("--output", default=".", help="a .zip path or a folder (default: .)")

    demo = commands.add_parser(
        "demo",
        help="grade every solution and released notebook of the course, then a sample class",
    )
    demo.add_argument("--course", default=".", help="the course directory (default: .)")
    demo.add_argument(
        "--class-size",
        type=int,
        metavar="N",
        help="grade a sample class of N students who each hand in every assignment "
        "(default: one student per kind of work, each kind shown once)",
    )
    demo.add_argument("--jobs", type=int, help="notebooks graded at once (default: CPU cores)")
    return parser


def _verb(args: argparse.Namespace):
    """The keyword-only ``main()`` of the command's module, and its arguments."""
    if args.command == "grade":
        limits = Limits.from_args(args)
        if os.path.isdir(args.notebook):
            from autograder import batch

            return batch.main, dict(
                submitted=args.notebook, assignment=args.assignment, student=args.student,
                jobs=args.jobs, limits=limits, gradebook=not args.no_gradebook,
                device=args.device, gpus=args.gpus,
            )  # fmt: skip
        from autograder import grade

        return grade.main, dict(
            notebook=args.notebook, assignment=args.assignment, results=args.results,
            seed=args.seed, limits=limits, executed=args.executed, device=args.device,
        )  # fmt: skip
    if args.command == "unrunnable":
        from autograder import grade

        return grade.unrunnable_main, dict(
            assignment=args.assignment, reason=args.reason, results=args.results
        )
    if args.command == "assignments":
        from autograder import registry

        return registry.main, {}
    if args.command == "feedback":
        from autograder import feedback

        return feedback.main, dict(
            course=args.course, assignment=args.assignment, student=args.student
        )
    if args.command == "report":
        from autograder import report

        return report.main, dict(course=args.course, assignment=args.assignment)
    if args.command == "gradescope":
        from autograder import gradescope

        return gradescope.main, dict(assignment=args.assignment, output=args.output)
    from autograder import demo

    return demo.main, dict(course=args.course, class_size=args.class_size, jobs=args.jobs)


def main(argv: list[str] | None = None) -> int:
    """Run one command; an unknown assignment (a ``ValueError``) exits 2 with its message."""
    verb, kwargs = _verb(_parser().parse_args(argv))
    try:
        return verb(**kwargs)
    except ValueError as error:
        print(f"autograder: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
