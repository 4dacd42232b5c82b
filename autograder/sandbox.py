"""Start the child that runs a submission: bubblewrap where present, limits always.

The sandbox (bubblewrap, Debian package ``bubblewrap``) gives the child no
network, a read-only view of the system and of Python, an empty writable
working folder of its own, a private ``/tmp``, its own process and IPC
namespaces, and nothing of the course: not ``solutions/``, ``source/``, the
checks, the gradebook or other submissions. Where bubblewrap is missing or
cannot create namespaces, the child is a plain process with the same resource
limits, and every result says so loudly.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import resource
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import autograder

PACKAGE_DIR = Path(autograder.__file__).resolve().parent
#: Where the child's two files are mounted inside the sandbox.
CHILD_DIR_INSIDE = "/opt/autograder-child"
#: The submission's working folder inside the sandbox.
WORK_DIR_INSIDE = "/submission"

#: prctl(2) option: the signal a process gets when its parent dies.
PR_SET_PDEATHSIG = 1

NO_SANDBOX_WARNING = (
    "WARNING: bubblewrap is not available on this grader, so this notebook ran in a "
    "plain child process with resource limits but WITHOUT the sandbox (it could see "
    "the grader's files and network). Install Debian's `bubblewrap` package."
)


@dataclass(frozen=True)
class Limits:
    """Resource limits of one submission's sandbox: all its processes together.

    Each limit has a default here, a command-line flag (:meth:`add_arguments`) and
    a line in ``results.json`` (``extra_data.limits``: the limit and the most the
    submission used of it).

    Args:
        cell_timeout: seconds one cell may run.
        notebook_timeout: seconds the whole notebook may run (all cells, restarts included).
        call_timeout: seconds one call from a check may run.
        check_timeout: seconds the whole check phase may take (every call together).
        grading_timeout: seconds the whole grading of one submission may take.
        memory_bytes: memory of every process of the sandbox together, its
            temporary files (``/tmp``, ``/dev/shm``, the working folder) included.
        disk_bytes: bytes the working folder and ``/tmp`` may hold together.
        file_bytes: largest file the sandbox may write (its log included).
        processes: processes (and threads) the sandbox may run at once.
        cpu_seconds: CPU time of every process of the sandbox together.
        grader_memory_bytes: memory of the grader's own process.

    Example:
        >>> Limits.from_argv(Limits(cell_timeout=5).to_argv()).cell_timeout
        5.0
    """

    cell_timeout: float = 60.0
    notebook_timeout: float = 600.0
    call_timeout: float = 30.0
    check_timeout: float = 600.0
    grading_timeout: float = 1500.0
    memory_bytes: int = 4 * 1024**3
    disk_bytes: int = 1024**3
    file_bytes: int = 64 * 1024**2
    processes: int = 512
    cpu_seconds: float = 3600.0
    grader_memory_bytes: int = 4 * 1024**3

    #: (field, flag, unit factor, help) of each limit on the command line.
    FLAGS = (
        ("cell_timeout", "--cell-timeout", 1, "seconds one cell may run"),
        ("notebook_timeout", "--notebook-timeout", 1, "seconds the whole notebook may run"),
        ("call_timeout", "--call-timeout", 1, "seconds one call from a check may run"),
        ("check_timeout", "--check-timeout", 1, "seconds all the checks' calls may take"),
        ("grading_timeout", "--grading-timeout", 1, "seconds the whole grading may take"),
        ("memory_bytes", "--memory-gb", 1024**3,
         "GiB of memory for all the sandbox's processes and temporary files together"),
        ("disk_bytes", "--disk-mb", 1024**2, "MiB the working folder and /tmp may hold"),
        ("file_bytes", "--file-mb", 1024**2, "MiB of the largest file the sandbox may write"),
        ("processes", "--processes", 1, "processes and threads the sandbox may run at once"),
        ("cpu_seconds", "--cpu-seconds", 1, "CPU seconds of all the sandbox's processes"),
        ("grader_memory_bytes", "--grader-memory-gb", 1024**3,
         "GiB of memory for the grader's own process"),
    )  # fmt: skip

    @classmethod
    def add_arguments(cls, parser) -> None:
        """Add one ``argparse`` option per limit, defaulting to this class's values."""
        defaults = cls()
        for name, flag, factor, text in cls.FLAGS:
            default = getattr(defaults, name) / factor
            parser.add_argument(flag, type=float, default=default,
                                help=f"{text} (default: {default:g})")  # fmt: skip

    @classmethod
    def from_args(cls, args) -> Limits:
        """The limits an ``argparse`` namespace of :meth:`add_arguments` holds."""
        values = {}
        for name, flag, factor, _ in cls.FLAGS:
            value = getattr(args, flag.lstrip("-").replace("-", "_")) * factor
            values[name] = int(value) if isinstance(getattr(cls, name), int) else float(value)
        return cls(**values)

    @classmethod
    def from_argv(cls, argv: list[str]) -> Limits:
        """Parse the flags :meth:`to_argv` writes."""
        import argparse

        parser = argparse.ArgumentParser()
        cls.add_arguments(parser)
        return cls.from_args(parser.parse_args(argv))

    def to_argv(self) -> list[str]:
        """These limits as command-line flags (for a grader started by the batch)."""
        argv = []
        for name, flag, factor, _ in self.FLAGS:
            argv += [flag, repr(getattr(self, name) / factor)]
        return argv

    def as_dict(self) -> dict[str, float]:
        """Every limit by name, for ``results.json``."""
        return {name: getattr(self, name) for name, *_ in self.FLAGS}


