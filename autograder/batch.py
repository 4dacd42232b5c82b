"""Grade a whole class: every submission of an nbgrader ``submitted/`` tree, in parallel.

Each submission is graded by its own ``autograder grade`` process (so a crash
or a memory bomb in one never touches another), ``--jobs`` at a time. Its
``results.json`` and executed notebook go to ``autograded/<student>/<assignment>/``
and its scores into nbgrader's gradebook. Results are written atomically and
stamped with a hash of what was graded (the notebook, the checks, the grader),
so a batch stopped by Ctrl-C or SIGKILL and started again grades only what is
missing or changed, and a regrade of the same files is a no-op that gives the
same gradebook.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

import autograder
from autograder.gradebook import CourseGradebook
from autograder.sandbox import Limits, die_with_parent
from autograder.scoring import CHECKS_DIR, available_assignments, write_json_atomic

#: Seconds the grader process of one submission may take beyond the notebook's limit.
GRADER_OVERHEAD_S = 120


@dataclass(frozen=True)
class Job:
    """One submission: ``submitted/<student>/<assignment>/`` and its notebook."""

    student: str
    assignment: str
    folder: Path
    notebook: Path | None

    def out_dir(self, course: Path) -> Path:
        return course / "autograded" / self.student / self.assignment

    def digest(self) -> str:
        """Hash of everything that decides the grade: notebook, checks and grader."""
        digest = hashlib.sha256()
        digest.update(f"{autograder.__version__}\0{self.assignment}\0".encode())
        digest.update(self.notebook.read_bytes() if self.notebook else b"<none>")
        for name in (f"{self.assignment}.py", "common.py"):
            digest.update((CHECKS_DIR / name).read_bytes())
        return digest.hexdigest()


@dataclass
class Outcome:
    """What became of one job."""

    job: Job
    status: str  # "graded", "unchanged" or "failed"
    results: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def find_jobs(
    submitted: Path, *, assignment: str | None = None, student: str | None = None
) -> list[Job]:
    """The submissions under ``submitted/<student>/<assignment>/``, sorted.

    The notebook is ``<assignment>.ipynb`` if present, else the folder's only
    ``.ipynb``; a folder without one is still a job (it scores 0, saying why).
    """
    known = set(available_assignments())
    jobs = []
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir()):
        if student and student_dir.name != student:
            continue
        for folder in sorted(p for p in student_dir.iterdir() if p.is_dir()):
            if folder.name not in known or (assignment and folder.name != assignment):
                continue
            preferred = folder / f"{folder.name}.ipynb"
            notebooks = sorted(folder.glob("*.ipynb"))
            notebook = (
                preferred if preferred.exists() else (notebooks[0] if len(notebooks) == 1 else None)
            )
            jobs.append(Job(student_dir.name, folder.name, folder, notebook))
    return jobs


def _seed(digest: str) -> int:
    """The checks' seed for a submission: fixed by its content, so regrades agree."""
    return int(digest[:8], 16)


