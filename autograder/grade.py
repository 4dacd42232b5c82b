"""Grade one notebook: read it, run it in the sandbox, run the hidden checks, score."""

from __future__ import annotations

import resource
import secrets
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from autograder import devices, sandbox
from autograder.notebook import NotebookError, read_notebook, write_executed
from autograder.registry import assignment_ids
from autograder.results import Results
from autograder.sandboxed import SandboxedSubmission
from autograder.scoring import run_checks
from autograder.submission import Submission, Unavailable


class _BrokenSubmission(Submission):
    """A submission that could not be run at all: every call fails with the reason."""

    def __init__(self, reason: str, seed: int) -> None:
        super().__init__(seed)
        self.reason = reason

    def _call(self, function, args, kwargs, return_args):
        raise Unavailable(self.reason)

    def notes(self) -> list[str]:
        return [self.reason]


def grade_unrunnable(assignment: str, reason: str, seed: int = 0) -> Results:
    """The results of a submission that cannot run: every check fails with ``reason``.

    Example:
        >>> results = grade_unrunnable("activations", "No notebook was submitted.")
        >>> results.score, results.max_score > 0, results.notes
        (0, True, ['No notebook was submitted.'])
    """
    submission = _BrokenSubmission(reason, seed)
    checks = run_checks(assignment, submission)
    extra = {"assignment": assignment, "seed": seed, "flags": []}
    return Results(checks, notes=submission.notes(), extra=extra)


def limit_own_memory(limit: int) -> None:
    """Bound the grader's own process (its soft data limit), whatever a child sends it."""
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (int(limit), hard))


def infer_assignment(path: Path, metadata_assignment: str | None) -> str:
    """The assignment id: from the file's name or folder, else from the notebook's metadata.

    The name decides, because a notebook's metadata is the student's to edit:
    ``cnn.ipynb`` holding another assignment's notebook is graded as ``cnn``.

    Raises:
        ValueError: none names an assignment that has checks.

    Example:
        >>> infer_assignment(Path("cnn.ipynb"), "activations")
        'cnn'
    """
    known = list(assignment_ids())
    for candidate in (path.stem, path.parent.name, metadata_assignment):
        if candidate in known:
            return candidate
    raise ValueError(
        f"cannot tell which assignment {str(path)!r} is; pass --assignment, one of {known}"
    )


def _runtime(submission: SandboxedSubmission) -> dict:
    """Where the submission was graded: the grader's placement, and the judge's own word."""
    jail = submission.jail
    try:
        runtime = devices.runtime_record(jail.placement)
    except RuntimeError:  # no Keras backend installed (a numpy-only grader)
        runtime = {"backend": "none", "keras_version": devices.version_of("keras"),
                   **jail.placement.record()}  # fmt: skip
    judged = submission.judge_runtime()
    if judged is not None:
        runtime["judge"] = judged
    return runtime


