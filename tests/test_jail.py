"""The jail: what a hostile cell can do to the grading machine, and the limits on the whole sandbox.

Each attack is a notebook cell named for what must happen to it
(``cannot_write_host_sysctl``, ``stays_within_memory_across_processes``, ...),
run in a real sandbox with small limits; after it, a function defined in the
notebook must still answer, the machine's state must be unchanged and nothing
the sandbox made may be left running or on disk. The sizes here are hundreds
of MB at most; ``benchmarks/jail_limits.py`` runs the heavy variants.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from autograder import monitor, sandbox
from autograder.notebook import Cell
from autograder.sandboxed import SandboxedSubmission
from autograder.submission import Unavailable

MiB = 1024**2
ROOT_JAIL = sandbox.jail_mode() == "jail"
needs_root_jail = pytest.mark.skipif(
    not ROOT_JAIL and os.environ.get("CI") != "true",
    reason="the grader is not root here, or the machine allows no mount namespaces",
)
needs_sandbox = pytest.mark.skipif(
    sandbox.jail_mode() == "none" and os.environ.get("CI") != "true",
    reason="bubblewrap is not installed (make test installs it where it can)",
)
pytestmark = needs_sandbox

#: What every attack notebook defines after its attack, to show the grading goes on.
DEFINE_F = "def f(x):\n    return x + 1\n"

SMALL = sandbox.Limits(
    memory_bytes=256 * MiB,
    disk_bytes=64 * MiB,
    processes=64,
    cpu_seconds=60,
    cell_timeout=20,
    call_timeout=10,
    notebook_timeout=60,
)


def _run(*sources: str, limits: sandbox.Limits = SMALL) -> SandboxedSubmission:
    submission = SandboxedSubmission([Cell(i + 1, s) for i, s in enumerate(sources)], limits)
    submission.run()
    return submission


def _sandbox_pids_of(uid: int) -> list[int]:
    """Living processes (not zombies, which hold nothing) of the host uid ``uid``."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid != uid:
                    continue
                with open(f"/proc/{name}/stat", "rb") as handle:
                    data = handle.read()
            except OSError:
                continue
            if data[data.rindex(b")") + 2 :][:1] != b"Z":
                found.append(int(name))
    return found


def _assert_left_nothing(submission: SandboxedSubmission) -> None:
    jail = submission.jail
    folder, uid, groups = jail.dir, jail.uid, list(jail.cgroups)
    submission.close()
    assert not folder.exists()
    assert not any(group.exists() for group in groups)
    if jail.mode == "jail":
        assert monitor.wait_gone(_sandbox_pids_of(uid), 5)


#: Files of the system that only root may read (the shadow files among them).
_ROOT_ONLY_FILES = sorted(
    str(p)
    for p in Path("/etc").rglob("*")
    if p.is_file() and not p.is_symlink() and p.stat().st_mode & 0o044 == 0
)[:50]
SYSCTLS = ("vm/swappiness", "kernel/domainname", "vm/overcommit_memory", "net/core/somaxconn")

