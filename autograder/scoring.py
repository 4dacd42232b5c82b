"""Run an assignment's hidden checks against a submission and score them.

The checks are pytest modules (``autograder/checks/<assignment>.py``, found by
:mod:`autograder.registry`) run in the grader's process by ``pytest.main`` with a
plugin that hands them the submission; each check's outcome is a
:class:`~autograder.results.CheckResult`.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from autograder import registry
from autograder.checks.common import CheckFailure, PartialCredit
from autograder.results import CheckResult
from autograder.submission import Submission, SubmissionError

CHECKS_DIR = Path(__file__).resolve().parent / "checks"


def _student_message(excinfo: pytest.ExceptionInfo) -> str:
    error = excinfo.value
    if isinstance(error, CheckFailure | SubmissionError):
        return str(error)
    # Any other exception is a fault of the check itself (or an unexpected value
    # the check did not guard against); never show its traceback or source.
    return (
        "The grader could not finish this check on what your function returned "
        f"({type(error).__name__}). Make sure it returns the type and shape the "
        "docstring asks for."
    )


class _ChecksPlugin:
    """Hands the submission to the checks and records each check's outcome."""

    def __init__(self, submission: Submission, only: Callable[[str], bool] | None = None) -> None:
        self._submission = submission
        self._only = only
        self.results: dict[str, CheckResult] = {}
        self.order: list[str] = []

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "points(n): points of a hidden check")
        config.addinivalue_line("markers", "trains: a hidden check that trains a model")

    @pytest.fixture
    def submission(self) -> Submission:
        return self._submission

    @pytest.fixture
    def rng(self, request: pytest.FixtureRequest) -> np.random.Generator:
        digest = hashlib.sha256(request.node.name.encode()).digest()
        return np.random.default_rng([self._submission.seed, int.from_bytes(digest[:8], "little")])

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        if self._only is not None:
            kept = [item for item in items if self._only(item.name)]
            config.hook.pytest_deselected(items=[i for i in items if i not in kept])
            items[:] = kept
        for item in items:
            marker = item.get_closest_marker("points")
            max_score = float(marker.args[0]) if marker else 1.0
            self.order.append(item.name)
            self.results[item.name] = CheckResult(item.name, 0.0, max_score, "")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        report = outcome.get_result()
        result = self.results[item.name]
        if report.when == "call" and report.passed:
            result.score = result.max_score
            result.output = "Passed."
        elif report.failed:
            result.score = _partial_score(call.excinfo, result.max_score)
            result.output = _student_message(call.excinfo) if call.excinfo else "This check failed."


def _partial_score(excinfo: pytest.ExceptionInfo | None, max_score: float) -> float:
    """The points of a failed check: its fraction of ``max_score`` when it gave partial credit.

    Only :class:`~autograder.checks.common.PartialCredit` carries a fraction (strictly
    between 0 and 1 as :func:`~autograder.checks.common.partial` raises it; anything else
    is clipped to [0, 1], NaN to 0). The points are rounded to 4 decimals, as
    :class:`~autograder.results.Results` rounds their sum.
    """
    error = excinfo.value if excinfo is not None else None
    if not isinstance(error, PartialCredit) or not error.fraction > 0.0:
        return 0.0
    return round(max_score * min(error.fraction, 1.0), 4)


def run_checks(
    assignment: str, submission: Submission, only: Callable[[str], bool] | None = None
) -> list[CheckResult]:
    """Run every hidden check of ``assignment`` against ``submission``.

    Args:
        assignment: an id from :func:`available_assignments`.
        submission: how the checks reach the student's functions.
        only: if given, run only the checks whose name it accepts.

    Returns:
        One :class:`CheckResult` per check, in the module's order.

    Example:
        >>> from autograder.submission import LocalSubmission
        >>> results = run_checks("activations", LocalSubmission({}))
        >>> all(r.score == 0 for r in results)
        True
    """
    path = registry.assignment(assignment).checks
    plugin = _ChecksPlugin(submission, only)
    args = [
        str(path),
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "-p",
        "no:warnings",
        "-p",
        "no:unraisableexception",
        "-p",
        "no:threadexception",
        "--assert=plain",
        "--import-mode=importlib",
        "--rootdir",
        str(CHECKS_DIR),
        "-c",
        os.devnull,
        "-o",
        "addopts=",
        "-s",
    ]
    sink = io.StringIO()
    with redirect_stdout(sink), redirect_stderr(sink):
        code = pytest.main(args, plugins=[plugin])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or (
        not plugin.order and only is None
    ):
        raise RuntimeError(
            f"the checks of {assignment!r} could not run:\n{sink.getvalue()[-3000:]}"
        )
    return [plugin.results[name] for name in plugin.order]