def grade_notebook(
    notebook: str | Path,
    *,
    assignment: str | None = None,
    limits: sandbox.Limits | None = None,
    seed: int | None = None,
    executed: str | Path | None = None,
) -> Results:
    """Grade ``notebook`` and return its results.

    Args:
        notebook: path of the submitted ``.ipynb``.
        assignment: its assignment id; inferred from metadata or file name when ``None``.
        limits: the child's resource limits.
        seed: seed for the checks' inputs; a fresh one is drawn when ``None``.
        executed: where to write a copy of the notebook with the outputs of its run.

    Returns:
        The results; a broken notebook scores 0 with the reason in the notes.

    Raises:
        ValueError: the assignment is unknown or cannot be inferred.

    Example:
        >>> results = grade_notebook("solutions/activations/activations.ipynb")
        >>> results.score == results.max_score
        True
    """
    started = time.monotonic()
    path = Path(notebook)
    seed = secrets.randbits(32) if seed is None else int(seed)
    try:
        parsed = read_notebook(path)
    except NotebookError as error:
        parsed = None
        reason = str(error)
    if assignment is None:
        assignment = infer_assignment(path, parsed.assignment if parsed else None)
    elif assignment not in assignment_ids():
        raise ValueError(
            f"unknown assignment {assignment!r}; expected one of {list(assignment_ids())}"
        )
    extra: dict[str, Any] = {"assignment": assignment, "seed": seed}
    flags: list[dict[str, str]] = []
    claimed = parsed.assignment if parsed else None
    mismatch = None
    if claimed is not None and claimed != assignment:
        mismatch = (
            f"This notebook's metadata says it is the assignment `{claimed[:60]}`, but it was "
            f"graded as `{assignment}` (its file name or the grader's --assignment)."
        )
        flags.append({"kind": "metadata", "detail": mismatch})
    if parsed is None:
        submission: Submission = _BrokenSubmission(reason, seed)
        results = run_checks(assignment, submission)
        notes = submission.notes()
    else:
        with SandboxedSubmission(
            parsed.cells, limits, seed, keep_outputs=executed is not None
        ) as submission:
            submission.run()
            if executed is not None:
                write_executed(
                    path, executed, submission.outputs, submission.cell_errors, submission.skipped
                )
            notebook_seconds = time.monotonic() - started
            results = run_checks(assignment, submission)
            notes = submission.notes()
            extra["sandbox"] = "bubblewrap" if submission.sandboxed else "none"
            extra["jail"] = submission.jail.report()
            extra["notebook_seconds"] = round(notebook_seconds, 3)
            flags.extend(submission.flags)
            if submission.metrics:
                extra["metrics"] = submission.metrics
            extra["runtime"] = _runtime(submission)
    extra["flags"] = flags
    if mismatch:
        notes = [mismatch, *notes]
    return Results(results, notes=notes, execution_time=time.monotonic() - started, extra=extra)


def main(
    *,
    notebook: str,
    assignment: str | None,
    results: str,
    seed: int | None,
    limits: sandbox.Limits,
    executed: str | None = None,
    device: str = "auto",
) -> int:
    """``autograder grade NOTEBOOK``: grade and write ``results``; 0 when grading worked.

    ``device``: ``cpu``; ``gpu`` (fails without one); ``auto``, a GPU where there is one.
    A GPU named in ``limits`` (the batch's choice) is kept unless ``device`` is ``cpu``.
    """
    limits = placed(limits, device)
    limit_own_memory(limits.grader_memory_bytes)
    graded = grade_notebook(
        notebook, assignment=assignment, limits=limits, seed=seed, executed=executed
    )
    graded.write(results)
    print(f"{graded.assignment}: {graded.score:g} / {graded.max_score:g} -> {results}")
    return 0


def placed(limits: sandbox.Limits, device: str) -> sandbox.Limits:
    """``limits`` with the GPU a lone grader uses for ``device`` (see :func:`main`).

    Raises:
        ValueError: ``device`` is ``gpu`` and there is no GPU, or it is unknown.
    """
    if device == "cpu":
        return replace(limits, gpu=-1, gpu_memory_bytes=0)
    if limits.gpu >= 0:
        devices.Placement.of(limits.gpu, limits.gpu_memory_bytes)  # it must exist
        return limits
    index = devices.choose(device)
    if index < 0:
        return limits
    gpu = devices.Placement.of(index, 0).gpu
    return replace(
        limits, gpu=index, gpu_memory_bytes=limits.gpu_memory_bytes or devices.memory_share(gpu, 1)
    )


def unrunnable_main(*, assignment: str, reason: str, results: str) -> int:
    """``autograder unrunnable``: write the results of a submission that cannot be graded.

    Every check of ``assignment`` fails with ``reason`` (the Gradescope script uses it
    when no notebook can be graded).
    """
    grade_unrunnable(assignment, reason).write(results)
    return 0
