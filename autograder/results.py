"""The results of grading one submission, and the one way they are written to disk.

The grader builds a :class:`Results` (its checks' outcomes, the notes, what the
grader saw of the submission in ``extra``); the batch, the gradebook, the feedback
pages and nbgrader's steps read one. On disk it is Gradescope's ``results.json``
(:meth:`Results.to_gradescope`); a document read back (:meth:`Results.from_gradescope`)
is checked for its shape, since a file in a course folder may have been edited by
hand. Every file the kit writes goes through :func:`write_atomic`: a temporary file
in the same folder, flushed and renamed, so a reader sees the old file or the new
one, never half of one.

Example:
    >>> results = Results([CheckResult("test_relu_values", 2.0, 2.0, "Passed.")],
    ...                   extra={"assignment": "activations"})
    >>> document = results.to_gradescope()
    >>> document["score"], document["tests"][0]["status"]
    (2.0, 'passed')
    >>> Results.from_gradescope(document).assignment
    'activations'
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class CheckResult:
    """The outcome of one hidden check."""

    name: str
    score: float
    max_score: float
    output: str

    @property
    def passed(self) -> bool:
        return self.score >= self.max_score

    def to_gradescope(self) -> dict[str, Any]:
        """The check as an entry of Gradescope's ``tests``."""
        return {
            "name": self.name,
            "score": self.score,
            "max_score": self.max_score,
            "status": "passed" if self.passed else "failed",
            "output": self.output,
            "visibility": "visible",
        }


@dataclass
class Results:
    """One submission's grade: every check's outcome, the grader's notes and records.

    Args:
        checks: one :class:`CheckResult` per hidden check, in the checks' order.
        notes: what the student should read first (a broken notebook, a time-out).
        execution_time: seconds the grading took.
        extra: the grader's records (Gradescope's ``extra_data``): ``assignment``,
            ``seed``, ``flags``, ``sandbox``, ``jail``, ``metrics``, and in a batch
            ``student`` and ``digest``.
    """

    checks: list[CheckResult]
    notes: list[str] = field(default_factory=list)
    execution_time: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def score(self) -> float:
        return round(sum(check.score for check in self.checks), 4)

    @property
    def max_score(self) -> float:
        return round(sum(check.max_score for check in self.checks), 4)

    @property
    def assignment(self) -> str | None:
        value = self.extra.get("assignment")
        return value if isinstance(value, str) else None

    def to_gradescope(self) -> dict[str, Any]:
        """Gradescope's ``results.json`` document."""
        document: dict[str, Any] = {
            "score": self.score,
            "max_score": self.max_score,
            "execution_time": round(self.execution_time, 3),
            "tests": [check.to_gradescope() for check in self.checks],
        }
        if self.notes:
            document["output"] = "\n".join(self.notes)
        document["extra_data"] = self.extra
        return document

    @classmethod
    def of(cls, value: Results | dict[str, Any]) -> Results:
        """``value`` itself, or the results a ``results.json`` document holds."""
        return value if isinstance(value, Results) else cls.from_gradescope(value)

    @classmethod
    def from_gradescope(cls, document: Any) -> Results:
        """The results a ``results.json`` document holds.

        Raises:
            ValueError: it is not one (no list of ``tests``, an entry that is not an
                object or has no name).
        """
        if not isinstance(document, dict) or not isinstance(document.get("tests"), list):
            raise ValueError("not a results.json document: it has no list of 'tests'")
        checks = []
        for test in document["tests"]:
            if not isinstance(test, dict):
                raise ValueError(
                    "not a results.json document: an entry of 'tests' is not an object"
                )
            checks.append(
                CheckResult(
                    str(test.get("name", "")),
                    _number(test.get("score")),
                    _number(test.get("max_score")),
                    str(test.get("output") or ""),
                )
            )
        notes = document.get("output")
        extra = document.get("extra_data")
        return cls(
            checks,
            notes=str(notes).splitlines() if notes else [],
            execution_time=_number(document.get("execution_time")),
            extra=extra if isinstance(extra, dict) else {},
        )

    def write(self, path: str | os.PathLike) -> None:
        """Write ``results.json`` to ``path``, atomically."""
        write_atomic(path, json.dumps(self.to_gradescope(), indent=2) + "\n")

    @classmethod
    def read(cls, path: str | os.PathLike) -> Results | None:
        """The results in ``path``; ``None`` when there is no file or it holds none."""
        try:
            return cls.from_gradescope(json.loads(Path(path).read_text()))
        except (OSError, ValueError):
            return None


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if number == number else 0.0  # NaN counts as nothing


def write_atomic(path: str | os.PathLike, data: str | bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` through a temporary file in its folder and a rename.

    The folder is made if needed; the file gets ``mode`` (readable by others: feedback
    pages and results are read by the course's other users).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
