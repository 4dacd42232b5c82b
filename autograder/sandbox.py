"""The jail a submission runs in: bubblewrap, an unprivileged uid, limits on the whole of it.

The sandbox (bubblewrap, Debian package ``bubblewrap``) gives the child no
network, a read-only view of the system and of Python, an empty writable
working folder of its own, private ``/tmp`` and ``/dev/shm``, its own process,
IPC and user namespaces (no nested ones: no way to regain privileges), and
nothing of the course: not ``solutions/``, ``source/``, the checks, the
gradebook or other submissions.

Three modes, the strongest the machine allows (:func:`jail_mode`):

* ``"jail"`` (the grader is root): each sandbox runs as a host uid of its own
  (:func:`jail_uid`, never 0, different for every concurrent sandbox of the
  machine), so ``/proc/sys``, ``/etc/shadow`` and every file of the grader are
  out of reach and per-uid process limits hold. Its working folder, ``/tmp``
  and ``/dev/shm`` live on one size-limited ``noexec`` tmpfs in a mount
  namespace of their own (see :mod:`autograder.jail_launch`), so nothing lands
  on the host's disk; where the machine offers writable cgroups (v1 ``memory``
  and ``pids``), the kernel also enforces memory and processes.
* ``"user"`` (not root): bubblewrap unprivileged, as the invoking user, with
  size-limited tmpfs mounts.
* ``"none"``: no bubblewrap; a plain child with resource limits, and every
  result says so loudly.

In every mode :class:`autograder.monitor.Monitor` sums what all the sandbox's
processes use (memory with its tmpfs, disk, threads, CPU time) and stops the
sandbox over a limit. A grader killed by any signal takes its sandbox with it
(parent-death signals, a pid namespace), and the next grader sweeps the
temporary folder and cgroups it left (:func:`sweep_leftovers`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import autograder
import course_data
from autograder import devices, heldout, monitor

PACKAGE_DIR = Path(autograder.__file__).resolve().parent
#: The course's own data (public: no held-out part), which notebooks import; bound
#: read-only into every sandbox, wherever it is installed.
DATA_PACKAGE_DIR = Path(course_data.__file__).resolve().parent
#: Where the child's files are mounted inside the sandbox.
CHILD_DIR_INSIDE = "/opt/autograder-child"
#: The submission's working folder inside the sandbox.
WORK_DIR_INSIDE = "/submission"
#: The root-side launcher (see :mod:`autograder.jail_launch`).
LAUNCHER = PACKAGE_DIR / "jail_launch.py"
#: Host uids of jails: ``JAIL_UID_BASE + grader pid * JAIL_SLOTS + slot``. Far above
#: any account's uid; the grader's pid makes them unique among running graders.
JAIL_UID_BASE = 2_000_000_000
JAIL_SLOTS = 16
#: Prefix of each jail's temporary folder (holds the child's code and its log).
TMP_PREFIX = "autograder-jail-"
#: Inodes of a jail's tmpfs: enough for any honest notebook, few enough to bound its memory.
JAIL_INODES = 65536
#: Seconds a leftover folder must be old before a sweep removes it (a new jail
#: takes its lock right after creating it).
SWEEP_MIN_AGE = 60

#: prctl(2) option: the signal a process gets when its parent dies.
PR_SET_PDEATHSIG = 1

NO_SANDBOX_WARNING = (
    "WARNING: bubblewrap is not available on this grader, so this notebook ran in a "
    "plain child process with resource limits but WITHOUT the sandbox (it could see "
    "the grader's files and network). Install Debian's `bubblewrap` package."
)
#: Said in every result where the grader is not root: no uid of its own per sandbox.
USER_MODE_NOTE = (
    "Note: this grader does not run as root, so the sandbox ran as the grader's own "
    "user (no separate uid, and its working folder allows executables)."
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
        gpu: the one GPU the sandbox may reach, by number; -1 for none (the CPU). See
            :mod:`autograder.devices`.
        gpu_memory_bytes: GPU memory the sandbox's processes may hold together (the
            judge's sandbox as much again); 0 for no limit.

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
    gpu: int = -1
    gpu_memory_bytes: int = 0

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
        ("gpu", "--gpu", 1, "the GPU the sandbox may use, by number; -1 for the CPU"),
        ("gpu_memory_bytes", "--gpu-memory-gb", 1024**3,
         "GiB of GPU memory for the sandbox's processes together; 0 for no limit"),
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
            [path, "--ro-bind", "/", "/", "--unshare-all", "--unshare-user", "--disable-userns",
             "--die-with-parent", "true"],
            capture_output=True,
            timeout=30,
            **_as_jail_user(),
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return path if probe.returncode == 0 else None


def _as_jail_user() -> dict:
    """``Popen`` arguments that run a probe as an unprivileged uid when the grader is root."""
    if os.geteuid() != 0:
        return {}
    uid = jail_uid(JAIL_SLOTS - 1)
    return {"user": uid, "group": uid, "extra_groups": []}


def jail_uid(slot: int) -> int:
    """The host uid of this grader's sandbox number ``slot`` (unique on the machine)."""
    return JAIL_UID_BASE + os.getpid() * JAIL_SLOTS + slot