@functools.cache
def bubblewrap() -> str | None:
    """Path of a working ``bwrap``, or ``None`` where it is missing or cannot sandbox."""
    path = shutil.which("bwrap")
    if path is None:
        return None
    try:
        probe = subprocess.run(
            [path, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "true"],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return path if probe.returncode == 0 else None


def _python_roots() -> list[Path]:
    """Folders the child's Python needs: its prefixes and any site-packages outside them."""
    roots: list[Path] = []
    for entry in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        roots.append(Path(entry))
        roots.append(Path(entry).resolve())
    for entry in sys.path:
        path = Path(entry)
        if entry and path.is_dir() and path.name in ("site-packages", "dist-packages"):
            roots.append(path.resolve())
    unique: list[Path] = []
    for root in sorted(set(roots), key=lambda p: len(p.parts)):
        if not any(root.is_relative_to(kept) for kept in unique):
            unique.append(root)
    return unique


def _system_binds() -> list[str]:
    args: list[str] = []
    for name in ("usr", "etc", "bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    return args


def _hidden_paths(bound: list[Path]) -> list[Path]:
    """Secret folders that a bound folder happens to contain (covered by empty tmpfs)."""
    secrets = [PACKAGE_DIR, PACKAGE_DIR.parent / "solutions", PACKAGE_DIR.parent / "source"]
    return [
        secret
        for secret in secrets
        if secret.exists() and any(secret.is_relative_to(root) for root in bound)
    ]


def child_environment() -> dict[str, str]:
    """The child's whole environment: nothing of the grader's but what numpy needs."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": WORK_DIR_INSIDE,
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "IPYTHONDIR": "/tmp/ipython",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "tensorflow"),
    }
    # Some processors need these for OpenBLAS to compute correct results.
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def command(work_dir: Path, child_dir: Path, sandboxed: bool) -> tuple[list[str], str, str]:
    """The command line that starts the child, and its working and child folders inside.

    Returns:
        ``(argv, work_dir_as_seen_by_child, child_dir_as_seen_by_child)``.
    """
    python = sys.executable
    if not sandboxed:
        return [python, "-I", str(child_dir / "child.py")], str(work_dir), str(child_dir)
    bound = _python_roots()
    # /tmp first: Python itself may live below /tmp (a virtual environment in a
    # checkout there), and a later tmpfs would hide it.
    argv = [bubblewrap(), *_system_binds(), "--tmpfs", "/tmp"]
    for root in bound:
        if not any(root.is_relative_to(p) for p in map(Path, ("/usr", "/etc", "/lib", "/bin"))):
            argv += ["--ro-bind", str(root), str(root)]
    for secret in _hidden_paths(bound):
        argv += ["--tmpfs", str(secret)]
    argv += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--bind",
        str(work_dir),
        WORK_DIR_INSIDE,
        "--ro-bind",
        str(child_dir),
        CHILD_DIR_INSIDE,
        "--chdir",
        WORK_DIR_INSIDE,
        "--unshare-all",
        "--hostname",
        "sandbox",
        "--die-with-parent",
        "--new-session",
    ]
    if os.geteuid() == 0:
        argv += ["--cap-drop", "ALL"]
    argv += [python, "-I", f"{CHILD_DIR_INSIDE}/child.py"]
    return argv, WORK_DIR_INSIDE, CHILD_DIR_INSIDE


def die_with_parent() -> None:
    """Runs in a forked child before exec: have the kernel kill it when its parent dies."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def _apply_limits(limits: Limits) -> None:
    """Runs in the forked child before exec: resource limits inherited by everything below."""
    die_with_parent()
    for which, value in (
        (resource.RLIMIT_DATA, limits.memory_bytes),
        (resource.RLIMIT_FSIZE, limits.file_bytes),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_NPROC, limits.processes),
    ):
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass


def prepare_child_dir(parent: Path) -> Path:
    """Copy what the child runs (nothing secret) into ``parent/child``.

    That is ``child.py``, ``channel.py`` and the ``tasks`` package; never the checks.
    """
    child_dir = parent / "child"
    child_dir.mkdir()
    for name in ("child.py", "channel.py"):
        shutil.copyfile(PACKAGE_DIR / name, child_dir / name)
    (child_dir / "tasks").mkdir()
    for path in (PACKAGE_DIR / "tasks").glob("*.py"):
        shutil.copyfile(path, child_dir / "tasks" / path.name)
    return child_dir


def start(
    work_dir: Path, child_dir: Path, limits: Limits, log_file
) -> tuple[subprocess.Popen, int, int, bool]:
    """Start the child with its channel.

    Args:
        work_dir: the submission's own empty, writable folder.
        child_dir: a folder holding ``child.py`` and ``channel.py`` (see :func:`prepare_child_dir`).
        limits: resource limits.
        log_file: an open file for the child's standard output and error.

    Returns:
        ``(process, fd_to_child, fd_from_child, sandboxed)``; the fds are non-blocking.
    """
    sandboxed = bubblewrap() is not None
    argv, _, _ = command(work_dir, child_dir, sandboxed)
    to_child_r, to_child_w = os.pipe()
    from_child_r, from_child_w = os.pipe()
    env = child_environment()
    env["AUTOGRADER_FDS"] = f"{to_child_r},{from_child_w}"
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
            cwd=str(work_dir),
            env=env,
            pass_fds=(to_child_r, from_child_w),
            start_new_session=True,
            preexec_fn=functools.partial(_apply_limits, limits),
        )
    finally:
        os.close(to_child_r)
        os.close(from_child_w)
    os.set_blocking(to_child_w, False)
    os.set_blocking(from_child_r, False)
    return process, to_child_w, from_child_r, sandboxed


def stop(process: subprocess.Popen) -> None:
    """Kill the child and everything it started (its whole session)."""
    try:
        os.killpg(process.pid, 9)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.kill()
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
