"""What runs inside the sandbox: execute the notebook's cells, then answer calls.

Started by :mod:`autograder.sandbox` as ``python child.py`` with
``AUTOGRADER_FDS=<read fd>,<write fd>`` naming the two pipes of the channel.
Only this file and ``channel.py`` are copied into the sandbox; neither holds
anything secret. The grader trusts nothing this process sends beyond its shape:
a student who rewrites this module can only spoil their own answers.

Requests (grader to child) and replies:

* ``{"op": "run", "cells": [[index, source], ...], "cell_timeout": s,
  "keep_outputs": bool}`` → events ``{"event": channel.Event.CELL_START, "index": i}``,
  ``{"event": channel.Event.CELL_END, "index": i, "ok": bool, "error": str, "output_chars": n}``
  (with ``keep_outputs``, also the start of the printed text as ``stdout`` and
  the cell's figures as PNG bytes in ``figures``), then ``{"event": channel.Event.RUN_DONE}``.
* ``{"op": "call", "function": name, "args": [...], "kwargs": {...},
  "return_args": bool, "timeout": s}`` → ``{"ok": True, "result": ...}`` (plus
  ``args``/``kwargs`` as they were after the call) or ``{"ok": False, "error": kind, ...}``.
  The function ``__autograder_canary__`` adds 1 to its argument in place, so the
  grader can check that what the child reports of arguments after a call is true.
* ``{"op": "task", "function": "<module>.<task>", ...}``: the same for a task of
  the grader's ``tasks`` package (copied beside this file), called with the
  student's namespace first.

Any event or reply may carry ``"observed": [str, ...]``: what the :class:`Observer`
saw of tampering since the last message ("sysctl: ...", "patched: ..."). The
grader turns it into flags for the instructor and never into points.

Before the first cell, :func:`_apply_limits` sets the per-process limits the
grader passes in ``AUTOGRADER_RLIMITS`` (inside the sandbox's own user
namespace, so that the process limit counts the sandbox alone).
"""

from __future__ import annotations

import fcntl
import os
import signal
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import backend  # noqa: E402  (the copies beside this file)
import channel  # noqa: E402

#: Characters of printed output kept per cell (the rest is counted and dropped), figures
#: kept per cell for the executed notebook, and the largest PNG kept: the protocol's.
OUTPUT_KEEP = channel.KEEP_STDOUT_CHARS
MAX_FIGURES = channel.KEEP_FIGURES
MAX_FIGURE_BYTES = channel.KEEP_FIGURE_BYTES
CELL_FILENAME = "<cell {index}>"
#: Observations of tampering kept for the grader (each at most ``OBSERVATION_CHARS``).
MAX_OBSERVATIONS = 20
OBSERVATION_CHARS = 200

#: Functions a cheat patches to fool checks run in its process; the grader is told
#: when one is replaced. Honest notebooks never replace them.
WATCHED_BUILTINS = (
    "isinstance", "issubclass", "len", "abs", "max", "min", "sum", "round", "float",
    "int", "type", "getattr", "hasattr", "open", "exec", "compile", "__import__",
)  # fmt: skip
WATCHED_NUMPY = (
    "allclose", "isclose", "array_equal", "asarray", "array", "abs", "absolute", "max",
    "min", "sum", "mean", "all", "any", "isfinite", "isnan", "ndarray", "float64",
)  # fmt: skip
WATCHED_CHANNEL = ("pack", "write_message", "read_message", "encode_value", "decode_value")


def _canary(x):
    """Add 1 to ``x`` in place: the grader checks that the report of ``x`` after the call says so.

    A child that reports the arguments it was given rather than what became of
    them (to hide a function that modifies its inputs) is caught by this one.
    """
    x += 1
    return None


class TimeLimit(BaseException):
    """Raised in the student's code when a cell or call runs out of time.

    A ``BaseException`` so that ``except Exception`` in student code does not
    swallow it; the grader's own watchdog kills the process if it is swallowed anyway.
    """


class CappedWriter:
    """A text stream that keeps the first ``OUTPUT_KEEP`` characters and counts the rest."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.kept: list[str] = []
        self.n_kept = 0
        self.total = 0

    def write(self, text) -> int:
        if not isinstance(text, str):
            text = str(text)
        self.total += len(text)
        if self.n_kept < OUTPUT_KEEP:
            piece = text[: OUTPUT_KEEP - self.n_kept]
            self.kept.append(piece)
            self.n_kept += len(piece)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        raise OSError("no file descriptor")


def _on_alarm(signum, frame):
    raise TimeLimit()


def _set_timer(seconds: float) -> None:
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(float(seconds), 0.001))


def _clear_timer() -> None:
    signal.setitimer(signal.ITIMER_REAL, 0)


def _student_location(tb) -> str:
    """``line N of cell K`` for the innermost frame of the student's code."""
    where = ""
    for frame in traceback.extract_tb(tb):
        if frame.filename.startswith("<cell "):
            where = f"line {frame.lineno} of {frame.filename.strip('<>')}"
    return where


