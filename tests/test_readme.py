"""The README's commands: every ``sh`` block runs as written, in order, in a scratch course.

The instructor's guide in README.md takes a course from set-up to Gradescope. Each
``sh`` block either runs here or is marked, on the line right before it, with
``<!-- not run: <why> -->``; commands that need the network, root or a GPU belong in
``text`` blocks. The run happens in a scratch copy of the repository (its tracked and
untracked files, as a clone of the working tree would hold them) with a ``HOME`` of its
own and nbgrader's exchange in the scratch folder. A block that starts a Jupyter server
(formgrader) is started, polled until formgrader answers over HTTP, and stopped.
"""

from __future__ import annotations

import csv
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

README = ROOT / "README.md"
BIN = Path(sys.executable).parent
#: A fenced block: its language and its text.
FENCE = re.compile(r"^```(?P<lang>[\w-]*)\n(?P<source>.*?)^```[ \t]*$", re.M | re.S)
#: The mark of an ``sh`` block that is not run, on the line right before it.
NOT_RUN = re.compile(r"<!-- not run: (?P<reason>\S.*?) -->")
#: A block that starts a Jupyter server.
SERVER = re.compile(r"^jupyter (?:server|lab)\b", re.M)
#: The address a Jupyter server prints once it serves.
SERVED = re.compile(r"http://127\.0\.0\.1:(?P<port>\d+)/")
#: What may not appear in a block that runs: a placeholder (``<student>``, but not a
#: regular expression's ``(?P<name>...)``), optional arguments (``[--jobs N]``), the
#: network, root or a GPU.
FORBIDDEN = {
    "a placeholder": re.compile(r"(?<!\?P)<[A-Za-z_][\w -]*>|\[--"),
    "the network": re.compile(r"\b(?:pip3? install|apt-get|apt|curl|wget|git clone|git pull)\b"),
    "root": re.compile(r"\bsudo\b|/srv/"),
    "a GPU": re.compile(r"nvidia-smi|CUDA_VISIBLE_DEVICES|--gpus?\b"),
}
#: Seconds one block may take (a grading of two numpy submissions, on a busy machine).
BLOCK_TIMEOUT_S = 300
#: Seconds the Jupyter server may take to answer (it loads JupyterLab and nbgrader).
SERVER_TIMEOUT_S = 120
ASSIGNMENT = "gradient_descent"


@dataclass(frozen=True)
class Block:
    """A fenced block of the README."""

    line: int
    lang: str
    source: str
    not_run: str | None  # why it is not run, if it is marked so

    def __str__(self) -> str:
        return f"README.md:{self.line} ({self.lang or 'plain'} block)"


def readme_blocks(text: str) -> list[Block]:
    """Every fenced block of ``text``, in order, with its ``not run`` mark if it has one."""
    blocks = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip().splitlines()
        mark = NOT_RUN.fullmatch(before[-1].strip()) if before else None
        blocks.append(
            Block(
                line=text.count("\n", 0, match.start()) + 1,
                lang=match["lang"],
                source=match["source"],
                not_run=mark["reason"] if mark else None,
            )
        )
    return blocks


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))


def test_commands_are_in_sh_blocks_or_in_text_blocks():
    """No ``bash``/``shell``/``console`` block escapes the run: commands are ``sh`` or ``text``."""
    assert {block.lang for block in BLOCKS} <= {"", "sh", "text", "python"}, [
        str(block) for block in BLOCKS if block.lang not in ("", "sh", "text", "python")
    ]
    assert any(block.lang == "sh" and block.not_run is None for block in BLOCKS)


def test_every_not_run_mark_is_on_an_sh_block():
    text = README.read_text(encoding="utf-8")
    marks = len(NOT_RUN.findall(text))
    assert marks == sum(block.not_run is not None for block in BLOCKS)
    assert all(block.lang == "sh" for block in BLOCKS if block.not_run is not None)


def test_blocks_that_run_have_no_placeholder_network_root_or_gpu():
    found = [
        (str(block), what, pattern.search(block.source)[0])
        for block in BLOCKS
        if block.lang == "sh" and block.not_run is None
        for what, pattern in FORBIDDEN.items()
        if pattern.search(block.source)
    ]
    assert not found, found


def test_the_readme_writes_the_roster_it_imports():
    """The roster the guide imports is one the guide shows how to write."""
    run = "\n".join(b.source for b in BLOCKS if b.lang == "sh" and b.not_run is None)
    assert "cat > roster.csv" in run and "nbgrader db student import roster.csv" in run


# -- the run ----------------------------------------------------------------------
def scratch_course(root: Path) -> tuple[Path, dict[str, str]]:
    """A copy of the repository's working tree, and the environment its commands run in.

    The copy holds what a clone of the working tree would (tracked and untracked,
    not ignored files) and the kit's virtual environment by a link. ``HOME`` is in
    ``root``, and so is nbgrader's exchange (named in ``~/.jupyter/nbgrader_config.py``).
    """
    course, home, exchange = root / "course", root / "home", root / "exchange"
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (course / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, course / name)
    (course / ".venv").symlink_to(ROOT / ".venv")
    (home / ".jupyter").mkdir(parents=True)
    exchange.mkdir()
    (home / ".jupyter" / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.Exchange.root = {str(exchange)!r}\n"
    )
    # The server runs as whoever runs the tests (root in CI's container).
    (home / ".jupyter" / "jupyter_server_config.py").write_text(
        "c = get_config()\nc.ServerApp.allow_root = True\n"
    )
    env = {
        "PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "JUPYTER_TOKEN": secrets.token_hex(16),
        # The held-out data views are a per-machine cache: keep the machine's.
        "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache")),
    }
    if "PYTHONPATH" in os.environ:  # the kit under test, where it is not the installed one
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return course, env