@functools.cache
def _root_jail_works() -> bool:
    """Whether the root launcher can build a jail here (mount namespaces, uid changes)."""
    if os.geteuid() != 0 or bubblewrap() is None:
        return False
    with tempfile.TemporaryDirectory(prefix=TMP_PREFIX + "probe-") as folder:
        os.chmod(folder, 0o711)
        root = Path(folder) / "fs"
        root.mkdir()
        uid = jail_uid(JAIL_SLOTS - 1)
        argv = [bubblewrap(), *_system_binds(), "--bind", f"{root}/work", "/submission",
                "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
                "--as-pid-1", "true"]  # fmt: skip
        spec = _launch_spec(root, uid, 16 * 1024**2, [], [], {}, argv)
        try:
            probe = subprocess.run(
                [sys.executable, "-I", "-S", str(LAUNCHER), json.dumps(spec)],
                capture_output=True,
                timeout=30,
            )
        except (OSError, subprocess.SubprocessError):
            return False
        return probe.returncode == 0


def jail_mode() -> str:
    """``"jail"``, ``"user"`` or ``"none"``: the strongest sandbox this machine allows."""
    if bubblewrap() is None:
        return "none"
    return "jail" if _root_jail_works() else "user"


def _launch_spec(root, uid, size, stage, cgroups, rlimits, argv) -> dict:
    return {
        "root": str(root),
        "uid": uid,
        "gid": uid,
        "size": int(size),
        "inodes": JAIL_INODES,
        "stage": [str(p) for p in stage],
        "cgroups": [str(p) for p in cgroups],
        "rlimits": rlimits,
        "parent": os.getpid(),
        "argv": argv,
    }


def _python_roots() -> list[Path]:
    """Folders the child's Python needs: its prefixes, any site-packages outside them, the course's data."""
    roots: list[Path] = [DATA_PACKAGE_DIR]
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
    system = [Path(p) for p in ("/usr", "/etc", "/lib", "/bin")]
    return [r for r in unique if not any(r.is_relative_to(p) for p in system)]


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
    }
    try:
        env["KERAS_BACKEND"] = devices.backend()
    except RuntimeError:  # no backend installed: numpy notebooks still grade
        pass
    # Some processors need these for OpenBLAS to compute correct results.
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def die_with_parent() -> None:
    """Runs in a forked child before exec: have the kernel kill it when its parent dies."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def child_rlimits(limits: Limits) -> dict[str, int]:
    """Per-process limits of every process of the sandbox (backstops of the monitor).

    On a GPU, a CUDA process maps far more than it uses, so its data size is not
    limited per process; the monitor and the cgroup still limit the whole sandbox.
    """
    data = {"RLIMIT_DATA": int(limits.memory_bytes)} if limits.gpu < 0 else {}
    return {
        **data,
        "RLIMIT_FSIZE": int(limits.file_bytes),
        "RLIMIT_CORE": 0,
        "RLIMIT_CPU": int(limits.cpu_seconds) + 1,
        "RLIMIT_NPROC": int(limits.processes),
    }


#: What each program of the sandbox needs beside it: the child runs the notebook and
#: the grader's tasks; the judge (see :mod:`autograder.judge`) only judges exported models.
PROGRAMS = {
    "child": ("child.py", "channel.py", "backend.py", "tasks"),
    "judge": ("judge.py", "channel.py", "backend.py"),
}


def release_channel(fds: tuple[int, ...], log_file) -> None:
    """Close a stopped child's channel (fds below 0 are already closed) and its log file."""
    for fd in fds:
        if fd >= 0:
            os.close(fd)
    if log_file is not None:
        log_file.close()