ATTACKS = {
    "cannot_write_host_sysctl": (
        "import os, subprocess\n"
        "written = []\n"
        f"for name in {SYSCTLS!r}:\n"
        "    path = '/proc/sys/' + name\n"
        "    try:\n"
        "        with open(path, 'w') as handle:\n"
        "            handle.write('1')\n"
        "        written.append(path)\n"
        "    except OSError:\n"
        "        pass\n"
        "    subprocess.run(['sh', '-c', f'echo 1 > {path}'], capture_output=True)\n"
        "def probe():\n"
        "    return written\n"
    ),
    "cannot_read_host_secrets": (
        "import os\n"
        "def probe():\n"
        "    seen = []\n"
        f"    for path in {_ROOT_ONLY_FILES!r}:\n"
        "        try:\n"
        "            open(path, 'rb').read(1)\n"
        "            seen.append(path)\n"
        "        except OSError:\n"
        "            pass\n"
        "    return seen\n"
    ),
    "cannot_exec_from_working_folder": (
        "import os, shutil, subprocess\n"
        "def probe():\n"
        "    ran = []\n"
        "    for folder in ('/submission', '/tmp', '/dev/shm'):\n"
        "        target = os.path.join(folder, 'tool')\n"
        "        shutil.copy('/bin/true', target)\n"
        "        os.chmod(target, 0o755)\n"
        "        try:\n"
        "            subprocess.run([target], check=True)\n"
        "            ran.append(folder)\n"
        "        except OSError:\n"
        "            pass\n"
        "    return ran\n"
    ),
    "cannot_regain_privileges": (
        "import ctypes, os\n"
        "def probe():\n"
        "    libc = ctypes.CDLL(None, use_errno=True)\n"
        "    gained = []\n"
        "    if libc.unshare(0x10000000) == 0:  # CLONE_NEWUSER\n"
        "        gained.append('user namespace')\n"
        "    for uid in (0,):\n"
        "        try:\n"
        "            os.setuid(uid)\n"
        "            gained.append('setuid')\n"
        "        except OSError:\n"
        "            pass\n"
        "    status = open('/proc/self/status').read()\n"
        "    caps = [l for l in status.splitlines() if l.startswith('CapEff')][0].split()[1]\n"
        "    if int(caps, 16):\n"
        "        gained.append('capabilities')\n"
        "    if 'NoNewPrivs:\\t1' not in status:\n"
        "        gained.append('new privileges allowed')\n"
        "    return gained\n"
    ),
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_finds_nothing_and_grading_goes_on(name):
    before = {n: Path("/proc/sys", n).read_text() for n in SYSCTLS if Path("/proc/sys", n).exists()}
    submission = _run(ATTACKS[name], DEFINE_F)
    try:
        assert submission.call("probe") == []
        assert submission.call("f", 1) == 2
    finally:
        _assert_left_nothing(submission)
    after = {n: Path("/proc/sys", n).read_text() for n in before}
    assert after == before


def test_a_sysctl_attempt_is_flagged_and_honest_work_is_not():
    attack = _run(ATTACKS["cannot_write_host_sysctl"], DEFINE_F)
    honest = _run(DEFINE_F, "import numpy as np\nx = np.ones(3)\n")
    try:
        assert any(flag["kind"] == "sysctl" for flag in attack.flags)
        assert honest.call("f", 1) == 2
        assert honest.flags == []
    finally:
        attack.close()
        honest.close()


@needs_root_jail
def test_each_sandbox_runs_as_a_host_uid_of_its_own():
    probe = "import os\ndef probe():\n    return os.getuid()\n"
    first, second = _run(probe), _run(probe)
    try:
        uids = {first.jail.uid, second.jail.uid}
        assert len(uids) == 2 and 0 not in uids
        # The host sees the child's processes under that uid.
        assert _sandbox_pids_of(first.jail.uid)
        assert first.call("probe") == first.jail.uid
    finally:
        first.close()
        second.close()


def test_cannot_signal_another_submission():
    victim = _run("import os\ndef probe():\n    return os.getpid()\n", DEFINE_F)
    attacker = _run(
        "import os, signal\n"
        "def probe():\n"
        "    hit = 0\n"
        "    for pid in range(1, 4096):\n"
        "        if pid == os.getpid():\n"
        "            continue\n"
        "        try:\n"
        "            os.kill(pid, signal.SIGKILL)\n"
        "            hit += 1\n"
        "        except OSError:\n"
        "            pass\n"
        "    return hit\n"
    )
    try:
        assert attacker.call("probe") == 0
        assert victim.call("f", 1) == 2
    finally:
        attacker.close()
        victim.close()


MEMORY_ACROSS_PROCESSES = (
    "import multiprocessing, time\n"
    "def hold(n):\n"
    "    block = bytearray(n)\n"
    "    for i in range(0, n, 4096):\n"
    "        block[i] = 1\n"
    "    time.sleep(30)\n"
    "workers = [multiprocessing.Process(target=hold, args=(150 * 2**20,)) for _ in range(3)]\n"
    "for w in workers:\n"
    "    w.start()\n"
    "time.sleep(15)\n"
)


def test_stays_within_memory_across_processes():
    """Three processes of 150 MB each under a 256 MB limit: the sandbox is stopped."""
    submission = _run(MEMORY_ACROSS_PROCESSES, DEFINE_F)
    try:
        assert submission.call("f", 1) == 2
        notes = "\n".join(submission.notes())
        assert "The cell starting `import multiprocessing, time`" in notes and "memory" in notes
        assert "memory_bytes" in submission.jail.hits
        assert any(flag["kind"] == "limit" for flag in submission.flags)
        # The monitor stopped it within one look of the limit (one 150 MB step more at most).
        assert submission.jail.peaks["memory_bytes"] < SMALL.memory_bytes + 200 * MiB
    finally:
        _assert_left_nothing(submission)


@pytest.mark.parametrize("folder", ["/tmp", "/dev/shm"])
def test_stays_within_memory_in_tmpfs(folder):
    """Files in tmpfs are memory: 200 MB there plus 100 MB in the process exceed 256 MB."""
    cell = (
        "import time\n"
        "ballast = bytearray(100 * 2**20)\n"
        "for i in range(0, len(ballast), 4096):\n"
        "    ballast[i] = 1\n"
        "for k in range(4):\n"
        f"    with open('{folder}/fill%d' % k, 'wb') as handle:\n"
        "        handle.write(b'x' * (50 * 2**20))\n"
        "time.sleep(15)\n"
    )
    limits = sandbox.Limits(**{**SMALL.as_dict(), "disk_bytes": 512 * MiB})
    submission = _run(cell, DEFINE_F, limits=limits)
    try:
        assert submission.call("f", 1) == 2
        assert "memory_bytes" in submission.jail.hits
        assert "memory" in "\n".join(submission.notes())
    finally:
        _assert_left_nothing(submission)


def test_stays_within_its_disk():
    """The working folder and /tmp hold at most the disk limit; nothing lands on the host."""
    cell = (
        "import errno\n"
        "written = 0\n"
        "try:\n"
        "    with open('/submission/big', 'wb') as handle:\n"
        "        for _ in range(100):\n"
        "            handle.write(b'x' * 2**20)\n"
        "            handle.flush()\n"
        "            written += 2**20\n"
        "except OSError:\n"
        "    pass\n"
        "def probe():\n"
        "    return written\n"
    )
    submission = _run(cell, DEFINE_F)
    try:
        if submission.jail.mode == "jail":
            assert submission.call("probe") <= SMALL.disk_bytes
        else:  # separate tmpfs mounts: the monitor stops the sandbox over the sum
            assert submission.call("f", 1) == 2
        assert submission.jail.peaks["disk_bytes"] <= SMALL.disk_bytes + 4 * MiB
        assert not any(submission.jail.dir.rglob("big"))
    finally:
        _assert_left_nothing(submission)


def test_stays_within_the_process_limit():
    """600 processes under a limit of 64: the fork fails, the machine never sees 600."""
    cell = (
        "import os, time\n"
        "children = []\n"
        "for _ in range(600):\n"
        "    try:\n"
        "        pid = os.fork()\n"
        "    except OSError:\n"
        "        break\n"
        "    if pid == 0:\n"
        "        time.sleep(20)\n"
        "        os._exit(0)\n"
        "    children.append(pid)\n"
        "started = len(children)\n"
        "def probe():\n"
        "    return started\n"
    )
    submission = _run(cell, DEFINE_F)
    try:
        started = submission.call("probe")
        assert started < SMALL.processes
        assert submission.jail.peaks["processes"] <= SMALL.processes
        # The processes it left running were stopped before the checks.
        assert submission.strays > 0
        assert "background process" in "\n".join(submission.notes())
    finally:
        _assert_left_nothing(submission)


def test_busy_background_processes_stop_before_the_checks():
    cell = (
        "import subprocess, sys\n"
        "burner = subprocess.Popen([sys.executable, '-c', 'while True: pass'])\n"
    )
    submission = _run(cell, DEFINE_F)
    try:
        assert submission.strays == 1
        used = submission.jail.cpu_seconds()
        time.sleep(1.0)
        assert submission.call("f", 1) == 2
        assert submission.jail.cpu_seconds() - used < 0.5
    finally:
        _assert_left_nothing(submission)


def test_stays_within_cpu_time():
    cell = "while True:\n    pass\n"
    limits = sandbox.Limits(**{**SMALL.as_dict(), "cpu_seconds": 2.0})
    started = time.monotonic()
    submission = _run(cell, DEFINE_F, limits=limits)
    try:
        assert time.monotonic() - started < SMALL.cell_timeout
        assert "cpu_seconds" in submission.jail.hits
        assert "CPU time" in "\n".join(submission.notes())
    finally:
        _assert_left_nothing(submission)


def test_the_checks_have_one_time_budget():
    """Calls that each take just under the call limit cannot keep the grader for ever."""
    slow = "import time\ndef f(x):\n    time.sleep(0.8)\n    return x + 1\n"
    limits = sandbox.Limits(**{**SMALL.as_dict(), "call_timeout": 1.0, "check_timeout": 3.0})
    submission = _run(slow, limits=limits)
    started = time.monotonic()
    answered = 0
    try:
        with pytest.raises(Unavailable, match="time for checking"):
            for _ in range(20):
                submission.call("f", 1)
                answered += 1
        assert 1 <= answered <= 4
        assert time.monotonic() - started < 3.0 + 1.0 + 5.0
        # Later calls fail at once with the same message.
        with pytest.raises(Unavailable, match="time for checking"):
            submission.call("f", 1)
    finally:
        _assert_left_nothing(submission)


def test_a_killed_grader_leaves_nothing_behind(tmp_path):
    """SIGKILL of the grader takes its sandbox with it; the next grader sweeps its folder."""
    script = tmp_path / "grader.py"
    script.write_text(
        "import sys, time\n"
        "from autograder.notebook import Cell\n"
        "from autograder.sandboxed import SandboxedSubmission\n"
        "s = SandboxedSubmission([Cell(1, 'import time\\ntime.sleep(600)')])\n"
        "print(s.jail.dir, s.jail.uid, flush=True)\n"
        "s.run()\n"
    )
    grader = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    folder, uid = grader.stdout.readline().split()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not list(Path(folder).glob("child*.log")):
        time.sleep(0.1)
    time.sleep(1.0)
    children = monitor.descendants(grader.pid)
    assert len(children) > 1
    grader.send_signal(signal.SIGKILL)
    grader.wait()
    assert monitor.wait_gone(children, 10), "the sandbox outlived its grader"
    assert Path(folder).exists()
    assert sandbox.sweep_leftovers(min_age=0) >= 1
    assert not Path(folder).exists()
    name = Path(folder).name
    for controller in sandbox._cgroup_controllers():
        assert not (sandbox.CGROUP_V1 / controller / sandbox.CGROUP_PARENT / name).exists()
    if ROOT_JAIL:
        assert _sandbox_pids_of(int(uid)) == []


def test_results_say_each_limit_and_what_was_used():
    submission = _run(DEFINE_F)
    try:
        submission.call("f", 1)
        report = submission.jail.report()
    finally:
        submission.close()
    assert set(report["limits"]) == set(sandbox.Limits().as_dict())
    for name in ("memory_bytes", "processes", "cpu_seconds", "disk_bytes"):
        entry = report["limits"][name]
        assert 0 <= entry["used"] <= entry["limit"]
    assert report["limits_hit"] == []


def test_user_mode_sizes_its_tmpfs_and_says_so(monkeypatch):
    """Where the grader is not root: bubblewrap's own sized tmpfs mounts, and a note."""
    monkeypatch.setattr(sandbox, "jail_mode", lambda: "user")
    probe = (
        "import os\n"
        "def probe():\n"
        "    return [os.statvfs(p).f_blocks * os.statvfs(p).f_frsize\n"
        "            for p in ('/tmp', '/dev/shm', '/submission')]\n"
    )
    submission = _run(probe)
    try:
        assert submission.jail.mode == "user"
        assert submission.call("probe") == [SMALL.disk_bytes] * 3
        assert sandbox.USER_MODE_NOTE in submission.notes()
    finally:
        _assert_left_nothing(submission)


# -- whole gradings: the attack never scores above the honest notebook without it ---------
CLI_LIMITS = ["--memory-gb", "0.25", "--disk-mb", "64", "--processes", "64",
              "--cpu-seconds", "40", "--cell-timeout", "20"]  # fmt: skip
CLI_ATTACKS = {
    **ATTACKS,
    "stays_within_memory_across_processes": MEMORY_ACROSS_PROCESSES,
    "stays_within_memory_in_tmpfs": (
        "for k in range(8):\n"
        "    with open('/dev/shm/fill%d' % k, 'wb') as handle:\n"
        "        handle.write(b'x' * (50 * 2**20))\n"
    ),
    "stays_within_the_process_limit": (
        "import os, time\n"
        "for _ in range(600):\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(20)\n"
        "            os._exit(0)\n"
        "    except OSError:\n"
        "        break\n"
    ),
    "stops_busy_background_processes": (
        "import subprocess, sys\n"
        "for _ in range(2):\n"
        "    subprocess.Popen([sys.executable, '-c', 'while True: pass'])\n"
    ),
}


@pytest.fixture(scope="module")
def honest_partial(tmp_path_factory):
    """The score of the activations solution with one function broken, under CLI_LIMITS."""
    from tests.test_cheats import BROKEN_DEFINITION, _notebook

    path = _notebook(tmp_path_factory.mktemp("honest"), "solutions", [BROKEN_DEFINITION], "honest")
    return _grade_cli(path, tmp_path_factory.mktemp("honest-results"))["score"]


def _grade_cli(path: Path, out: Path) -> dict:
    import json

    results = out / "results.json"
    process = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(path), "--assignment", "activations",
         "--results", str(results), *CLI_LIMITS],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    return json.loads(results.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CLI_ATTACKS))
def test_an_attack_scores_no_more_than_the_honest_notebook(tmp_path, name, honest_partial):
    from tests.test_cheats import BROKEN_DEFINITION, _notebook

    sysctls = {
        n: Path("/proc/sys", n).read_text() for n in SYSCTLS if Path("/proc/sys", n).exists()
    }
    jails_before = set(Path(tempfile.gettempdir()).glob(sandbox.TMP_PREFIX + "*"))
    path = _notebook(tmp_path, "solutions", [BROKEN_DEFINITION, CLI_ATTACKS[name]], name)
    document = _grade_cli(path, tmp_path)
    assert 0 < honest_partial and document["score"] <= honest_partial
    assert {n: Path("/proc/sys", n).read_text() for n in sysctls} == sysctls
    assert set(Path(tempfile.gettempdir()).glob(sandbox.TMP_PREFIX + "*")) <= jails_before
