"""Watch one sandbox from the outside: what all its processes use together.

Per-process limits (``setrlimit``) let a submission multiply its share by
starting processes, and keep nothing of what it writes into tmpfs (``/tmp`` is
memory). The monitor reads ``/proc`` instead: every process that descends from
the sandbox's first process, their private memory, threads and CPU time, and
the space its file systems hold, and stops the whole sandbox over a limit.

Example:
    >>> usage = measure(os.getpid(), [])
    >>> usage.processes >= 1
    True
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

#: Seconds between two looks at the sandbox.
INTERVAL = 0.1
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


#: The figures of :class:`Usage`, each the name of a :class:`~autograder.sandbox.Limits` field.
NAMES = ("memory_bytes", "disk_bytes", "processes", "cpu_seconds", "gpu_memory_bytes")


@dataclass
class Usage:
    """What a sandbox uses at one moment (CPU time: since it started)."""

    memory_bytes: int = 0
    disk_bytes: int = 0
    processes: int = 0
    cpu_seconds: float = 0.0
    gpu_memory_bytes: int = 0


def _table() -> dict[int, tuple[int, int, int]]:
    """Every process of the machine: pid to (parent pid, CPU ticks, threads)."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        fields = data[data.rindex(b")") + 2 :].split()
        table[int(name)] = (int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[17]))
    return table


def descendants(pid: int, table: dict | None = None) -> list[int]:
    """``pid`` and every process below it, parents first."""
    table = _table() if table is None else table
    children: dict[int, list[int]] = {}
    for child, (parent, _, _) in table.items():
        children.setdefault(parent, []).append(child)
    found, queue = [], [pid] if pid in table else []
    while queue:
        current = queue.pop()
        found.append(current)
        queue.extend(children.get(current, ()))
    return found


def _private_bytes(pid: int) -> int:
    """Anonymous memory of ``pid``, pages shared with other processes divided among them.

    The proportional share (``Pss_Anon``) counts a page that a forked process has not
    yet copied once in all, where the resident size would count it in every process.
    Where the kernel does not give it, the resident size without file pages stands in.
    """
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss_Anon:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            fields = handle.read().split()
    except OSError:
        return 0
    return max(int(fields[1]) - int(fields[2]), 0) * PAGE


def _used_bytes(path: str) -> int:
    try:
        stat = os.statvfs(path)
    except OSError:
        return 0
    return (stat.f_blocks - stat.f_bfree) * stat.f_frsize


def measure(
    pid: int,
    mounts: list[str],
    cpu: dict[int, int] | None = None,
    count_first: bool = True,
    gpu_memory: Callable[[list[int]], int] | None = None,
) -> Usage:
    """The usage of ``pid`` and its descendants, plus the space used on ``mounts``.

    Args:
        pid: the sandbox's first process.
        mounts: paths (on the grader's side) of the sandbox's own file systems.
        cpu: CPU ticks seen so far per pid, updated, so that processes that ended
            still count.
        count_first: whether ``pid`` itself counts among the processes (not when it
            is bubblewrap's own process outside the sandbox).
        gpu_memory: a function giving the GPU memory a list of host pids holds
            (:meth:`autograder.devices.GpuMemory.of`), for a sandbox with a GPU.
    """
    table = _table()
    pids = descendants(pid, table)
    cpu = {} if cpu is None else cpu
    usage = Usage()
    for each in pids:
        _, ticks, threads = table[each]
        cpu[each] = max(cpu.get(each, 0), ticks)
        if count_first or each != pid:
            usage.processes += threads
        usage.memory_bytes += _private_bytes(each)
    usage.disk_bytes = sum(_used_bytes(path) for path in mounts)
    usage.memory_bytes += usage.disk_bytes
    usage.cpu_seconds = sum(cpu.values()) / TICKS
    if gpu_memory is not None:
        usage.gpu_memory_bytes = gpu_memory(pids)
    return usage


class Monitor(threading.Thread):
    """Looks at a sandbox every :data:`INTERVAL` seconds until it ends or is stopped.

    Args:
        pid: the sandbox's first process.
        mounts: a function giving the paths of the sandbox's file systems (they
            appear once its first process has set them up).
        limits: ``{name: limit}`` for the fields of :class:`Usage`.
        peaks: ``{name: most seen}``, updated in place (shared across restarts).
        on_limit: called once, with the name of the limit and the usage, when a
            usage goes over its limit; it is expected to stop the sandbox.
        enforced: a function giving the limits the kernel enforced since it was last
            called (a cgroup's out-of-memory kills); each stops the sandbox too, so
            that the student hears of it.
        gpu_memory: see :func:`measure`.
    """

    def __init__(
        self,
        pid: int,
        mounts: Callable[[], list[str]],
        limits: dict[str, float],
        peaks: dict[str, float],
        on_limit: Callable[[str, Usage], None],
        cpu_offset: float = 0.0,
        count_first: bool = True,
        enforced: Callable[[], list[str]] | None = None,
        gpu_memory: Callable[[list[int]], int] | None = None,
    ) -> None:
        super().__init__(daemon=True, name=f"monitor-{pid}")
        self.pid = pid
        self.mounts = mounts
        self.limits = limits
        self.peaks = peaks
        self.on_limit = on_limit
        self.cpu_offset = cpu_offset
        self.count_first = count_first
        self.enforced = enforced
        self.gpu_memory = gpu_memory
        self.cpu: dict[int, int] = {}
        self.last = Usage()
        self._halt = threading.Event()

    def stop(self) -> None:
        self._halt.set()

    def run(self) -> None:
        while not self._halt.is_set():
            if not os.path.exists(f"/proc/{self.pid}"):
                return
            usage = self.sample()
            for name in self.enforced() if self.enforced else ():
                self.on_limit(name, usage)
                return
            for name in NAMES:
                if getattr(usage, name) > self.limits.get(name, float("inf")):
                    self.on_limit(name, usage)
                    return
            self._halt.wait(INTERVAL)

    def sample(self) -> Usage:
        """Measure the sandbox now and keep the most of each figure in :attr:`peaks`."""
        usage = measure(self.pid, self.mounts(), self.cpu, self.count_first, self.gpu_memory)
        usage.cpu_seconds += self.cpu_offset
        self.last = usage
        for name in NAMES:
            self.peaks[name] = max(self.peaks.get(name, 0), getattr(usage, name))
        return usage

    def cpu_seconds(self) -> float:
        """CPU seconds of the sandbox seen so far (ended processes included)."""
        return sum(self.cpu.values()) / TICKS + self.cpu_offset


def wait_gone(pids: list[int], seconds: float = 5.0) -> bool:
    """Wait until none of ``pids`` exists (zombies count as gone)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        alive = []
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat", "rb") as handle:
                    data = handle.read()
            except OSError:
                continue
            if data[data.rindex(b")") + 2 :][:1] != b"Z":
                alive.append(pid)
        if not alive:
            return True
        time.sleep(0.02)
    return False