def run_block(block: Block, course: Path, env: dict[str, str]) -> None:
    """Run one block in a shell of its own that stops at the first failing command."""
    done = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + block.source],
        cwd=course, env=env, capture_output=True, text=True, timeout=BLOCK_TIMEOUT_S,
    )  # fmt: skip
    assert done.returncode == 0, f"{block} failed:\n{block.source}\n{done.stdout}\n{done.stderr}"


def get(url: str, token: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, ""


def run_server(block: Block, course: Path, env: dict[str, str]) -> None:
    """Start the block's Jupyter server, wait until formgrader answers, and stop it."""
    server = subprocess.Popen(
        ["bash", "-c", "set -euo pipefail\n" + block.source],
        cwd=course, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    log: list[str] = []
    reader = threading.Thread(target=lambda: log.extend(server.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + SERVER_TIMEOUT_S
        port = None
        while port is None:
            assert server.poll() is None, f"{block}: the server stopped:\n{''.join(log)}"
            assert time.monotonic() < deadline, f"{block}: no address printed:\n{''.join(log)}"
            served = [m for line in list(log) if (m := SERVED.search(line))]
            port = served[0]["port"] if served else None
            time.sleep(0.5)
        base, token = f"http://127.0.0.1:{port}", env["JUPYTER_TOKEN"]
        while True:
            status, body = get(f"{base}/formgrader/api/assignments", token)
            if status == 200:
                break
            assert time.monotonic() < deadline, f"{block}: formgrader answers {status}"
            time.sleep(0.5)
        assert ASSIGNMENT in body  # formgrader reads the course's gradebook
        status, page = get(f"{base}/formgrader/manage_assignments", token)
        assert status == 200 and "formgrader" in page.lower()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        reader.join(timeout=5)


def grade_rows(course: Path) -> dict[str, dict[str, str]]:
    """``nbgrader export``'s rows of the assignment, by student."""
    with open(course / "grades.csv", newline="") as grades:
        return {
            row["student_id"]: row
            for row in csv.DictReader(grades)
            if row["assignment"] == ASSIGNMENT
        }


@pytest.mark.slow
def test_every_command_of_the_readme_runs_in_order(tmp_path):
    course, env = scratch_course(tmp_path)
    started = time.monotonic()
    seconds = {}
    for block in BLOCKS:
        if block.lang != "sh" or block.not_run is not None:
            continue
        begun = time.monotonic()
        (run_server if SERVER.search(block.source) else run_block)(block, course, env)
        seconds[block.line] = time.monotonic() - begun
    print(f"ran {len(seconds)} sh blocks of README.md in {time.monotonic() - started:.0f} s:")
    print(", ".join(f"line {line} {s:.0f} s" for line, s in seconds.items()))
    home = Path(env["HOME"])

    # What the guide says became of ada (exchange, on time) and ben (late, no exchange).
    rows = grade_rows(course)
    assert set(rows) == {"ada", "ben"}
    assert rows["ada"]["first_name"] == "Ada" and rows["ben"]["last_name"] == "Okri"
    columns = ("raw_score", "late_submission_penalty", "score", "max_score")
    ada, ben = ({k: float(rows[s][k]) for k in columns} for s in ("ada", "ben"))
    assert ada["raw_score"] == ada["score"] == ada["max_score"] > 0
    assert ada["late_submission_penalty"] == 0
    assert ben["raw_score"] == ben["late_submission_penalty"] == ben["max_score"]
    assert ben["score"] == 0
    assert rows["ben"]["timestamp"].startswith("2030-02-01 09:00:00")
    for student in ("ada", "ben"):
        assert (course / "autograded" / student / ASSIGNMENT / "results.json").is_file()
    # ada fetched nbgrader's page through the exchange; ben has the kit's page
    (fetched,) = (home / "ada" / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html")
    assert "test_gradient_descent" in fetched.read_text()
    page = (course / "feedback" / "ben" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    text = re.sub(r"<[^>]+>", "", page)
    assert re.search(r"\b(\d+) / \1 points\b", text), "the kit's page gives ben full marks"
    assert "def test_" not in page
    assert (course / f"gradescope_{ASSIGNMENT}.zip").is_file()
    # The class report: ben late, with the penalty the course's rule gave him; ada on time.
    report = (course / "reports" / ASSIGNMENT / "index.html").read_text()
    late = report.split("late by")[1].split("</table>")[0]
    assert "ben" in late and "ada" not in late
    assert f">{ben['late_submission_penalty']:g}<" in late
    assert (course / "reports" / ASSIGNMENT / "checks.csv").read_text().startswith("check,")