class Batch:
    """Grades jobs in parallel, records them, and can be interrupted and resumed.

    Args:
        course: the nbgrader course directory (holds ``autograded/`` and the gradebook).
        jobs: how many submissions to grade at once.
        limits: each notebook's resource limits.
        gradebook: whether to write scores into nbgrader's gradebook.
    """

    def __init__(self, course: Path, *, jobs: int, limits: Limits, gradebook: bool = True):
        self.course = course
        self.jobs = max(1, jobs)
        self.limits = limits
        self.gradebook = CourseGradebook.of(course) if gradebook else None
        self._running: dict[int, subprocess.Popen] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    # -- one submission ---------------------------------------------------
    def grade(self, job: Job) -> Outcome:
        """Grade one job, or reuse its results when nothing it depends on changed."""
        started = time.monotonic()
        out_dir = job.out_dir(self.course)
        results_path = out_dir / "results.json"
        digest = job.digest()
        previous = _read_json(results_path)
        if previous and previous.get("extra_data", {}).get("digest") == digest:
            return Outcome(job, "unchanged", previous, 0.0)
        if job.notebook is None:
            names = sorted(p.name for p in job.folder.glob("*.ipynb"))
            reason = f"No notebook named {job.assignment}.ipynb was submitted" + (
                f" (found: {', '.join(names)})." if names else "."
            )
            results = _zero_results(job.assignment, reason)
            status = "graded"
        else:
            results, status = self._run_grader(job, out_dir, digest)
        results.setdefault("extra_data", {}).update(
            {"student": job.student, "assignment": job.assignment}
        )
        if status == "graded":
            results["extra_data"]["digest"] = digest
        timestamp = job.folder / "timestamp.txt"
        if timestamp.exists():
            out_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(timestamp, out_dir / "timestamp.txt")
        write_json_atomic(results_path, results)
        return Outcome(job, status, results, time.monotonic() - started)

    def _run_grader(self, job: Job, out_dir: Path, digest: str) -> tuple[dict, str]:
        out_dir.mkdir(parents=True, exist_ok=True)
        partial = out_dir / ".results.partial.json"
        argv = [
            sys.executable, "-m", "autograder", "grade", str(job.notebook),
            "--assignment", job.assignment,
            "--results", str(partial),
            "--executed", str(out_dir / f"{job.assignment}.ipynb"),
            "--seed", str(_seed(digest)),
            *self.limits.to_argv(),
        ]  # fmt: skip
        if self._stopping.is_set():
            raise KeyboardInterrupt
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        with self._lock:
            self._running[process.pid] = process
        try:
            _, stderr = process.communicate(timeout=self.limits.grading_timeout + GRADER_OVERHEAD_S)
            code = process.returncode
        except subprocess.TimeoutExpired:
            _kill(process)
            stderr, code = b"the grader timed out", -9
        finally:
            with self._lock:
                self._running.pop(process.pid, None)
        results = _read_json(partial)
        partial.unlink(missing_ok=True)
        if code == 0 and results:
            return results, "graded"
        if self._stopping.is_set():
            raise KeyboardInterrupt
        detail = (stderr or b"").decode(errors="replace").strip().splitlines()[-1:] or [""]
        return _zero_results(
            job.assignment,
            "The grader failed on this submission; it will be regraded on the next run. "
            f"(exit status {code}: {detail[0][:300]})",
        ), "failed"

    def stop(self) -> None:
        """Stop grading: kill every running grader (their submissions stay ungraded)."""
        self._stopping.set()
        with self._lock:
            running = list(self._running.values())
        for process in running:
            _kill(process)

    # -- the whole batch ---------------------------------------------------
    def run(self, jobs: list[Job], console: Console | None = None) -> list[Outcome]:
        """Grade ``jobs`` with a live progress bar; record each in the gradebook as it ends.

        Raises:
            KeyboardInterrupt: on Ctrl-C, after killing the running graders; what was
                graded so far is kept, and a new run resumes from there.
        """
        console = console or Console()
        outcomes: list[Outcome] = []
        if self.gradebook is not None:
            for assignment in sorted({job.assignment for job in jobs}):
                self.gradebook.ensure_assignment(assignment)
        progress = Progress(
            TextColumn("[bold]grading"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TextColumn("done {task.fields[done]} · failed {task.fields[failed]} · "
                       "remaining {task.fields[remaining]}"),
            _RateColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )  # fmt: skip
        counts = {"done": 0, "failed": 0, "remaining": len(jobs)}
        with progress, ThreadPoolExecutor(self.jobs) as pool:
            task = progress.add_task("grading", total=len(jobs), **counts)
            pending: set[Future] = {pool.submit(self.grade, job) for job in jobs}
            try:
                while pending:
                    finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                    for future in finished:
                        outcome = future.result()
                        self._record(outcome)
                        outcomes.append(outcome)
                        counts["remaining"] -= 1
                        counts["failed" if outcome.status == "failed" else "done"] += 1
                        progress.update(task, advance=1, **counts)
            except KeyboardInterrupt:
                self.stop()
                for future in pending:
                    future.cancel()
                raise
        return outcomes

    def _record(self, outcome: Outcome) -> None:
        if self.gradebook is None or outcome.status == "failed":
            return
        job = outcome.job
        self.gradebook.record(
            student=job.student,
            assignment=job.assignment,
            results=outcome.results,
            timestamp=self.gradebook.timestamp(job.folder),
        )


class _RateColumn(ProgressColumn):
    """Submissions graded per minute."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed * 60:.1f}/min" if speed else "-/min", style="cyan")


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, 9)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _zero_results(assignment: str, reason: str) -> dict[str, Any]:
    """A results document for a submission whose checks could not run."""
    from autograder.grade import grade_unrunnable

    return grade_unrunnable(assignment, reason)


def summary_table(outcomes: list[Outcome]) -> Table:
    """The end-of-batch table: one row per submission."""
    table = Table(title="Batch grading")
    for column in ("student", "assignment", "score / max", "time", "status"):
        table.add_column(column)
    for outcome in sorted(outcomes, key=lambda o: (o.job.assignment, o.job.student)):
        results = outcome.results
        style = {"failed": "red", "unchanged": "dim"}.get(outcome.status, "")
        table.add_row(
            outcome.job.student,
            outcome.job.assignment,
            f"{results.get('score', 0):g} / {results.get('max_score', 0):g}",
            f"{outcome.seconds:.1f} s",
            Text(outcome.status, style=style),
        )
    return table


def main(
    *,
    submitted: str,
    assignment: str | None,
    student: str | None,
    jobs: int | None,
    limits: Limits,
    gradebook: bool = True,
) -> int:
    """``autograder grade submitted/``: grade every submission; 0 unless a grader failed."""
    console = Console()
    submitted_dir = Path(submitted).resolve()
    course = submitted_dir.parent
    found = find_jobs(submitted_dir, assignment=assignment, student=student)
    if not found:
        console.print(f"No submissions found under {submitted_dir}/<student>/<assignment>/.")
        return 0
    batch = Batch(course, jobs=jobs or os.cpu_count() or 1, limits=limits, gradebook=gradebook)
    console.print(f"Grading {len(found)} submission(s) with {batch.jobs} job(s) in parallel.")
    try:
        outcomes = batch.run(found, console)
    except KeyboardInterrupt:
        console.print("[yellow]Interrupted. What was graded is kept; run again to resume.")
        return 130
    console.print(summary_table(outcomes))
    failed = sum(o.status == "failed" for o in outcomes)
    console.print(
        f"Results and executed notebooks: {course / 'autograded'}"
        + (f"; gradebook: {batch.gradebook.db_url}" if batch.gradebook else "")
    )
    if failed:
        console.print(f"[red]{failed} submission(s) could not be graded; run again to retry.")
    return 1 if failed else 0