def _close_figures(keep: bool = False) -> list:
    """Close every open figure; with ``keep``, return them first as PNG bytes (uint8 arrays)."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    images = []
    if pyplot is None:
        return images
    try:
        if keep:
            import io

            import numpy as np

            for number in pyplot.get_fignums()[:MAX_FIGURES]:
                buffer = io.BytesIO()
                pyplot.figure(number).savefig(buffer, format="png", dpi=72)
                if buffer.tell() <= MAX_FIGURE_BYTES:
                    images.append(np.frombuffer(buffer.getvalue(), dtype=np.uint8))
        pyplot.close("all")
    except Exception:
        pass
    return images


def _opens_for_writing(mode, flags) -> bool:
    if isinstance(mode, str):
        return any(c in mode for c in "wax+")
    return isinstance(flags, int) and bool(flags & (os.O_WRONLY | os.O_RDWR))


class Observer:
    """What the grader should hear of tampering: patched functions, attempts on ``/proc/sys``.

    An audit hook (which cannot be removed once added) sees every ``open`` and
    every command started from Python; a snapshot of the watched functions shows
    which were replaced. What it reports can only raise a flag, never a score,
    so a cheat that silences it gains nothing.
    """

    def __init__(self) -> None:
        import builtins

        import numpy

        self.pending: list[str] = []
        self.seen: set[str] = set()
        self.watched = [(f"builtins.{n}", builtins, n) for n in WATCHED_BUILTINS]
        self.watched += [(f"numpy.{n}", numpy, n) for n in WATCHED_NUMPY]
        self.watched += [(f"kit channel.{n}", channel, n) for n in WATCHED_CHANNEL]
        self.watched += [(f"kit child.Child.{n}", Child, n) for n in ("send", "_invoke", "serve")]
        self.original = {name: getattr(owner, attr, None) for name, owner, attr in self.watched}
        pending, seen = self.pending, self.seen

        def note(text: str) -> None:
            text = text[:OBSERVATION_CHARS]
            if text not in seen and len(seen) < MAX_OBSERVATIONS:
                seen.add(text)
                pending.append(text)

        def hook(event: str, args: tuple) -> None:
            if event == "open" and len(args) >= 3:
                path = args[0]
                if isinstance(path, bytes):
                    path = path.decode(errors="replace")
                if isinstance(path, str) and path.startswith("/proc/sys"):
                    if _opens_for_writing(args[1], args[2]):
                        note(f"sysctl: opened {path} for writing")
            elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn"):
                text = " ".join(str(a) for a in args)
                if "/proc/sys" in text or "sysctl" in text:
                    note(f"sysctl: ran {text}")

        self.note = note
        sys.addaudithook(hook)

    def take(self) -> list[str]:
        """Observations since the last call (patched functions checked now)."""
        if sys.modules.get("channel") is not channel:
            self.note("patched: the kit's channel module was replaced")
        for name, owner, attr in self.watched:
            if getattr(owner, attr, None) is not self.original[name]:
                self.note(f"patched: {name} was replaced")
        taken = self.pending[:]
        del self.pending[:]
        return taken


class Child:
    """The notebook's namespace and the loop that serves the grader."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.read_fd = read_fd
        self.write_fd = write_fd
        self.output = CappedWriter()
        self.shell = None
        self.namespace: dict = {"__name__": "__main__"}
        self.observer: Observer | None = None

    def _start_shell(self) -> None:
        """An IPython shell, so that magics such as ``%matplotlib inline`` work."""
        try:
            from IPython.core.interactiveshell import InteractiveShell
            from traitlets.config import Config

            class ChildShell(InteractiveShell):
                """Figures stay on the non-interactive Agg backend: nothing to show here."""

                def enable_gui(self, gui=None):
                    return None

                def enable_matplotlib(self, gui=None):
                    return "agg", "agg"

            config = Config()
            config.HistoryManager.enabled = False
            self.shell = ChildShell.instance(config=config)
            self.namespace = self.shell.user_ns
            self.namespace["__name__"] = "__main__"
        except Exception:  # no IPython: plain Python cells still run
            self.shell = None

    def _compile(self, index: int, source: str):
        if self.shell is not None:
            source = self.shell.transform_cell(source)
        return compile(source, CELL_FILENAME.format(index=index), "exec")

    def run_cells(self, cells: list, cell_timeout: float, keep_outputs: bool) -> None:
        if self.shell is None:
            self._start_shell()
        for index, source in cells:
            self.send({"event": channel.Event.CELL_START, "index": index})
            self.output.reset()
            ok, error = True, ""
            try:
                code = self._compile(index, source)
                _set_timer(cell_timeout)
                try:
                    exec(code, self.namespace)
                finally:
                    _clear_timer()
            except TimeLimit:
                ok, error = False, f"did not finish within {cell_timeout:g} s"
            except BaseException as exc:  # the student's error, SystemExit included
                message = str(exc)
                ok, error = (
                    False,
                    f"{type(exc).__name__}: {message}"[:300] if message else type(exc).__name__,
                )
                where = _student_location(exc.__traceback__)
                if where:
                    error += f" ({where})"
            figures = _close_figures(keep=keep_outputs)
            event = {
                "event": channel.Event.CELL_END,
                "index": index,
                "ok": ok,
                "error": error,
                "output_chars": self.output.total,
            }
            if keep_outputs:
                event["stdout"] = "".join(self.output.kept)
                event["figures"] = figures
            self._observe(event)
            self.send(event)
        self.send({"event": channel.Event.RUN_DONE})

    def call(self, request: dict) -> dict:
        """Call a function of the student's notebook (or the grader's canary, see :func:`_canary`)."""
        name = request.get("function")
        if name == channel.CANARY:
            return self._invoke(_canary, request, prefix=())
        func = self.namespace.get(name) if isinstance(name, str) else None
        if not callable(func):
            return channel.error(channel.Error.MISSING)
        return self._invoke(func, request, prefix=())

    def task(self, request: dict) -> dict:
        """Run a grader-defined task (see the ``tasks`` package) on the student's namespace."""
        try:
            import tasks

            func = tasks.resolve(str(request.get("function")), package="tasks")
        except LookupError as exc:
            return channel.error(
                channel.Error.EXCEPTION, error_type="LookupError", message=str(exc)
            )
        return self._invoke(func, request, prefix=(self.namespace,))

    def _invoke(self, func, request: dict, prefix: tuple) -> dict:
        timeout = float(request.get("timeout", 30.0))
        self.output.reset()
        try:
            args = channel.resolve_markers(request.get("args", []), self.namespace)
            kwargs = channel.resolve_markers(request.get("kwargs", {}), self.namespace)
            _set_timer(timeout)
            try:
                result = func(*prefix, *args, **kwargs)
            finally:
                _clear_timer()
        except TimeLimit:
            return channel.error(channel.Error.TIMEOUT, seconds=timeout)
        except NotImplementedError:
            return channel.error(channel.Error.NOT_IMPLEMENTED)
        except BaseException as exc:
            return channel.error(
                channel.Error.EXCEPTION,
                error_type=type(exc).__name__,
                message=str(exc)[:500],
                where=_student_location(exc.__traceback__),
            )
        finally:
            _close_figures()
        reply = channel.ok(result)
        self._observe(reply)
        if request.get("return_args"):
            reply["args"] = channel.unresolve(list(args))
            reply["kwargs"] = channel.unresolve(kwargs)
        try:
            channel.pack(reply)
        except (channel.ChannelError, TypeError, ValueError, OverflowError) as exc:
            return channel.error(channel.Error.BAD_RETURN, message=str(exc)[:300])
        return reply

    def _observe(self, message: dict) -> None:
        """Add what the observer saw since the last message (see :class:`Observer`)."""
        if self.observer is not None:
            observed = self.observer.take()
            if observed:
                message["observed"] = observed

    def send(self, message: dict) -> None:
        channel.write_message(self.write_fd, message)

    def serve(self) -> None:
        while True:
            try:
                request = channel.read_message(self.read_fd)
            except EOFError:
                return
            op = request.get("op")
            if op == channel.Op.RUN:
                self.run_cells(
                    request.get("cells", []),
                    float(request.get("cell_timeout", 60)),
                    bool(request.get("keep_outputs", False)),
                )
            elif op == channel.Op.CALL:
                self.send(self.call(request))
            elif op == channel.Op.TASK:
                self.send(self.task(request))
            elif op == channel.Op.EXIT:
                return
            else:
                self.send(channel.error(channel.Error.EXCEPTION, error_type="ProtocolError"))


