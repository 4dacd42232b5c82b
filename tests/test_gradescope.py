"""The Gradescope bundle: its layout, its scripts, and a simulated Gradescope run."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from autograder import gradescope, registry
from autograder.gradescope import build_bundle
from autograder.registry import assignment_ids

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "gradient_descent"
AUTOGRADER = Path(sys.executable).parent / "autograder"
ASSIGNMENTS = registry.assignment_ids()


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
    python = root / "venv" / "bin" / "python"  # this venv's interpreter, as setup.sh's would be
    python.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
    python.chmod(0o755)
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


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_bundle_holds_the_files_the_registry_lists_and_only_its_checks(tmp_path, assignment):
    path = build_bundle(assignment, tmp_path)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
    entry = registry.assignment(assignment)
    package = {f"kit/{registry.REGISTRY.relative_name(p)}" for p in entry.files()}
    assert names == {"setup.sh", "run_autograder", "kit/pyproject.toml", "kit/README.md"} | package
    assert {
        "kit/autograder/__init__.py",
        "kit/autograder/cli.py",
        "kit/autograder/child.py",
        "kit/autograder/sandbox.py",
        "kit/autograder/registry.py",
        "kit/autograder/tasks/__init__.py",
    } <= names
    checks = {name for name in names if name.startswith("kit/autograder/checks/")}
    helpers = {f"kit/autograder/checks/{p.name}" for p in entry.helpers}
    assert checks == {
        "kit/autograder/checks/__init__.py",
        f"kit/autograder/checks/{assignment}.py",
        *helpers,
    }
    assert "kit/autograder/checks/common.py" in helpers
    if assignment in ("cnn", "autoencoder"):
        assert "kit/autograder/checks/_digits.py" in helpers
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)
    assert not any(
        name.startswith(("kit/tests/", "kit/solutions/", "kit/source/")) for name in names
    )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_bundle_knows_only_its_assignment(tmp_path, assignment):
    with zipfile.ZipFile(build_bundle(assignment, tmp_path)) as archive:
        archive.extractall(tmp_path)
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import autograder.registry as r; print(list(r.assignment_ids()))",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path / "kit")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == str([assignment])


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
    assert '"$KIT[${BACKEND:-tensorflow}]"' in setup  # a Keras backend, TensorFlow by default
    assert f'ASSIGNMENT="{ASSIGNMENT}"' in (tmp_path / "run_autograder").read_text()


def test_unknown_assignment_names_the_known_ones(tmp_path):
    with pytest.raises(ValueError) as error:
        build_bundle("no_such_assignment", tmp_path)
    for known in list(assignment_ids()):
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
    # written by the kit: every check of the assignment, each at 0 with the reason
    names = [test["name"] for test in results["tests"]]
    assert names == [check.name for check in registry.assignment(ASSIGNMENT).graded]
    assert results["max_score"] == registry.assignment(ASSIGNMENT).points
    assert all(t["score"] == 0 and "exit status 3" in t["output"] for t in results["tests"])


def _scratch_venv(venv: Path, kit: Path) -> None:
    """A stand-in for ``setup.sh``'s venv that runs the bundle's own copy of the kit.

    ``bin/python`` is this interpreter with only the bundle's ``kit/`` on
    ``PYTHONPATH`` (ahead of the repository's editable install), and
    ``bin/autograder`` is ``bin/python -m autograder``.
    """
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(
        "#!/bin/sh\n"
        f"PYTHONPATH={shlex.quote(str(kit))}\n"
        "export PYTHONPATH\n"
        f'exec {shlex.quote(sys.executable)} "$@"\n'
    )
    (venv / "bin" / "autograder").write_text(
        f'#!/bin/sh\nexec {shlex.quote(str(python))} -m autograder "$@"\n'
    )
    for script in ("python", "autograder"):
        (venv / "bin" / script).chmod(0o755)


def _grade_with_bundle(home: Path, bundle: Path, venv: Path, notebook: Path) -> dict:
    """Run the bundle's ``run_autograder`` on ``notebook``, every path in its own folder."""
    home.mkdir()
    submission, results, root = home / "submission", home / "results", home / "root"
    submission.mkdir()
    root.mkdir()
    shutil.copy(notebook, submission)
    env = {
        **os.environ,
        "AUTOGRADER_ROOT": str(root),
        "SUBMISSION_DIR": str(submission),
        "RESULTS_DIR": str(results),
        "VENV": str(venv),
    }
    env.pop("PYTHONPATH", None)
    started = time.monotonic()
    process = subprocess.run(
        ["bash", str(bundle / "run_autograder")],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert process.returncode == 0, process.stderr
    return {
        "results": json.loads((results / "results.json").read_text()),
        "seconds": time.monotonic() - started,
        "stderr": process.stderr[-3000:],
    }


@pytest.fixture(scope="module")
def every_bundle_graded(tmp_path_factory) -> dict:
    """Each assignment's bundle, extracted, grading its solution and its released notebook.

    Two gradings at a time, the Keras solutions (the longest) first.
    """
    scratch = tmp_path_factory.mktemp("every_bundle")
    setups, runs = {}, []
    for assignment in ASSIGNMENTS:
        home = scratch / assignment
        home.mkdir()
        bundle = home / "bundle"
        with zipfile.ZipFile(build_bundle(assignment, home)) as archive:
            archive.extractall(bundle)
        venv = home / "venv"
        _scratch_venv(venv, bundle / "kit")
        probe = subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-c",
                "import json, autograder, autograder.registry as r, autograder.scoring as s\n"
                "print(json.dumps([autograder.__file__, str(r.PACKAGE_DIR),"
                " list(r.assignment_ids())]))",
            ],
            cwd=home,
            capture_output=True,
            text=True,
            check=True,
        )
        setups[assignment] = json.loads(probe.stdout)
        for kind in ("solutions", "assignments"):
            notebook = ROOT / kind / assignment / f"{assignment}.ipynb"
            runs.append((assignment, kind, home / kind, bundle, venv, notebook))
    keras = {a for a in ASSIGNMENTS if registry.assignment(a).tasks}
    runs.sort(key=lambda run: (run[1] != "solutions", run[0] not in keras))
    with ThreadPoolExecutor(2) as pool:
        futures = {
            (assignment, kind): pool.submit(_grade_with_bundle, home, bundle, venv, notebook)
            for assignment, kind, home, bundle, venv, notebook in runs
        }
        graded = {key: future.result() for key, future in futures.items()}
    for (assignment, kind), run in graded.items():
        print(f"bundle of {assignment}, {kind}: graded in {run['seconds']:.1f} s")
    return {"setups": setups, "graded": graded, "scratch": scratch}


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_bundle_grades_with_its_own_kit(every_bundle_graded, assignment):
    """Solution: full marks; released notebook: 0; both graded by the bundle's copy of the kit."""
    module, package_dir, known = every_bundle_graded["setups"][assignment]
    kit = every_bundle_graded["scratch"] / assignment / "bundle" / "kit" / "autograder"
    assert Path(module) == kit / "__init__.py"
    assert Path(package_dir) == kit
    assert known == [assignment]
    solution = every_bundle_graded["graded"][(assignment, "solutions")]
    released = every_bundle_graded["graded"][(assignment, "assignments")]
    for run in (solution, released):
        results = run["results"]
        assert results["extra_data"]["assignment"] == assignment
        assert results["tests"] and results["max_score"] > 0, run
        assert "could not grade" not in results.get("output", ""), run
    assert solution["results"]["score"] == solution["results"]["max_score"], solution
    assert released["results"]["score"] == 0, released
    names = {test["name"] for test in solution["results"]["tests"]}
    assert names == {test["name"] for test in released["results"]["tests"]}


def test_main_says_where_the_bundle_is(tmp_path, capsys):
    assert gradescope.main(assignment=ASSIGNMENT, output=str(tmp_path / "gs.zip")) == 0
    assert str(tmp_path / "gs.zip") in capsys.readouterr().out
    assert zipfile.is_zipfile(tmp_path / "gs.zip")


def test_main_writes_into_a_folder_it_makes(tmp_path):
    """`--output gradescope/`: a folder that does not exist yet is made, the zip goes in it."""
    assert gradescope.main(assignment=ASSIGNMENT, output=f"{tmp_path / 'new'}/") == 0
    assert zipfile.is_zipfile(tmp_path / "new" / f"gradescope_{ASSIGNMENT}.zip")