def prepare_child_dir(parent: Path, program: str = "child") -> Path:
    """Copy what ``program`` runs (nothing secret) into ``parent/child``.

    For the child that is ``child.py``, ``channel.py`` and the ``tasks`` package;
    for the judge ``judge.py`` and ``channel.py``; never the checks.
    """
    child_dir = parent / "child"
    child_dir.mkdir()
    for name in PROGRAMS[program]:
        if name.endswith(".py"):
            shutil.copyfile(PACKAGE_DIR / name, child_dir / name)
            continue
        (child_dir / name).mkdir()
        (child_dir / name).chmod(0o755)
        for path in (PACKAGE_DIR / name).glob("*.py"):
            shutil.copyfile(path, child_dir / name / path.name)
    child_dir.chmod(0o755)
    for path in child_dir.rglob("*.py"):
        path.chmod(0o644)
    return child_dir


# -- cgroups ---------------------------------------------------------------
CGROUP_V1 = Path("/sys/fs/cgroup")
CGROUP_PARENT = "autograder"


@functools.cache
def _cgroup_controllers() -> tuple[str, ...]:
    """The cgroup v1 controllers (``memory``, ``pids``) this grader can create groups in."""
    if os.geteuid() != 0:
        return ()
    usable = []
    for controller in ("memory", "pids"):
        base = CGROUP_V1 / controller / CGROUP_PARENT
        try:
            base.mkdir(exist_ok=True)
            probe = base / f"probe-{os.getpid()}"
            probe.mkdir(exist_ok=True)
            probe.rmdir()
        except OSError:
            continue
        usable.append(controller)
    return tuple(usable)


def _make_cgroups(name: str, limits: Limits) -> list[Path]:
    groups = []
    for controller in _cgroup_controllers():
        group = CGROUP_V1 / controller / CGROUP_PARENT / name
        try:
            group.mkdir()
            if controller == "memory":
                (group / "memory.limit_in_bytes").write_text(str(int(limits.memory_bytes)))
            else:
                (group / "pids.max").write_text(str(int(limits.processes)))
        except OSError:
            _remove_cgroup(group)
            continue
        groups.append(group)
    return groups


def _remove_cgroup(group: Path) -> None:
    for _ in range(50):
        try:
            for pid in (group / "cgroup.procs").read_text().split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)


