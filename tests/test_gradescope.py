"""The Gradescope bundle: its layout, its scripts, and a simulated Gradescope run."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder import gradescope
from autograder.gradescope import build_bundle
from autograder.scoring import available_assignments

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "gradient_descent"
AUTOGRADER = Path(sys.executable).parent / "autograder"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return build_bundle(ASSIGNMENT, tmp_path_factory.mktemp("bundle"))


def _gradescope(tmp_path: Path, bundle: Path) -> Path:
    """A fresh ``/autograder`` as Gradescope lays it out, the kit already installed."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    (root / "venv" / "bin").mkdir(parents=True)
    (root / "venv" / "bin" / "autograder").symlink_to(AUTOGRADER)
    (root / "submission").mkdir()
    return root


def _run_autograder(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "AUTOGRADER_ROOT": str(root)}
    for name in ("SUBMISSION_DIR", "RESULTS_DIR", "VENV"):
        env.pop(name, None)
    return subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],
        cwd=root / "source",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_bundle_has_the_scripts_at_its_root_executable(bundle):
    assert bundle.name == f"gradescope_{ASSIGNMENT}.zip"
    with zipfile.ZipFile(bundle) as archive:
        infos = {info.filename: info for info in archive.infolist()}
    for script in ("setup.sh", "run_autograder"):
        mode = infos[script].external_attr >> 16
        assert stat.S_ISREG(mode) and mode & 0o111 == 0o111, oct(mode)
    assert infos["kit/pyproject.toml"].external_attr >> 16 & 0o111 == 0


def test_bundle_holds_the_package_and_only_this_assignments_checks(bundle):
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
    assert {"kit/pyproject.toml", "kit/README.md", "kit/autograder/__init__.py"} <= names
    assert {
        "kit/autograder/cli.py",
        "kit/autograder/child.py",
        "kit/autograder/sandbox.py",
    } <= names
    checks = {name for name in names if name.startswith("kit/autograder/checks/")}
    assert checks == {
        "kit/autograder/checks/__init__.py",
        "kit/autograder/checks/common.py",
        f"kit/autograder/checks/{ASSIGNMENT}.py",
    }
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)
    assert not any(
        name.startswith(("kit/tests/", "kit/solutions/", "kit/source/")) for name in names
    )


def test_bundle_knows_only_its_assignment(tmp_path, bundle):
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(tmp_path)
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import autograder.scoring as s; print(s.available_assignments())",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path / "kit")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == str([ASSIGNMENT])


def test_bundle_is_the_same_bytes_every_time(tmp_path, bundle):
    again = build_bundle(ASSIGNMENT, tmp_path / "again.zip")
    assert again == tmp_path / "again.zip"
    assert again.read_bytes() == bundle.read_bytes()


def test_scripts_are_valid_bash(tmp_path, bundle):
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(tmp_path)
    for script in ("setup.sh", "run_autograder"):
        subprocess.run(["bash", "-n", str(tmp_path / script)], check=True)
        text = (tmp_path / script).read_text()
        assert text.startswith("#!/usr/bin/env bash\n")
        assert "__ASSIGNMENT__" not in text
    setup = (tmp_path / "setup.sh").read_text()
    assert "bubblewrap" in setup and "/source/kit" in setup
    assert f'ASSIGNMENT="{ASSIGNMENT}"' in (tmp_path / "run_autograder").read_text()


def test_unknown_assignment_names_the_known_ones(tmp_path):
    with pytest.raises(ValueError) as error:
        build_bundle("no_such_assignment", tmp_path)
    for known in available_assignments():
        assert known in str(error.value)
    assert list(tmp_path.iterdir()) == []


def test_empty_submission_scores_zero_with_a_message(tmp_path, bundle):
    root = _gradescope(tmp_path, bundle)
    process = _run_autograder(root)
    assert process.returncode == 0, process.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0
    assert "No notebook" in results["output"]


def test_two_notebooks_not_named_for_the_assignment_score_zero(tmp_path, bundle):
    root = _gradescope(tmp_path, bundle)
    for name in ('first "draft".ipynb', "second.ipynb"):
        (root / "submission" / name).write_text("{}")
    process = _run_autograder(root)
    assert process.returncode == 0, process.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0
    assert 'first "draft".ipynb' in results["output"] and "second.ipynb" in results["output"]


def test_grader_failure_scores_zero_with_a_message(tmp_path, bundle):
    root = _gradescope(tmp_path, bundle)
    (root / "venv" / "bin" / "autograder").unlink()
    (root / "venv" / "bin" / "autograder").write_text("#!/bin/sh\nexit 3\n")
    (root / "venv" / "bin" / "autograder").chmod(0o755)
    (root / "submission" / f"{ASSIGNMENT}.ipynb").write_text("{}")
    process = _run_autograder(root)
    assert process.returncode == 0, process.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0
    assert "could not grade" in results["output"] and "exit status 3" in results["output"]


@pytest.mark.slow
def test_solution_gets_full_marks_on_simulated_gradescope(tmp_path, bundle):
    root = _gradescope(tmp_path, bundle)
    shutil.copy(ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", root / "submission")
    process = _run_autograder(root)
    assert process.returncode == 0, process.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == results["max_score"] > 0, results
    assert results["extra_data"]["assignment"] == ASSIGNMENT


def test_main_says_where_the_bundle_is(tmp_path, capsys):
    assert gradescope.main(assignment=ASSIGNMENT, output=str(tmp_path / "gs.zip")) == 0
    assert str(tmp_path / "gs.zip") in capsys.readouterr().out
    assert zipfile.is_zipfile(tmp_path / "gs.zip")
