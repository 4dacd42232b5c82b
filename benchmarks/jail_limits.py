"""The jail under load: how fast a sandbox starts, and how far a probe gets under each limit.

Measured in one run:

* the start time of a sandbox (from nothing to the first answer of a function of
  the notebook), median over repeats, against starting bare bubblewrap with the
  same Python (the floor of any sandbox), and their ratio;
* for each limit of the whole sandbox, a probe that tries to go far beyond it
  (memory across several processes, files in tmpfs, the working folder, processes,
  CPU time), the most the monitor saw it use, and whether the jail stopped it.
  These are the heavy variants of ``tests/test_jail.py`` (GBs, not hundreds of MB).

Usage: python benchmarks/jail_limits.py [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder import sandbox  # noqa: E402
from autograder.notebook import Cell  # noqa: E402
from autograder.sandboxed import SandboxedSubmission  # noqa: E402
from autograder.submission import Unavailable  # noqa: E402

GiB, MiB = 1024**3, 1024**2
DEFINE_F = "def f(x):\n    return x + 1\n"

LIMITS = sandbox.Limits(
    memory_bytes=1 * GiB,
    disk_bytes=512 * MiB,
    processes=256,
    cpu_seconds=5,
    cell_timeout=60,
    notebook_timeout=120,
)

PROBES = {
    "memory_bytes": (
        "memory: 4 processes of 600 MB each",
        "import multiprocessing, time\n"
        "def hold(n):\n"
        "    block = bytearray(n)\n"
        "    for i in range(0, n, 4096):\n"
        "        block[i] = 1\n"
        "    time.sleep(60)\n"
        "ps = [multiprocessing.Process(target=hold, args=(600 * 2**20,)) for _ in range(4)]\n"
        "for p in ps:\n"
        "    p.start()\n"
        "time.sleep(30)\n",
    ),
    "memory_bytes (tmpfs)": (
        "memory: 2 GB of files in /dev/shm",
        "for k in range(40):\n"
        "    with open('/dev/shm/fill%d' % k, 'wb') as handle:\n"
        "        handle.write(b'x' * (50 * 2**20))\n",
    ),
    "disk_bytes": (
        "disk: 2 GB into the working folder",
        "try:\n"
        "    for k in range(64):\n"
        "        with open('/submission/big%d' % k, 'wb') as handle:\n"
        "            handle.write(b'x' * (32 * 2**20))\n"
        "except OSError:\n"
        "    pass\n",
    ),
    "processes": (
        "processes: 2,000 forks",
        "import os, time\n"
        "for _ in range(2000):\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(30)\n"
        "            os._exit(0)\n"
        "    except OSError:\n"
        "        break\n",
    ),
    "cpu_seconds": (
        "CPU: 2 processes spinning",
        "import multiprocessing\n"
        "def spin():\n"
        "    while True:\n"
        "        pass\n"
        "ps = [multiprocessing.Process(target=spin) for _ in range(2)]\n"
        "for p in ps:\n"
        "    p.start()\n"
        "spin()\n",
    ),
}


def start_time() -> float:
    started = time.perf_counter()
    with SandboxedSubmission([Cell(1, DEFINE_F)]) as submission:
        submission.run()
        submission.call("f", 1)
        elapsed = time.perf_counter() - started
    return elapsed


def bare_bwrap_time() -> float:
    argv = [sandbox.bubblewrap(), "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent",
            sys.executable, "-I", "-c", "import numpy"]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    print(f"jail mode: {sandbox.jail_mode()}; cgroups: {sandbox._cgroup_controllers() or 'none'}")
    if sandbox.bubblewrap():
        jail, bare = [], []
        for _ in range(args.repeats):
            jail.append(start_time())
            bare.append(bare_bwrap_time())
        j, b = statistics.median(jail), statistics.median(bare)
        print(f"sandbox start to first answer: {j * 1000:.0f} ms (median of {args.repeats}); "
              f"bare bubblewrap + python + numpy: {b * 1000:.0f} ms; ratio {j / b:.2f}")  # fmt: skip
    print(f"\n{'probe':38} {'limit':>10} {'most used':>10}  stopped")
    for key, (label, cell) in PROBES.items():
        name = key.split()[0]
        started = time.perf_counter()
        with SandboxedSubmission([Cell(1, cell), Cell(2, DEFINE_F)], LIMITS) as submission:
            submission.run()
            try:
                answered = submission.call("f", 1) == 2
            except Unavailable:  # a budget of the whole grading (CPU time) is spent
                answered = False
            peak = submission.jail.peaks.get(name, 0)
            hit = name in submission.jail.hits
        limit = getattr(LIMITS, name)
        unit = (lambda v: f"{v / MiB:.0f} MiB") if name.endswith("bytes") else (lambda v: f"{v:g}")
        print(f"{label:38} {unit(limit):>10} {unit(peak):>10}  {'yes' if hit else 'no':3}  "
              f"(then graded on: {answered}; {time.perf_counter() - started:.1f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
