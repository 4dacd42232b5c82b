"""The sandbox: what the student's code can and cannot reach."""

import os
import socket
from pathlib import Path

import pytest

from autograder import sandbox
from autograder.notebook import Cell
from autograder.sandboxed import SandboxedSubmission

ROOT = Path(__file__).resolve().parents[1]

needs_bubblewrap = pytest.mark.skipif(
    sandbox.bubblewrap() is None and os.environ.get("CI") != "true",
    reason="bubblewrap is not installed (make test installs it where it can)",
)


def _probe(source: str):
    """Run ``source`` (which defines ``probe()``) in the sandbox and return probe()."""
    with SandboxedSubmission([Cell(1, source)]) as submission:
        submission.run()
        return submission.call("probe"), submission


def test_bubblewrap_is_used_in_ci():
    """CI installs bubblewrap; grading there must really be sandboxed."""
    if os.environ.get("CI") == "true":
        assert sandbox.bubblewrap() is not None


@needs_bubblewrap
def test_course_files_are_invisible():
    secrets = [
        ROOT / "solutions",
        ROOT / "source",
        ROOT / "autograder" / "checks",
        ROOT / "autograder" / "checks" / "common.py",
        ROOT / "tests",
        ROOT / "nbgrader_config.py",
        Path(sandbox.PACKAGE_DIR) / "scoring.py",
    ]
    source = "import os\ndef probe(paths):\n    return [os.path.exists(p) for p in paths]\n"
    with SandboxedSubmission([Cell(1, source)]) as submission:
        submission.run()
        seen = submission.call("probe", [str(p) for p in secrets])
    assert seen == [False] * len(secrets)


@needs_bubblewrap
def test_only_its_own_folder_is_writable():
    source = (
        "import os\n"
        "def probe():\n"
        "    results = {}\n"
        "    for path in ['/submission/ok.txt', '/usr/evil', '/etc/evil', '/opt/autograder-child/x']:\n"
        "        try:\n"
        "            open(path, 'w').write('x'); results[path] = True\n"
        "        except OSError:\n"
        "            results[path] = False\n"
        "    return results\n"
    )
    results, _ = _probe(source)
    assert results == {
        "/submission/ok.txt": True,
        "/usr/evil": False,
        "/etc/evil": False,
        "/opt/autograder-child/x": False,
    }


@needs_bubblewrap
def test_no_network():
    source = (
        "import socket\n"
        "def probe():\n"
        "    try:\n"
        "        socket.create_connection(('127.0.0.1', %d), timeout=2)\n"
        "        return 'connected'\n"
        "    except OSError as error:\n"
        "        return type(error).__name__\n"
    )
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    try:
        result, _ = _probe(source % server.getsockname()[1])
    finally:
        server.close()
    assert result != "connected"


@needs_bubblewrap
def test_the_grader_process_is_invisible():
    source = "import os\ndef probe():\n    return sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
    pids, submission = _probe(source)
    # Its own process namespace: a handful of small pids, none of the grader's.
    assert max(pids) < 50
    assert submission.sandboxed


def test_without_bubblewrap_it_still_grades_and_says_so(monkeypatch):
    monkeypatch.setattr(sandbox, "bubblewrap", lambda: None)
    result, submission = _probe("def probe():\n    return 42\n")
    assert result == 42
    assert not submission.sandboxed
    assert sandbox.NO_SANDBOX_WARNING in submission.notes()


def test_environment_holds_no_grader_secrets(monkeypatch):
    monkeypatch.setenv("GRADER_TOKEN", "secret")
    source = "import os\ndef probe():\n    return dict(os.environ)\n"
    env, _ = _probe(source)
    assert "GRADER_TOKEN" not in env
    assert "AUTOGRADER_FDS" not in env


def test_python_below_tmp_stays_visible(monkeypatch):
    """A checkout under /tmp (as CI's may be): the private /tmp must not hide its Python."""
    monkeypatch.setattr(sandbox, "bubblewrap", lambda: "/usr/bin/bwrap")
    monkeypatch.setattr(sandbox, "_python_roots", lambda: [Path("/tmp/checkout/.venv")])
    jail = sandbox.Jail(sandbox.Limits())
    try:
        for fs_root in (None, Path("/tmp/jailfs")):
            argv = jail._bwrap_argv(fs_root)
            tmp = [i for i, arg in enumerate(argv) if arg == "/tmp" and argv[i - 1] != "--ro-bind"]
            venv = argv.index("/tmp/checkout/.venv")
            assert len(tmp) == 1 and tmp[0] < venv
    finally:
        jail.close()
