"""The figures of the report: per check, per assignment, and the mistakes the class makes.

**Discrimination** is the corrected item-total correlation of item analysis: the
Pearson correlation, over the graded submissions, between a check's points and each
submission's total of the *other* checks. A good check is passed more often by the
students who do well on the rest (a positive correlation); one near 0 says little
about who understood; a negative one is passed by those who do badly elsewhere,
which is what a check that rewards a wrong answer (or rejects a right one) looks like.
It is empty where either side is constant, and below :data:`MIN_FOR_CORRELATION`
graded submissions, where a correlation is always ±1 or undefined.

Example:
    >>> round(pearson([0, 1, 1, 0], [1, 3, 4, 2]), 3)
    0.894
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from autograder.registry import REGISTRY, function_of
from autograder.report.evidence import AssignmentEvidence, Submission

#: Below this, a check's discrimination is marked as low. Item analysis's usual rule
#: (Ebel's): a corrected item-total correlation under 0.2 discriminates poorly, 0.2-0.3
#: is fair, above 0.3 good. Its noise is about 1/sqrt(n): ±0.2 at 25 graded submissions,
#: so the page says how many a correlation rests on.
LOW_DISCRIMINATION = 0.2
#: Fewer graded submissions than this give no correlation: with two points it is ±1.
MIN_FOR_CORRELATION = 3
#: How many of a check's most frequent failure messages the page shows.
TOP_FAILURES = 5

CSV_COLUMNS = (
    "check", "function", "points", "graded", "passed", "pass_rate", "mean_points",
    "discrimination", "flag",
)  # fmt: skip


def pearson(x: Sequence[float], y: Sequence[float]) -> float | None:
    """The Pearson correlation of ``x`` and ``y``; ``None`` where either is constant.

    Args:
        x: numbers.
        y: as many numbers.

    Returns:
        A number in [-1, 1], or ``None`` (fewer than :data:`MIN_FOR_CORRELATION`
        pairs, or no spread on one side).
    """
    n = len(x)
    if n != len(y) or n < MIN_FOR_CORRELATION:
        return None
    mean_x, mean_y = math.fsum(x) / n, math.fsum(y) / n
    dx = [v - mean_x for v in x]
    dy = [v - mean_y for v in y]
    sxx, syy = math.fsum(v * v for v in dx), math.fsum(v * v for v in dy)
    # Spread below rounding of the points themselves is no spread (sums of 0.1 points).
    if sxx <= 1e-12 * max(1.0, max(abs(v) for v in x)) ** 2 * n:
        return None
    if syy <= 1e-12 * max(1.0, max(abs(v) for v in y)) ** 2 * n:
        return None
    r = math.fsum(a * b for a, b in zip(dx, dy, strict=True)) / math.sqrt(sxx * syy)
    return max(-1.0, min(1.0, r))


@dataclass(frozen=True)
class CheckRow:
    """One check's figures: a row of ``checks.csv``.

    Args:
        check: the check's name, ``test_<function>_<property>``.
        function: the student function it checks (empty if it names none).
        points: its points.
        graded: graded submissions whose results hold it.
        passed: those that got its full points.
        pass_rate: ``passed / graded`` (``None`` when nothing was graded).
        mean_points: its mean points (``None`` when nothing was graded).
        discrimination: see the module's docstring (``None``: empty).
        flag: why an instructor should look at it ("" when nothing stands out).
    """

    check: str
    function: str
    points: float
    graded: int
    passed: int
    pass_rate: float | None
    mean_points: float | None
    discrimination: float | None
    flag: str

    def csv_row(self) -> list[str]:
        """The row as ``checks.csv`` writes it: numbers to 4 places, empty for none."""

        def number(value: float | None) -> str:
            return "" if value is None else f"{round(value, 4):g}"

        return [
            self.check, self.function, number(self.points), str(self.graded), str(self.passed),
            number(self.pass_rate), number(self.mean_points), number(self.discrimination),
            self.flag,
        ]  # fmt: skip


def _known_checks(assignment: str) -> list[tuple[str, str, float]]:
    try:
        book = REGISTRY.assignment(assignment)
    except ValueError:  # not one of the kit's assignments: its results say what it has
        return []
    return [(check.name, check.function, check.points) for check in book.graded]


def check_names(evidence: AssignmentEvidence) -> list[tuple[str, str, float]]:
    """``(check, function, points)`` of every check: the registry's, then any others found.

    A check the registry does not list (results of an older version of the checks) is
    added in the order first seen, with the largest ``max_score`` any result gives it.
    """
    known = _known_checks(evidence.assignment)
    names = {name for name, _, _ in known}
    functions = list(REGISTRY.assignment(evidence.assignment).functions) if known else []
    extra: dict[str, float] = {}
    for submission in evidence.graded:
        for check in submission.results.checks:
            if check.name not in names:
                extra[check.name] = max(extra.get(check.name, 0.0), check.max_score)
    return known + [
        (name, function_of(name, functions) or "", points) for name, points in extra.items()
    ]


def _flag(graded: int, passed: int, discrimination: float | None) -> str:
    if graded == 0:
        return ""
    if passed == 0:
        return "nobody passed"
    if passed == graded:
        return "everybody passed"
    if discrimination is not None and discrimination < 0:
        return "negative discrimination: possibly flawed"
    if discrimination is not None and discrimination < LOW_DISCRIMINATION:
        return "low discrimination: possibly flawed"
    return ""


def check_rows(evidence: AssignmentEvidence) -> list[CheckRow]:
    """Every check's figures over the assignment's graded submissions.

    Args:
        evidence: the assignment, as :func:`~autograder.report.evidence.load_assignment` read it.

    Returns:
        One :class:`CheckRow` per check, in the checks' order.
    """
    graded = evidence.graded
    scores = [{c.name: c.score for c in s.results.checks} for s in graded]
    totals = [math.fsum(c.score for c in s.results.checks) for s in graded]
    rows = []
    for name, function, points in check_names(evidence):
        own = [(by_name[name], total) for by_name, total in zip(scores, totals, strict=True)
               if name in by_name]  # fmt: skip
        points_of = [x for x, _ in own]
        passed = sum(1 for s in graded for c in s.results.checks if c.name == name and c.passed)
        discrimination = pearson(points_of, [total - x for x, total in own])
        n = len(own)
        rows.append(
            CheckRow(
                check=name, function=function, points=points, graded=n, passed=passed,
                pass_rate=passed / n if n else None,
                mean_points=math.fsum(points_of) / n if n else None,
                discrimination=discrimination, flag=_flag(n, passed, discrimination),
            )
        )  # fmt: skip
    return rows


@dataclass(frozen=True)
class Summary:
    """An assignment's scores in brief."""

    graded: int
    max_score: float
    mean: float | None
    median: float | None
    lowest: float | None
    highest: float | None