def _private_fd(fd: int) -> int:
    """Move ``fd`` out of the way of the student's code (a high, close-on-exec number)."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 200)
    os.close(fd)
    return new


def _apply_limits() -> None:
    """Before any student code: the grader's per-process limits, and death with the grader.

    Set here rather than before bubblewrap so that the process count is that of
    the sandbox's own user namespace, not of the grader's user.
    """
    import ctypes
    import json
    import resource

    for name, value in json.loads(os.environ.pop("AUTOGRADER_RLIMITS", "{}")).items():
        try:
            resource.setrlimit(getattr(resource, name), (int(value), int(value)))
        except (AttributeError, ValueError, OSError):
            pass
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main() -> None:
    read_fd, write_fd = (int(x) for x in os.environ.pop("AUTOGRADER_FDS").split(","))
    read_fd, write_fd = _private_fd(read_fd), _private_fd(write_fd)
    _apply_limits()
    backend.limit_gpu_memory()  # before the first cell (the monitor enforces it after)
    child = Child(read_fd, write_fd)
    child.observer = Observer()
    # Printed output never reaches the channel: Python-level writes are capped in
    # memory, and file descriptors 1 and 2 go to a log file bounded by RLIMIT_FSIZE.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    sys.stdout = sys.stderr = child.output
    child.serve()
    os._exit(0)


if __name__ == "__main__":
    main()
