"""A submission whose functions live in a sandboxed child process on this machine.

The notebook's cells run once in the child; the checks then call its functions
through the data-only channel. A cell that kills the child, or outlasts its
time limit, is skipped on a fresh child, so the rest of the notebook is still
graded; a call that crashes or hangs costs only that check.
"""

from __future__ import annotations

import time
from pathlib import Path

from autograder import channel, devices, sandbox
from autograder.judging import JudgeProcess
from autograder.notebook import Cell, defining_cell, name_cells
from autograder.submission import (
    BadReturn,
    CallTimeout,
    Submission,
    SubmissionError,
    Unavailable,
    student_error,
)

#: Extra seconds the grader waits beyond a limit the child enforces on itself.
GRACE = 5.0
#: Fresh children started for one submission after the first one died.
MAX_RESTARTS = 3
#: Printed characters above which a cell's output is reported as a flood.
FLOOD_CHARS = 1_000_000
#: What the grader keeps of one cell's outputs for the executed notebook, whatever
#: the child sends: printed characters, figures, bytes per figure (the protocol's),
#: and error characters.
KEEP_STDOUT_CHARS = channel.KEEP_STDOUT_CHARS
KEEP_FIGURES = channel.KEEP_FIGURES
KEEP_FIGURE_BYTES = channel.KEEP_FIGURE_BYTES
KEEP_ERROR_CHARS = 400
#: Flags kept per submission (see :meth:`SandboxedSubmission.flag`).
MAX_FLAGS = 50