def summary(evidence: AssignmentEvidence) -> Summary:
    """Mean, median and range of the graded submissions' scores (before late penalties)."""
    scores = [s.results.score for s in evidence.graded]
    most = max((s.results.max_score for s in evidence.graded), default=0.0)
    if not most:
        most = math.fsum(points for _, _, points in _known_checks(evidence.assignment))
    if not scores:
        return Summary(0, most, None, None, None, None)
    return Summary(
        len(scores), most, statistics.fmean(scores), statistics.median(scores),
        min(scores), max(scores),
    )  # fmt: skip


_HINT = re.compile(r"\bHint:\s*(?P<hint>.+)", re.IGNORECASE | re.DOTALL)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_ARRAY = re.compile(r"\[[^\[\]]*(?:\[[^\[\]]*\][^\[\]]*)*\]")


def mistake_of(message: str) -> str:
    """What a failure message says went wrong, so that alike failures group together.

    The hint where the message has one ("Hint: ..."), else the message with its
    numbers and arrays (which differ per student and per seed) written as ``…``.

    Example:
        >>> mistake_of("`relu(z)` returned 0.5 at z=-2. Hint: keep the negatives at 0.")
        'keep the negatives at 0.'
        >>> mistake_of("`f(x)` returned [1. 2.] at x=3; expected 4.25")
        '`f(x)` returned … at x=…; expected …'
    """
    found = _HINT.search(message)
    text = found.group("hint") if found else _NUMBER.sub("…", _ARRAY.sub("…", message))
    return " ".join(text.split())[:400]


@dataclass(frozen=True)
class Failure:
    """A mistake of the class on one check: how many students, and one of their messages."""

    mistake: str
    students: tuple[str, ...]
    example: str


def failures(evidence: AssignmentEvidence, *, top: int = TOP_FAILURES) -> dict[str, list[Failure]]:
    """The most frequent failures of each check, grouped by :func:`mistake_of`.

    Args:
        evidence: the assignment.
        top: how many groups to keep per check.

    Returns:
        By check name, the groups with the most students first (ties by their text);
        checks nobody failed are left out.
    """
    grouped: dict[str, dict[str, list[Submission]]] = {}
    examples: dict[tuple[str, str], str] = {}
    for submission in evidence.graded:
        for check in submission.results.checks:
            if check.passed:
                continue
            key = mistake_of(check.output) if check.output.strip() else "(no message)"
            grouped.setdefault(check.name, {}).setdefault(key, []).append(submission)
            examples.setdefault((check.name, key), check.output)
    out = {}
    for name, groups in grouped.items():
        ranked = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))[:top]
        out[name] = [
            Failure(key, tuple(s.student for s in subs), examples[(name, key)][:2000])
            for key, subs in ranked
        ]
    return out


def flag_counts(submission: Submission) -> Counter:
    """How many flags of each kind a submission's results carry."""
    from autograder.feedback import flags_of

    return Counter(flag["kind"] for flag in flags_of(submission.results or {}))
