"""The gradebook on a real PostgreSQL server, started by the test (where one is installed).

CI installs Debian's `postgresql` (see the Makefile); elsewhere, without a server
binary, the same concurrency test runs on sqlite in tests/test_batch.py.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_batch import CLI_LIMITS, EXPECTED, gradebook_dump, make_course, scores_by_submission

pytestmark = pytest.mark.slow


def _server_binaries() -> Path | None:
    for pattern in ("/usr/lib/postgresql/*/bin",):
        for folder in sorted(glob.glob(pattern), reverse=True):
            if os.path.exists(os.path.join(folder, "initdb")):
                return Path(folder)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    """A throw-away PostgreSQL cluster on 127.0.0.1; its URL."""
    pytest.importorskip("psycopg")
    binaries = _server_binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL server installed (make test installs one where it can)")
    # Not under pytest's tmp folder: as root that is private to root, and the
    # server must run as another user (initdb refuses to run as root).
    scratch = Path(tempfile.mkdtemp(prefix="autograder-pg-"))
    data = scratch / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(scratch, "postgres")
    port = _free_port()
    subprocess.run(
        [*as_user, str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    subprocess.run(
        [*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-w", "-l", str(data / "log"),
         "-o", f"-p {port} -h 127.0.0.1 -k {data}", "start"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    try:
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        deadline = time.monotonic() + 30
        import psycopg

        while True:
            try:
                psycopg.connect(url).close()
                break
            except psycopg.OperationalError:
                assert time.monotonic() < deadline
                time.sleep(0.3)
        yield url
    finally:
        subprocess.run(
            [*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True, timeout=60,
        )  # fmt: skip
        shutil.rmtree(scratch, ignore_errors=True)


def test_two_graders_on_postgresql_lose_no_grade(tmp_path, postgres_url):
    course = make_course(tmp_path, f"\nc.CourseDirectory.db_url = {postgres_url!r}\n")
    graders = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "autograder",
                "grade",
                str(course / "submitted"),
                "--assignment",
                assignment,
                "--jobs",
                "1",
                *CLI_LIMITS,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )  # fmt: skip
        for assignment in ("activations", "backprop")
    ]
    for grader in graders:
        assert grader.wait(timeout=600) == 0, grader.stderr.read()
    assert scores_by_submission(gradebook_dump(course)) == EXPECTED
    assert not (course / "gradebook.db").exists()