class SandboxedSubmission(Submission):
    """Runs a notebook's cells in a sandboxed child and calls its functions.

    Args:
        cells: the code cells to run, in order.
        limits: time, memory and output limits.
        seed: this run's seed (see :class:`~autograder.submission.Submission`).

    Example:
        >>> with SandboxedSubmission([Cell(1, "def f(x):\\n    return x + 1")]) as sub:
        ...     sub.call("f", 1)
        2
    """

    def __init__(
        self,
        cells: list[Cell],
        limits: sandbox.Limits | None = None,
        seed: int = 0,
        keep_outputs: bool = False,
    ):
        super().__init__(seed)
        self.keep_outputs = keep_outputs
        #: With ``keep_outputs``: per cell index, ``{"stdout": str, "figures": [png bytes]}``.
        self.outputs: dict[int, dict] = {}
        self.cells = cells
        self.limits = limits or sandbox.Limits()
        self.skipped: dict[int, str] = {}
        self.cell_errors: dict[int, str] = {}
        self.floods: dict[int, int] = {}
        self.restarts = 0
        self.unavailable: str | None = None
        self.started_at = time.monotonic()
        #: What the grader saw of tampering: ``{"kind": ..., "detail": ...}`` each.
        self.flags: list[dict[str, str]] = []
        #: Background processes the notebook left, stopped before the checks.
        self.strays = 0
        self._checks_started: float | None = None
        self._process = None
        self._to_child = self._from_child = -1
        self._jail = sandbox.Jail(self.limits)
        self.sandboxed = self._jail.mode != "none"
        self._log = None
        #: Whether the child's report of arguments after the canary call was true
        #: (``None``: not asked yet), see :meth:`_reports_are_true`.
        self._reports_true: bool | None = None
        #: Where exported Keras models are judged: a sandbox that never runs the
        #: submission's code, started on the first model a check judges.
        self.judge_process: JudgeProcess | None = None

    @property
    def jail(self) -> sandbox.Jail:
        """The sandbox this submission runs in (its mode, limits and what it used)."""
        return self._jail

    def flag(self, kind: str, detail: str) -> None:
        """Record something the instructor should look at (never changes a score)."""
        entry = {"kind": kind, "detail": detail[:300]}
        if entry not in self.flags and len(self.flags) < MAX_FLAGS:
            self.flags.append(entry)

    def _observed(self, message: dict) -> None:
        """Turn the child's ``observed`` list (tampering it saw) into flags."""
        observed = message.get("observed")
        if not isinstance(observed, list):
            return
        for item in observed[:MAX_FLAGS]:
            if isinstance(item, str):
                kind, _, detail = item.partition(": ")
                self.flag(kind if kind in ("sysctl", "patched") else "patched", detail or item)

    def _limit_reason(self) -> str | None:
        """Why the jail stopped the child, as "it used more than ...", or ``None``."""
        hit = self._jail.limit_reason()
        if hit is None:
            return None
        self.flag("limit", hit)
        return f"it {hit}"

    # -- life cycle -------------------------------------------------------
    def __enter__(self) -> SandboxedSubmission:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop the child and remove everything its sandbox made."""
        self._kill()
        self._jail.close()
        if self.judge_process is not None:
            self.judge_process.close()

    def _kill(self) -> None:
        if self._process is not None:
            self._jail.stop()
            self._process = None
        sandbox.release_channel((self._to_child, self._from_child), self._log)
        self._to_child = self._from_child = -1
        self._log = None

    def _notebook_deadline(self) -> float:
        return min(
            self.started_at + self.limits.notebook_timeout,
            self.started_at + self.limits.grading_timeout,
        )

    def _log_path(self) -> Path:
        return self._jail.dir / f"child{self.restarts}.log"

    def _spawn(self) -> None:
        self._log = open(self._log_path(), "wb")  # noqa: SIM115
        self._process, self._to_child, self._from_child = self._jail.start(self._log)

    def run(self) -> None:
        """Run the notebook's cells in a fresh child, skipping cells that killed one before."""
        while True:
            self._kill()
            if time.monotonic() >= self._notebook_deadline():
                self.unavailable = (
                    f"Your notebook did not finish within {self.limits.notebook_timeout:g} s, "
                    "so none of its functions could be checked."
                )
                return
            self._spawn()
            cells = [[c.index, c.source] for c in self.cells if c.index not in self.skipped]
            failed_cell = self._run_cells(cells)
            if failed_cell is None:
                if self._process is not None:
                    self.strays += self._jail.kill_strays()
                return
            index, why = failed_cell
            self.skipped[index] = why
            self.restarts += 1
            if self.restarts > MAX_RESTARTS:
                self._kill()
                self.unavailable = (
                    "Your notebook stopped the grader's process too many times "
                    f"(last at {self._cell_label(index)}: {why}), so it could not be checked."
                )
                return

    def _run_cells(self, cells: list) -> tuple[int, str] | None:
        """Run ``cells``; return ``(index, why)`` of a cell that killed or hung the child.

        The child must report each cell once, in the order sent: ``cell_start``
        then ``cell_end`` of the same cell. Anything else is a forged event: it
        costs the cell being run and is flagged.
        """
        current, started, last_started = None, 0.0, None
        expected = [index for index, _ in cells]
        self.cell_errors, self.floods, self.outputs = {}, {}, {}
        request = {
            "op": channel.Op.RUN,
            "cells": cells,
            "cell_timeout": self.limits.cell_timeout,
            "keep_outputs": self.keep_outputs,
        }
        try:
            channel.pack(request)
        except channel.ChannelError as error:
            return self._broken(f"its code is too large for the grader ({error})")
        try:
            channel.write_message(self._to_child, request, deadline=time.monotonic() + 30)
            while True:
                deadline = self._notebook_deadline()
                if current is not None:
                    deadline = min(deadline, started + self.limits.cell_timeout + GRACE)
                event = channel.read_message(self._from_child, deadline=deadline)
                self._observed(event)
                kind, index = event.get("event"), event.get("index")
                if kind == channel.Event.CELL_START and current is None:
                    if not expected or index != expected[0] or isinstance(index, bool):
                        raise _Forged(f"a cell_start for cell {index!r} out of order")
                    current, started = expected.pop(0), time.monotonic()
                    last_started = current
                elif kind == channel.Event.CELL_END and current is not None:
                    if index != current or isinstance(index, bool):
                        raise _Forged(f"a cell_end for cell {index!r} during cell {current}")
                    if not event.get("ok"):
                        self.cell_errors[current] = str(event.get("error", ""))[:KEEP_ERROR_CHARS]
                    chars = event.get("output_chars", 0)
                    if isinstance(chars, int) and chars > FLOOD_CHARS:
                        self.floods[current] = chars
                    if self.keep_outputs:
                        self.outputs[current] = _cell_outputs(event)
                    current = None
                elif kind == channel.Event.RUN_DONE and current is None and not expected:
                    return None
                else:
                    raise _Forged(f"an unexpected {str(kind)[:40]!r} event")
        except TimeoutError:
            if current is None:
                self._kill()
                return None  # the notebook's deadline; run() reports it
            return current, f"it did not finish within {self.limits.cell_timeout:g} s"
        except (EOFError, BrokenPipeError, OSError):
            limit = self._limit_reason()
            if current is None:
                return self._broken(
                    limit or "the process running your notebook exited between cells"
                )
            return current, limit or (
                "the process running it exited (sys.exit, os._exit, a crash or a kill)"
            )
        except _Forged as error:
            # A forged event may impersonate the cells after the one that sent it: blame
            # the last cell that started (the sender or a cell after it; a rerun without
            # it tells) and keep none of this run's outputs.
            self.flag("forged_event", f"the notebook's process sent {error}")
            blamed = current if current is not None else last_started
            if blamed is None:
                return self._broken(f"the process running your notebook sent {error}")
            return blamed, f"it sent the grader {error}"
        except channel.ChannelError as error:
            self.flag("channel", f"a malformed message while running cells: {error}")
            if current is None:
                return self._broken(
                    f"the process running your notebook garbled its channel ({error})"
                )
            return current, f"it garbled the grader's channel ({error})"

    def _broken(self, why: str) -> None:
        """The child failed outside any cell: no point in restarting it."""
        self._kill()
        try:
            log = self._log_path().read_bytes()[-2000:].decode(errors="replace")
        except OSError:
            log = ""
        self.unavailable = f"The grader could not run your notebook: {why}."
        if log.strip():
            self.unavailable += f" Its last words: {log.strip()[-500:]}"
        return None

    # -- calls ------------------------------------------------------------
    def _call(self, function: str, args: tuple, kwargs: dict, return_args: bool):
        reply = self._request(channel.Op.CALL, function, args, kwargs, return_args, None)
        if not return_args:
            return reply.get("result"), (), {}
        args_after = reply.get("args")
        kwargs_after = reply.get("kwargs")
        if not isinstance(args_after, list) or not isinstance(kwargs_after, dict):
            raise BadReturn(function, "the arguments could not be read back")
        return reply.get("result"), tuple(args_after), kwargs_after

    def _task(self, name: str, args: tuple, kwargs: dict, timeout: float | None):
        return self._request(channel.Op.TASK, name, args, kwargs, False, timeout).get("result")

    def _request(self, op, function, args, kwargs, return_args, timeout) -> dict:
        """Send one call or task to the child (restarting it if it died) and await the reply."""
        if self._process is None and self.unavailable is None:
            if self.restarts >= MAX_RESTARTS:
                self.unavailable = "Your functions crashed the grader's process too many times."
            else:
                self.restarts += 1
                self.run()
        if self.unavailable is not None:
            raise Unavailable(self.unavailable)
        wanted, timeout = self._time_for(timeout)
        request = {
            "op": op,
            "function": function,
            "args": list(args),
            "kwargs": dict(kwargs),
            "return_args": return_args,
            "timeout": timeout,
        }
        try:
            channel.write_message(self._to_child, request, deadline=time.monotonic() + GRACE)
            reply = channel.read_message(
                self._from_child, deadline=time.monotonic() + timeout + GRACE
            )
        except TimeoutError:
            self._kill()
            if timeout < wanted:
                self._out_of_check_time()
            raise CallTimeout(function, timeout) from None
        except (EOFError, OSError):
            limit = self._limit_reason()
            self._kill()
            raise Unavailable(
                f"Calling `{function}` stopped the process running your notebook: "
                + (limit or "sys.exit, os._exit, a crash, a kill or too much memory")
                + "."
            ) from None
        except channel.ChannelError as error:
            self._kill()
            self.flag("channel", f"a malformed reply to a call of `{function}`: {error}")
            raise BadReturn(function, str(error)) from None
        self._observed(reply)
        if reply.get("error") == channel.Error.TIMEOUT and timeout < wanted:
            self._out_of_check_time()
        if not isinstance(reply, dict) or reply.get("ok") is not True:
            raise student_error(
                function,
                reply if isinstance(reply, dict) else {},
                place=self._place,
                defined=self._defined,
            )
        return reply

    def _place(self, text: str) -> str:
        """The child's "cell 10" in ``text`` named as the student finds the cell."""
        return name_cells(text, self.cells)

    def _defined(self, name: str) -> str:
        """What the notebook says of a name that was not defined at a call: which cell
        defines it and what became of that cell (skipped, raised, ran), or that none does."""
        cell = defining_cell(name, self.cells)
        if cell is None:
            return (
                f"No cell of your notebook defines `{name}`: put back the helper or the import "
                "it comes from (or its old name), and run every cell from the top."
            )
        label = cell.label(start=False)
        if cell.index in self.skipped:
            fate = f"was skipped: {self.skipped[cell.index]}"
        elif cell.index in self.cell_errors:
            fate = f"raised {self._place(self.cell_errors[cell.index])}"
        else:
            fate = (
                f"ran without an error: is `{name}` defined only inside a function or an `if`, "
                "or deleted by a later cell?"
            )
        return f"`{name}` is defined in {label}, which {fate.rstrip('.')}."

    def _reports_are_true(self) -> bool:
        """Ask once: does the child report a modified argument as modified?

        The grader calls the child's canary (which adds 1 to its argument in place)
        with an array it draws and compares the child's report with the array plus 1.
        A false report is flagged, and the "does not modify its input" checks then
        fail: what they rest on is the child's word.
        """
        if self._reports_true is None:
            import numpy as np

            x = np.random.default_rng(self.seed).normal(size=(3, 4))
            try:
                _, after, _ = self._call(channel.CANARY, (x.copy(),), {}, return_args=True)
                true = len(after) == 1 and np.array_equal(np.asarray(after[0]), x + 1)
            except (Unavailable, CallTimeout):
                raise
            except Exception:  # a malformed or failed reply: no report to believe
                true = False
            self._reports_true = bool(true)
            if not true:
                self.flag(
                    "forged_report",
                    "the notebook's process misreported the arguments of the grader's canary "
                    "call (it adds 1 in place); its other reports of arguments are not believed",
                )
        return self._reports_true

    def _judge(self, action: str, payload: dict, timeout: float | None) -> dict:
        """Have the judge sandbox answer one request, within the checks' time budget."""
        if self.judge_process is None:
            self.judge_process = JudgeProcess(self.limits)
        wanted, allowed = self._time_for(timeout)
        try:
            return self.judge_process.request(action, payload, allowed)
        except TimeoutError:
            if allowed < wanted:
                self._out_of_check_time()
            raise CallTimeout("the grader's judge of your model", allowed) from None

    def judge_runtime(self) -> dict | None:
        """Where the judge's backend computed (its backend, versions and device), if a judge ran.

        The judge never ran the submission's code, so its word is the grader's.
        """
        if self.judge_process is None or self.judge_process.requests == 0:
            return None
        try:
            reply = self.judge_process.request("runtime", {}, timeout=60)
        except (TimeoutError, SubmissionError):
            return None
        result = reply.get("result") if reply.get("ok") else None
        if not isinstance(result, dict):
            return None
        return {str(k)[:40]: str(v)[:120] for k, v in result.items()}

    def _time_for(self, timeout: float | None) -> tuple[float, float]:
        """``(wanted, allowed)`` seconds for one request: the checks' budget may cut it.

        The first request starts the checks' clock; a spent budget ends the checks.
        """
        if self._checks_started is None:
            self._checks_started = time.monotonic()
        remaining = self._check_budget_left()
        if remaining <= 0:
            self._out_of_check_time()
        wanted = timeout or self.limits.call_timeout
        return wanted, min(wanted, remaining)

    def _out_of_check_time(self) -> None:
        """The checks' time budget is spent: every later call fails with this message."""
        self._kill()
        self.unavailable = (
            "The grader's time for checking this notebook is used up (at most "
            f"{self.limits.check_timeout:g} s for all the checks' calls and "
            f"{self.limits.grading_timeout:g} s for the whole grading), so the remaining "
            "checks could not run. Look for functions that are far too slow."
        )
        self.flag("limit", "the checks' time budget was used up")
        raise Unavailable(self.unavailable)

    def _check_budget_left(self) -> float:
        """Seconds left for the checks' calls (their own budget, and the whole grading's)."""
        now = time.monotonic()
        started = self._checks_started if self._checks_started is not None else now
        return min(
            started + self.limits.check_timeout - now,
            self.started_at + self.limits.grading_timeout - now,
        )

    def notes(self) -> list[str]:
        """What the student should know about how their notebook ran."""
        notes = []
        if not self.sandboxed:
            notes.append(sandbox.NO_SANDBOX_WARNING)
        elif self._jail.mode == "user":
            notes.append(sandbox.USER_MODE_NOTE)
        if self.strays:
            notes.append(
                f"Your notebook left {self.strays} background process(es) running; the grader "
                "stopped them before running the checks."
            )
        for index, why in sorted(self.skipped.items()):
            notes.append(f"{self._cell_label(index, start=True)} was skipped: {why}.")
        for index, error in sorted(self.cell_errors.items()):
            if index in self.skipped:
                continue
            notes.append(f"{self._cell_label(index, start=True)} raised {self._place(error)}")
            if self.jail.placement.gpu is not None and devices.out_of_gpu_memory(error):
                notes.append(self._out_of_gpu_memory())
        for index, chars in sorted(self.floods.items()):
            notes.append(
                f"{self._cell_label(index, start=True)} printed {chars:,} characters; the "
                "grader kept only the start."
            )
        if self.unavailable:
            notes.append(self.unavailable)
        return notes

    def _out_of_gpu_memory(self) -> str:
        """What a cell that ran out of GPU memory should tell the student."""
        placement = self.jail.placement
        share = (f"{placement.memory_bytes / 2**30:.3g} GiB of {placement.device}"
                 if placement.memory_bytes else f"the memory of {placement.device}")  # fmt: skip
        return (
            f"That cell ran out of GPU memory: your notebook may hold {share}. Use smaller "
            "batches or a smaller model, and free models you no longer need (`del model`, "
            "then `keras.backend.clear_session()`)."
        )

    def _cell_label(self, index: int, *, start: bool = False) -> str:
        """The label of the cell at ``index`` (:meth:`Cell.label`)."""
        for cell in self.cells:
            if cell.index == index:
                return cell.label(start=start)
        return "A cell of your notebook" if start else "a cell of your notebook"


class _Forged(Exception):
    """The child sent a cell event out of order (or for a cell it was not running)."""


def _cell_outputs(event: dict) -> dict:
    """The printed text and PNG figures of one ``cell_end`` event, checked and bounded."""
    stdout = event.get("stdout")
    figures = event.get("figures")
    return {
        "stdout": stdout[:KEEP_STDOUT_CHARS] if isinstance(stdout, str) else "",
        "figures": [
            bytes(f)
            for f in (figures if isinstance(figures, list) else [])[:KEEP_FIGURES]
            if hasattr(f, "dtype")
            and f.dtype == "uint8"
            and f.ndim == 1
            and f.size <= KEEP_FIGURE_BYTES
        ],
    }
