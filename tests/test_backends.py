"""The backend a run grades with, and the prepared GPU run, on whichever backend this is.

``make test`` runs the whole suite on TensorFlow, then the quick backend suite (see
``tests/conftest.py``) on JAX in a virtual environment of its own that holds no
TensorFlow; ``make test-backends`` runs the full backend suite on each of the three.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from autograder import devices
from tests.conftest import ROOT


def test_the_backend_is_installed_and_alone_where_the_environment_says_so():
    backend = devices.backend()
    installed = devices.installed_backends()
    assert backend in installed
    if os.environ.get("AUTOGRADER_ONE_BACKEND") == "1":
        assert installed == [backend], "this environment should hold one backend only"


@pytest.mark.slow
def test_the_prepared_gpu_run_grades_on_the_cpu_and_prints_its_figures(tmp_path):
    process = subprocess.run(
        [str(ROOT / "benchmarks" / "gpu_grade.sh"), "--device", "cpu",
         "--assignments", "activations", "--class-size", "3", "--jobs", "2",
         "--course", str(tmp_path / "course")],
        capture_output=True, text=True, timeout=900,
        env={**os.environ, "PYTHON": sys.executable},
    )  # fmt: skip
    out = process.stdout
    assert process.returncode == 0, out + process.stderr
    backend = devices.backend()
    assert f"backend: {backend} {devices.version_of(backend)}" in out
    assert "GPUs: none, grading on the CPU" in out
    assert re.search(r"^activations +37 / 37 +[\d.]+  \w+ on cpu$", out, re.M), out
    assert f"{backend} on cpu" in out
    assert "whole course:" in out and "target on one H100-class GPU: 60 s" in out
    assert "A class of 3 submissions" in out and "every kind scored as expected" in out
    graded = list((tmp_path / "course" / "autograded").glob("*/activations/results.json"))
    assert len(graded) == 3  # honest, partly done and mistaken work
