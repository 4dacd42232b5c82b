"""The report's pictures, drawn with matplotlib and embedded as PNG data (no network).

Each function returns a ``data:image/png;base64,...`` URI for an ``<img>``, or
``None`` where there is nothing to draw (nobody graded). The bars and points share
one colour (:data:`COLOUR`); checks marked as possibly flawed are drawn in
:data:`FLAGGED`.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

from autograder.report.stats import LOW_DISCRIMINATION, CheckRow

COLOUR = "#2f6db5"
FLAGGED = "#c62828"
#: Inches per check in the pass-rate chart, and its limits.
ROW_INCHES, MIN_INCHES, MAX_INCHES = 0.32, 2.4, 14.0


def _figure(width: float, height: float):
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=96, layout="constrained")
    return figure, figure.subplots()


def _uri(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def score_histogram(scores: Sequence[float], max_score: float) -> str | None:
    """How many submissions got each score: a histogram from 0 to ``max_score``."""
    if not scores:
        return None
    figure, axes = _figure(6.4, 3.0)
    top = max(max_score, max(scores), 1.0)
    bins = min(20, max(5, int(top) + 1))
    axes.hist(scores, bins=bins, range=(0, top), color=COLOUR, edgecolor="white")
    axes.set_xlabel("score (points, before late penalties)")
    axes.set_ylabel("submissions")
    axes.set_xlim(0, top)
    return _uri(figure)


def _flagged(row: CheckRow) -> bool:
    return row.flag.startswith(("negative", "low"))


def pass_rates(rows: Sequence[CheckRow]) -> str | None:
    """The share of graded submissions that passed each check, one bar per check."""
    rows = [row for row in rows if row.pass_rate is not None]
    if not rows:
        return None
    height = min(MAX_INCHES, max(MIN_INCHES, ROW_INCHES * len(rows) + 1.0))
    figure, axes = _figure(7.2, height)
    labels = [row.check.removeprefix("test_") for row in rows]
    positions = range(len(rows))
    colours = [FLAGGED if _flagged(row) else COLOUR for row in rows]
    axes.barh(positions, [row.pass_rate for row in rows], color=colours)
    axes.set_yticks(list(positions), labels, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, 1)
    axes.set_xlabel("pass rate (red: possibly flawed)")
    return _uri(figure)


def difficulty_discrimination(rows: Sequence[CheckRow]) -> str | None:
    """Each check's pass rate against its discrimination, numbered as in the table."""
    points = [(i, row) for i, row in enumerate(rows, 1) if row.discrimination is not None]
    if not points:
        return None
    figure, axes = _figure(6.4, 3.6)
    axes.axhspan(-1, LOW_DISCRIMINATION, color="#fdecea", zorder=0)
    axes.axhline(0, color="#888888", linewidth=0.8)
    for i, row in points:
        colour = FLAGGED if _flagged(row) else COLOUR
        axes.scatter([row.pass_rate], [row.discrimination], color=colour, zorder=2)
        axes.annotate(str(i), (row.pass_rate, row.discrimination), fontsize=8,
                      xytext=(4, 3), textcoords="offset points")  # fmt: skip
    axes.set_xlim(-0.02, 1.02)
    axes.set_ylim(-1.05, 1.05)
    axes.set_xlabel("pass rate (difficulty: left is harder)")
    axes.set_ylabel("discrimination")
    return _uri(figure)


def grading_times(seconds: Sequence[float]) -> str | None:
    """How long each submission took to grade: a histogram of seconds."""
    seconds = [s for s in seconds if s > 0]
    if not seconds:
        return None
    figure, axes = _figure(6.4, 3.0)
    axes.hist(seconds, bins=min(30, max(5, len(seconds) // 3)), color=COLOUR, edgecolor="white")
    axes.set_xlabel("seconds to grade one submission")
    axes.set_ylabel("submissions")
    return _uri(figure)


def assignment_means(means: Sequence[tuple[str, float]]) -> str | None:
    """Each assignment's mean score as a share of its points, one bar per assignment."""
    if not means:
        return None
    height = min(MAX_INCHES, max(MIN_INCHES, ROW_INCHES * len(means) + 1.0))
    figure, axes = _figure(7.2, height)
    positions = range(len(means))
    axes.barh(positions, [share for _, share in means], color=COLOUR)
    axes.set_yticks(list(positions), [name for name, _ in means], fontsize=9)
    axes.invert_yaxis()
    axes.set_xlim(0, 1)
    axes.set_xlabel("mean score / points")
    return _uri(figure)
