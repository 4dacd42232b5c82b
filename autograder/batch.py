"""Grade a whole class: every submission of an nbgrader ``submitted/`` tree, in parallel.

Each submission is graded by its own ``autograder grade`` process (so a crash
or a memory bomb in one never touches another), ``--jobs`` at a time. Its
``results.json`` and executed notebook go to ``autograded/<student>/<assignment>/``
and its scores into nbgrader's gradebook. Results are written atomically and
stamped with a hash of what was graded (the notebook and every file the registry
says its grading needs: checks, their helpers, tasks and the grader's own code),
so a batch stopped by Ctrl-C or SIGKILL and started again grades only what is
missing or changed, and a regrade of the same files is a no-op that gives the
same gradebook.

Several batches may grade one course at once. A submission is graded under its
own lock (``flock`` on a file in ``.autograder-locks/`` of the course), held while
its grader runs, its ``results.json`` is written and its scores are recorded, so
``results.json`` and the gradebook always agree; a batch that finds a submission
locked waits, then reuses the result by its hash. Temporary files have unique
names, and a killed grader's leftovers are swept by the next one to hold the lock.

Student ids, and anything else from a submission or a results file, reach the
terminal as plain text: no rich markup, control characters shown as escapes.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

import autograder
from autograder import devices, registry
from autograder.feedback import flags_of
from autograder.gradebook import CourseGradebook
from autograder.results import Results, write_atomic
from autograder.sandbox import Limits, die_with_parent

#: Seconds the grader process of one submission may take beyond the notebook's limit.
GRADER_OVERHEAD_S = 120
#: The course's folder of per-submission lock files (each removed when released).
LOCKS_DIR = ".autograder-locks"
#: Seconds between two looks at a lock another batch holds.
LOCK_POLL_S = 0.2


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
        """Hash of everything that decides the grade.

        That is the notebook and every file :mod:`autograder.registry` lists for
        the assignment: its checks, the helpers they import, the tasks they run
        and the grader's own code, each with its name in the package. Another
        assignment's checks or tasks do not count.
        """
        book = registry.REGISTRY
        digest = hashlib.sha256()
        digest.update(f"{autograder.__version__}\0{self.assignment}\0".encode())
        notebook = self.notebook.read_bytes() if self.notebook else None
        digest.update(b"<none>" if notebook is None else b"%d\0%b" % (len(notebook), notebook))
        for path in book.assignment(self.assignment).files():
            data = path.read_bytes()
            digest.update(f"\0{book.relative_name(path)}\0{len(data)}\0".encode())
            digest.update(data)
        return digest.hexdigest()

    def lock_path(self, course: Path) -> Path:
        """The lock file of this submission (a hash of student and assignment: any id fits)."""
        key = hashlib.sha256(f"{self.student}\0{self.assignment}".encode(errors="surrogateescape"))
        return course / LOCKS_DIR / f"{key.hexdigest()[:32]}.lock"


@dataclass
class Outcome:
    """What became of one job."""

    job: Job
    status: str  # "graded", "unchanged" or "failed"
    results: Results = field(default_factory=lambda: Results([]))
    seconds: float = 0.0


def find_jobs(
    submitted: Path, *, assignment: str | None = None, student: str | None = None
) -> list[Job]:
    """The submissions under ``submitted/<student>/<assignment>/``, sorted.

    The notebook is ``<assignment>.ipynb`` if present, else the folder's only
    ``.ipynb``; a folder without one is still a job (it scores 0, saying why).
    """
    known = set(registry.assignment_ids())
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
        gpus: the GPUs the jobs are spread over (:class:`~autograder.devices.GpuPool`);
            ``None``: all the machine's (none: the CPU).
    """

    def __init__(
        self, course: Path, *, jobs: int, limits: Limits, gradebook: bool = True,
        gpus: devices.GpuPool | None = None,
    ):  # fmt: skip
        self.course = course
        self.jobs = max(1, jobs)
        self.limits = limits
        if gpus is None:  # every GPU of the machine, as `--device auto` takes them
            gpus = devices.batch_pool("auto", "all", self.jobs, limits.gpu_memory_bytes)
        self.gpus = gpus
        self.gradebook = CourseGradebook.of(course) if gradebook else None
        self._running: dict[int, subprocess.Popen] = {}
        self._lock = threading.Lock()
        self._record_lock = threading.Lock()
        self._stopping = threading.Event()

    # -- one submission ---------------------------------------------------
    def grade(self, job: Job) -> Outcome:
        """Grade one job, or reuse its results when nothing it depends on changed.

        Holds the submission's lock while it grades and writes ``results.json``;
        waits while another batch holds it (then, usually, reuses that result).
        """
        with self._submission_lock(job):
            return self._grade_locked(job)

    def _grade_and_record(self, job: Job) -> Outcome:
        """:meth:`grade`, and record the outcome in the gradebook under the same lock."""
        with self._submission_lock(job):
            outcome = self._grade_locked(job)
            self._record(outcome)
            return outcome

    @contextmanager
    def _submission_lock(self, job: Job) -> Iterator[None]:
        """Hold ``job``'s lock file: ``flock`` it, and remove it on release.

        A waiter that wakes up on a lock file someone just removed (or replaced)
        starts again on the file now at that path, so two holders never overlap.
        """
        path = job.lock_path(self.course)
        while True:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if self._stopping.is_set():
                            raise KeyboardInterrupt from None
                        time.sleep(LOCK_POLL_S)
                held = os.fstat(fd)
                try:
                    current = os.stat(path)
                except FileNotFoundError:
                    current = None
            except BaseException:
                os.close(fd)
                raise
            if current is not None and (current.st_dev, current.st_ino) == (
                held.st_dev,
                held.st_ino,
            ):
                break
            os.close(fd)
        try:
            yield
        finally:
            path.unlink(missing_ok=True)
            os.close(fd)

    def _grade_locked(self, job: Job) -> Outcome:
        started = time.monotonic()
        out_dir = job.out_dir(self.course)
        _sweep_temporaries(out_dir, job.assignment)
        results_path = out_dir / "results.json"
        digest = job.digest()
        previous = Results.read(results_path)
        if previous is not None and previous.extra.get("digest") == digest:
            return Outcome(job, "unchanged", previous, 0.0)
        if job.notebook is None:
            names = sorted(p.name for p in job.folder.glob("*.ipynb"))
            reason = f"No notebook named {job.assignment}.ipynb was submitted" + (
                f" (found: {', '.join(names)})." if names else "."
            )
            results = _zero_results(job.assignment, reason)
            results.extra["handed_in"] = False  # the report counts it as missing
            status = "graded"
        else:
            results, status = self._run_grader(job, out_dir, digest)
        results.extra.update({"student": job.student, "assignment": job.assignment})
        if status == "graded":
            results.extra["digest"] = digest
        timestamp = job.folder / "timestamp.txt"
        if timestamp.exists():
            _copy_atomic(timestamp, out_dir / "timestamp.txt")
        results.write(results_path)
        return Outcome(job, status, results, time.monotonic() - started)

    def _run_grader(self, job: Job, out_dir: Path, digest: str) -> tuple[dict, str]:
        out_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=out_dir, prefix=".results.", suffix=".partial.json")
        os.close(fd)
        partial = Path(name)
        try:
            return self._run_grader_into(job, out_dir, digest, partial)
        finally:
            partial.unlink(missing_ok=True)

    def _run_grader_into(
        self, job: Job, out_dir: Path, digest: str, partial: Path
    ) -> tuple[Results, str]:
        placement = self.gpus.take()
        try:
            return self._run_grader_on(job, out_dir, digest, partial, placement)
        finally:
            self.gpus.give_back(placement)

    def _run_grader_on(
        self, job: Job, out_dir: Path, digest: str, partial: Path, placement: devices.Placement
    ) -> tuple[Results, str]:
        limits = replace(
            self.limits,
            gpu=placement.gpu.index if placement.gpu else -1,
            gpu_memory_bytes=placement.memory_bytes,
        )
        argv = [
            sys.executable, "-m", "autograder", "grade", str(job.notebook),
            "--assignment", job.assignment,
            "--results", str(partial),
            "--executed", str(out_dir / f"{job.assignment}.ipynb"),
            "--seed", str(_seed(digest)),
            "--device", "gpu" if placement.gpu else "cpu",
            *limits.to_argv(),
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
        results = Results.read(partial)
        if code == 0 and results is not None:
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
            pending: set[Future] = {pool.submit(self._grade_and_record, job) for job in jobs}
            try:
                while pending:
                    finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                    for future in finished:
                        outcome = future.result()
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
        with self._record_lock:
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


def _sweep_temporaries(out_dir: Path, assignment: str) -> None:
    """Remove what a killed grader of this submission left in ``out_dir`` (lock held)."""
    if not out_dir.is_dir():
        return
    for path in out_dir.iterdir():
        name = path.name
        if (
            name.startswith((".results.", "..results.", ".timestamp.txt."))
            or (name.startswith(f".{assignment}.ipynb.") and name.endswith(".tmp"))
        ) and path.is_file():
            path.unlink(missing_ok=True)


def _copy_atomic(source: Path, target: Path) -> None:
    """Copy ``source`` (a small file) to ``target`` with :func:`write_atomic`."""
    write_atomic(target, source.read_bytes())


def _zero_results(assignment: str, reason: str) -> Results:
    """A results document for a submission whose checks could not run."""
    from autograder.grade import grade_unrunnable

    return grade_unrunnable(assignment, reason)


#: Unicode categories never sent to the terminal as they are: control and format
#: characters (escape sequences, bidirectional overrides), lone surrogates (bytes of
#: a file name that are not UTF-8), line and paragraph separators.
_UNPRINTABLE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def printable(value: object) -> str:
    r"""``value`` as text safe for a terminal: each control character as its escape.

    Example:
        >>> printable("ada\x1b[2J\n")
        'ada\\x1b[2J\\n'
    """
    return "".join(
        ascii(char)[1:-1] if unicodedata.category(char) in _UNPRINTABLE else char
        for char in str(value)
    )


def plain(value: object, style: str = "") -> Text:
    """``value`` for rich as plain text: never read as markup, control characters escaped."""
    return Text(printable(value), style=style)


def _score(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) else printable(value)


def _flag_kinds(results: Results) -> str:
    """``"channel ×2, limit"``: what was flagged, each kind once with its count."""
    counts: dict[str, int] = {}
    for flag in flags_of(results):
        counts[flag["kind"]] = counts.get(flag["kind"], 0) + 1
    return ", ".join(kind + (f" ×{n}" if n > 1 else "") for kind, n in counts.items())


def summary_table(outcomes: list[Outcome]) -> Table:
    """The end-of-batch table: one row per submission; flagged ones say what was flagged."""
    table = Table(title="Batch grading")
    for column in ("student", "assignment", "score / max", "time", "status", "flags"):
        table.add_column(column)
    for outcome in sorted(outcomes, key=lambda o: (o.job.assignment, o.job.student)):
        results = outcome.results
        style = {"failed": "red", "unchanged": "dim"}.get(outcome.status, "")
        flags = _flag_kinds(results)
        table.add_row(
            plain(outcome.job.student),
            plain(outcome.job.assignment),
            plain(f"{_score(results.score)} / {_score(results.max_score)}"),
            f"{outcome.seconds:.1f} s",
            plain(outcome.status, style=style),
            plain(f"⚑ {flags}", style="bold yellow") if flags else "",
        )
    return table


def runtimes(outcomes: list[Outcome]) -> list[tuple[str, int]]:
    """Where the outcomes were graded (:func:`~autograder.devices.describe_runtime`), with counts."""
    counts = Counter(
        devices.describe_runtime(outcome.results.extra["runtime"])
        for outcome in outcomes
        if isinstance(outcome.results.extra.get("runtime"), dict)
    )
    return sorted(counts.items())


def flagged(outcomes: list[Outcome]) -> list[Outcome]:
    """The outcomes whose results carry flags (``extra_data.flags``)."""
    return [outcome for outcome in outcomes if flags_of(outcome.results)]


def main(
    *,
    submitted: str,
    assignment: str | None,
    student: str | None,
    jobs: int | None,
    limits: Limits,
    gradebook: bool = True,
    device: str = "auto",
    gpus: str = "all",
) -> int:
    """``autograder grade submitted/``: grade every submission; 0 unless a grader failed.

    ``device`` is ``auto`` (the GPUs ``gpus`` names, where there are any), ``cpu`` or
    ``gpu``; the jobs are spread over the GPUs, several per GPU.
    """
    console = Console()
    jobs = jobs or os.cpu_count() or 1
    pool = devices.batch_pool(device, gpus, jobs, limits.gpu_memory_bytes)
    submitted_dir = Path(submitted).resolve()
    course = submitted_dir.parent
    found = find_jobs(submitted_dir, assignment=assignment, student=student)
    if not found:
        console.print(plain(f"No submissions found under {submitted_dir}/<student>/<assignment>/."))
        return 0
    batch = Batch(course, jobs=jobs, limits=limits, gradebook=gradebook, gpus=pool)
    where = (
        f" on GPU(s) {', '.join(str(g.index) for g in pool.gpus)} "
        f"(up to {pool.per_gpu} per GPU)" if pool.gpus else " on the CPU"
    )  # fmt: skip
    console.print(
        f"Grading {len(found)} submission(s) with {batch.jobs} job(s) in parallel{where}."
    )
    try:
        outcomes = batch.run(found, console)
    except KeyboardInterrupt:
        console.print("[yellow]Interrupted. What was graded is kept; run again to resume.")
        return 130
    console.print(summary_table(outcomes))
    for runtime, count in runtimes(outcomes):
        console.print(plain(f"Graded with {runtime}: {count} submission(s)."))
    failed = sum(o.status == "failed" for o in outcomes)
    marked = len(flagged(outcomes))
    if marked:
        console.print(
            f"[bold yellow]⚑ {marked} submission(s) flagged:[/] the grader saw something a "
            "person should look at (the flags column; the feedback pages say what)."
        )
    console.print(
        plain(
            f"Results and executed notebooks: {course / 'autograded'}"
            + (f"; gradebook: {batch.gradebook.db_url}" if batch.gradebook else "")
        )
    )
    if failed:
        console.print(f"[red]{failed} submission(s) could not be graded; run again to retry.")
    return 1 if failed else 0