def _cgroup_events(groups: list[Path]) -> dict[str, int]:
    """How often the kernel enforced each cgroup limit: ``{"memory": n, "processes": n}``."""
    events = {}
    for group in groups:
        try:
            if group.parent.parent.name == "memory":
                text = (group / "memory.oom_control").read_text()
                for line in text.splitlines():
                    if line.startswith("oom_kill "):
                        events["memory_bytes"] = int(line.split()[1])
            else:
                text = (group / "pids.events").read_text()
                events["processes"] = int(text.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return events


# -- sweeping what killed graders left ---------------------------------------
def sweep_leftovers(min_age: float = SWEEP_MIN_AGE) -> int:
    """Remove the temporary folders and cgroups of graders that died.

    A folder is a leftover when no living grader holds its ``owner.lock``; one
    younger than ``min_age`` seconds is left alone (its jail may be taking the lock).

    Returns:
        How many leftovers were removed.
    """
    removed = 0
    alive: set[str] = set()
    now = time.time()
    for folder in Path(tempfile.gettempdir()).glob(TMP_PREFIX + "*"):
        try:
            if folder.stat().st_uid != os.geteuid() or now - folder.stat().st_mtime < min_age:
                alive.add(folder.name)
                continue
            with open(folder / "owner.lock", "a") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    alive.add(folder.name)
                    continue
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    for controller in _cgroup_controllers():
        for group in (CGROUP_V1 / controller / CGROUP_PARENT).glob(TMP_PREFIX + "*"):
            if group.name not in alive:
                _remove_cgroup(group)
                removed += 1
    return removed


_sweep_once = functools.cache(sweep_leftovers)


# -- the jail ------------------------------------------------------------------
_slots_lock = threading.Lock()
_slots_used: set[int] = set()

LIMIT_MESSAGES = {
    "memory_bytes": "used more than {limit} of memory (all its processes and temporary "
    "files together)",
    "disk_bytes": "wrote more than {limit} into its working folder and /tmp",
    "processes": "ran more than {limit} processes and threads at once",
    "cpu_seconds": "used more than {limit} of CPU time (all its processes together)",
    "gpu_memory_bytes": "held more than {limit} of GPU memory, its share of the GPU (all its "
    "processes together); other submissions share the GPU",
}


def _limit_text(name: str, value: float) -> str:
    if name.endswith("_bytes"):
        return f"{value / 1024**3:.3g} GiB" if value >= 1024**3 else f"{value / 1024**2:.4g} MiB"
    if name == "cpu_seconds":
        return f"{value:g} s"
    return f"{value:g}"


class Jail:
    """One submission's sandbox: its uid, its temporary folder, its limits, its processes.

    A jail outlives restarts of its child (each :meth:`start` begins a fresh
    process with an empty working folder), and :meth:`close` removes everything
    it made. What the sandbox used, and which limit stopped it, is kept in
    :attr:`peaks` and :attr:`hits`.

    Args:
        limits: the sandbox's limits.
        program: ``"child"`` runs the notebook; ``"judge"`` runs :mod:`autograder.judge`,
            a process that never sees the submission's code.

    Example:
        >>> jail = Jail(Limits())
        >>> jail.mode in ("jail", "user", "none")
        True
        >>> jail.close()
    """

    def __init__(self, limits: Limits, program: str = "child") -> None:
        _sweep_once()
        self.limits = limits
        #: What runs in it: ``"child"`` (the notebook) or ``"judge"`` (see :data:`PROGRAMS`).
        self.program = program
        self.mode = jail_mode()
        #: Where it computes: the CPU, or its one GPU and share of that GPU's memory.
        self.placement = devices.Placement.of(limits.gpu, limits.gpu_memory_bytes)
        self.dir = Path(tempfile.mkdtemp(prefix=TMP_PREFIX))
        self._owner = open(self.dir / "owner.lock", "a")  # noqa: SIM115 (held while alive)
        fcntl.flock(self._owner, fcntl.LOCK_EX)
        self.dir.chmod(0o711)
        self.child_dir = prepare_child_dir(self.dir, program)
        self.slot = self._take_slot() if self.mode == "jail" else None
        self.uid = jail_uid(self.slot) if self.slot is not None else os.geteuid()
        self.cgroups = _make_cgroups(self.dir.name, limits) if self.mode == "jail" else []
        #: Most of each limit the sandbox used, over all its starts.
        self.peaks: dict[str, float] = {}
        #: The limits that stopped it, in order (names of :class:`Limits` fields).
        self.hits: list[str] = []
        #: Why the monitor stopped the current process, for the student; ``None`` if it did not.
        self.limit_hit: str | None = None
        self.process: subprocess.Popen | None = None
        self._monitor: monitor.Monitor | None = None
        self._cpu_spent = 0.0
        self._events_seen: dict[str, int] = {}
        self._starts = 0
        self._closed = False

    @staticmethod
    def _take_slot() -> int:
        with _slots_lock:
            for slot in range(JAIL_SLOTS - 1):  # the last slot is for probes
                if slot not in _slots_used:
                    _slots_used.add(slot)
                    return slot
        raise RuntimeError(f"more than {JAIL_SLOTS - 1} sandboxes at once in one grader")

    # -- starting ---------------------------------------------------------
    def _bwrap_argv(self, fs_root: Path | None) -> list[str]:
        """bubblewrap's command line; ``fs_root`` is the jail's tmpfs (root mode) or ``None``."""
        size = str(int(self.limits.disk_bytes))
        bound = _python_roots()
        # /tmp first: Python itself may live below /tmp (a virtual environment in a
        # checkout there), and a later tmpfs would hide it.
        argv = [bubblewrap(), *_system_binds()]
        if fs_root is not None:
            argv += ["--bind", f"{fs_root}/tmp", "/tmp"]
            for index, root in enumerate(bound):
                argv += ["--ro-bind", f"{fs_root}/stage/{index}", str(root)]
        else:
            argv += ["--size", size, "--tmpfs", "/tmp"]
            for root in bound:
                argv += ["--ro-bind", str(root), str(root)]
        argv += heldout.bwrap_binds(bound)  # each data file's view, its held-out rows blanked
        for secret in _hidden_paths(bound):
            argv += ["--tmpfs", str(secret)]
        argv += ["--proc", "/proc", "--dev", "/dev"]
        for host, inside in self.placement.device_nodes():  # its one GPU, nothing else
            argv += ["--dev-bind", host, inside]
        if fs_root is not None:
            argv += ["--bind", f"{fs_root}/shm", "/dev/shm"]
            argv += ["--bind", f"{fs_root}/work", WORK_DIR_INSIDE]
        else:
            argv += ["--size", size, "--tmpfs", "/dev/shm"]
            argv += ["--size", size, "--tmpfs", WORK_DIR_INSIDE]
        argv += [
            "--ro-bind", str(self.child_dir), CHILD_DIR_INSIDE,
            "--chdir", WORK_DIR_INSIDE,
            "--unshare-all", "--unshare-user", "--disable-userns",
            "--hostname", "sandbox",
            "--die-with-parent", "--new-session", "--as-pid-1",
            sys.executable, "-I", f"{CHILD_DIR_INSIDE}/{self.program}.py",
        ]  # fmt: skip
        return argv

    def start(self, log_file) -> tuple[subprocess.Popen, int, int]:
        """Start a fresh child (stopping any earlier one) with its channel and its monitor.

        Args:
            log_file: an open file for the child's standard output and error.

        Returns:
            ``(process, fd_to_child, fd_from_child)``; the fds are non-blocking.
        """
        self.stop()
        self.limit_hit = None
        self._starts += 1
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = child_environment()
        env.update(self.placement.environment())
        env["AUTOGRADER_FDS"] = f"{to_child_r},{from_child_w}"
        env["AUTOGRADER_RLIMITS"] = json.dumps(child_rlimits(self.limits))
        if self.mode == "jail":
            fs_root = self.dir / f"fs{self._starts}"
            fs_root.mkdir(mode=0o711)
            spec = _launch_spec(
                fs_root, self.uid, self.limits.disk_bytes, _python_roots(),
                [g / "cgroup.procs" for g in self.cgroups], child_rlimits(self.limits),
                self._bwrap_argv(fs_root),
            )  # fmt: skip
            argv = [sys.executable, "-I", "-S", str(LAUNCHER), json.dumps(spec)]
            cwd = self.dir
        elif self.mode == "user":
            argv, cwd = self._bwrap_argv(None), self.dir
        else:
            work = self.dir / f"work{self._starts}"
            work.mkdir()
            argv, cwd = [sys.executable, "-I", str(self.child_dir / f"{self.program}.py")], work
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
                cwd=str(cwd),
                env=env,
                pass_fds=(to_child_r, from_child_w),
                start_new_session=True,
            )
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        os.set_blocking(to_child_w, False)
        os.set_blocking(from_child_r, False)
        self.process = process
        self._monitor = monitor.Monitor(
            process.pid,
            self._mounts,
            {
                "memory_bytes": self.limits.memory_bytes,
                "disk_bytes": self.limits.disk_bytes,
                "processes": self.limits.processes,
                "cpu_seconds": self.limits.cpu_seconds,
                "gpu_memory_bytes": self.limits.gpu_memory_bytes or float("inf"),
            },
            self.peaks,
            self._on_limit,
            cpu_offset=self._cpu_spent,
            count_first=self.mode == "none",
            enforced=lambda: [n for n in self._cgroup_hits() if n == "memory_bytes"],
            gpu_memory=devices.GpuMemory.shared().of if self.placement.gpu else None,
        )
        self._monitor.start()
        return process, to_child_w, from_child_r

    def _child_pid(self) -> int | None:
        """The host pid of the child's Python (pid 1 of the sandbox), once it exists."""
        if self.process is None:
            return None
        if self.mode == "none":
            return self.process.pid
        pids = monitor.descendants(self.process.pid)
        return pids[1] if len(pids) > 1 else None

    def _mounts(self) -> list[str]:
        child = self._child_pid()
        if child is None or self.mode == "none":
            return []
        inside = ["/submission"] if self.mode == "jail" else ["/submission", "/tmp", "/dev/shm"]
        return [f"/proc/{child}/root{path}" for path in inside]

    def _on_limit(self, name: str, usage: monitor.Usage) -> None:
        limit = getattr(self.limits, name)
        if name not in self.hits:
            self.hits.append(name)
        self.limit_hit = LIMIT_MESSAGES[name].format(limit=_limit_text(name, limit))
        self._kill_tree()

    # -- stopping ---------------------------------------------------------
    def _kill_tree(self) -> list[int]:
        process = self.process
        if process is None:
            return []
        pids = monitor.descendants(process.pid)
        for pid in reversed(pids):
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return pids

    def kill_strays(self) -> int:
        """Stop every process of the sandbox but the child itself; return how many there were."""
        child = self._child_pid()
        if child is None:
            return 0
        strays = monitor.descendants(child)[1:]
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        return len(strays)

    def stop(self) -> None:
        """Kill the child and everything it started; keep what it used in :attr:`peaks`."""
        if self.process is None:
            return
        if self._monitor is not None and self.process.poll() is None:
            self._monitor.sample()  # the last look: a quick cell may end between two
        pids = self._kill_tree()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        monitor.wait_gone(pids)
        if self._monitor is not None:
            self._monitor.stop()
            self._monitor.join(timeout=2)
            self._cpu_spent = self._monitor.cpu_seconds()
            self._monitor = None
        self._cgroup_hits()
        self.process = None

    def _cgroup_hits(self) -> list[str]:
        """Limits the kernel enforced (cgroups) since the last look; recorded in :attr:`hits`."""
        new = []
        for name, count in _cgroup_events(self.cgroups).items():
            if count > self._events_seen.get(name, 0):
                self._events_seen[name] = count
                new.append(name)
                if name not in self.hits:
                    self.hits.append(name)
        return new

    def limit_reason(self) -> str | None:
        """Why the sandbox's child died of a limit ("used more than ..."), or ``None``."""
        if self.limit_hit is None and "memory_bytes" in self._cgroup_hits():
            limit = self.limits.memory_bytes
            self.limit_hit = LIMIT_MESSAGES["memory_bytes"].format(
                limit=_limit_text("memory_bytes", limit)
            )
        return self.limit_hit

    def close(self) -> None:
        """Stop everything and remove every file and cgroup of the jail."""
        if self._closed:
            return
        self._closed = True
        self.stop()
        for group in self.cgroups:
            _remove_cgroup(group)
        shutil.rmtree(self.dir, ignore_errors=True)
        self._owner.close()
        if self.slot is not None:
            with _slots_lock:
                _slots_used.discard(self.slot)

    def cpu_seconds(self) -> float:
        """CPU time the sandbox's processes used so far, every start together."""
        return self._monitor.cpu_seconds() if self._monitor is not None else self._cpu_spent

    def report(self) -> dict:
        """The jail for ``results.json``: its mode, and per limit its value and most used."""
        if self._monitor is not None and self.process is not None:
            self._monitor.sample()
        used = dict(self.peaks)
        used["cpu_seconds"] = max(used.get("cpu_seconds", 0.0), self.cpu_seconds())
        return {
            "mode": self.mode,
            "own_uid": self.mode == "jail",
            "cgroups": [g.parent.parent.name for g in self.cgroups],
            "limits": {
                name: {"limit": value, **({"used": round(used[name], 3)} if name in used else {})}
                for name, value in self.limits.as_dict().items()
            },
            "limits_hit": list(self.hits),
        }
