"""Devices: the backend the grader chooses, the GPUs it finds, and what a sandbox may reach.

No GPU is needed: the driver's ``/proc`` files, ``/dev`` and ``nvidia-smi`` are faked,
and the sandbox is run for real with a fake GPU's placement, so that its environment,
its device nodes, its memory limit and its out-of-memory message are what the grader
gives a sandbox on a GPU.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from autograder import devices, sandbox
from autograder.grade import placed
from autograder.notebook import Cell
from autograder.sandbox import Jail, Limits
from autograder.sandboxed import SandboxedSubmission
from tests.conftest import KERAS_ASSIGNMENTS

GIB = 2**30
H200 = devices.Gpu(0, "NVIDIA H200", minor=0, uuid="GPU-aaaa", memory_bytes=141 * GIB)
A100 = devices.Gpu(1, "NVIDIA A100", minor=3, uuid="GPU-bbbb", memory_bytes=80 * GIB)
FAST = Limits(cell_timeout=20, call_timeout=10, notebook_timeout=60, memory_bytes=2 * GIB)


def _information(model: str, minor: int, uuid: str, bus: str) -> str:
    return (
        f"Model: \t\t {model}\nIRQ:   \t\t 151\nGPU UUID: \t {uuid}\n"
        f"Video BIOS: \t 96.00.74.00.1c\nBus Type: \t PCIe\nDMA Size: \t 52 bits\n"
        f"Bus Location: \t {bus}\nDevice Minor: \t {minor}\nGPU Excluded:\t No\n"
    )


def _fake_smi(folder: Path, gpu_lines: str, app_lines: str = "") -> Path:
    """An ``nvidia-smi`` that answers the grader's two queries with the lines given."""
    script = folder / "nvidia-smi"
    script.write_text(
        "#!/bin/sh\n"
        'case "$1" in\n'
        f"  --query-gpu=*) printf '%s' '{gpu_lines}' ;;\n"
        f"  --query-compute-apps=*) {app_lines or 'true'} ;;\n"
        "esac\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script


# -- the backend -------------------------------------------------------------------
def test_the_backend_is_keras_backend_where_set_else_the_first_installed(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    assert devices.backend() == "torch"
    monkeypatch.setenv("KERAS_BACKEND", "theano")
    with pytest.raises(RuntimeError, match="'theano'.*one of"):
        devices.backend()
    monkeypatch.delenv("KERAS_BACKEND")
    installed = devices.installed_backends()
    assert installed, "the kit's tests need one Keras backend"
    assert devices.backend() == installed[0]
    monkeypatch.setattr(devices, "installed_backends", lambda: [])
    with pytest.raises(RuntimeError, match=r"\[tensorflow\], \[jax\] or \[torch\]"):
        devices.backend()


def test_versions_come_from_the_installed_distributions():
    assert devices.version_of("keras") == metadata.version("keras")
    name = devices.installed_backends()[0]
    assert devices.version_of(name) not in ("none", "")
    assert devices.version_of("no-such-backend") == "none"


def test_the_graders_process_imports_no_backend():
    code = (
        "import sys\n"
        "from autograder import devices, grade, batch, sandbox, sandboxed, judging\n"
        "devices.runtime_record(devices.Placement.cpu())\n"
        "print(sorted(m for m in ('tensorflow', 'jax', 'torch', 'keras') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- finding GPUs ------------------------------------------------------------------
def test_gpus_are_read_from_the_driver_in_pci_order_with_memory_from_nvidia_smi(
    tmp_path, monkeypatch
):
    proc = tmp_path / "gpus"
    for bus, model, minor, uuid in [
        ("0000:c1:00.0", "NVIDIA A100", 3, "GPU-bbbb"),
        ("0000:41:00.0", "NVIDIA H200", 0, "GPU-aaaa"),
    ]:
        (proc / bus).mkdir(parents=True)
        (proc / bus / "information").write_text(_information(model, minor, uuid, bus))
    _fake_smi(tmp_path, "00000000:41:00.0, 144384\n00000000:C1:00.0, 81920\n")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    gpus = devices.detect_gpus(proc)
    assert [(g.index, g.name, g.minor, g.uuid) for g in gpus] == [
        (0, "NVIDIA H200", 0, "GPU-aaaa"),
        (1, "NVIDIA A100", 3, "GPU-bbbb"),
    ]
    assert [g.memory_bytes for g in gpus] == [144384 * 2**20, 81920 * 2**20]


def test_no_driver_means_no_gpus(tmp_path):
    assert devices.detect_gpus(tmp_path / "absent") == []
    assert devices.detect_gpus(tmp_path) == []


def test_gpus_flag_names_gpus_the_machine_has():
    gpus = (H200, A100)
    assert devices.parse_gpus("all", gpus) == [0, 1]
    assert devices.parse_gpus("none", gpus) == []
    assert devices.parse_gpus("1,0,1", gpus) == [1, 0]
    with pytest.raises(ValueError, match="names GPU 2, but this machine has GPUs"):
        devices.parse_gpus("2", gpus)
    with pytest.raises(ValueError, match="'all', 'none' or numbers"):
        devices.parse_gpus("first", gpus)
    assert devices.parse_gpus("all", ()) == []


def test_a_lone_grader_takes_the_first_gpu_or_the_cpu():
    assert devices.choose("auto", (H200, A100)) == 0
    assert devices.choose("cpu", (H200,)) == -1
    assert devices.choose("auto", ()) == -1
    with pytest.raises(ValueError, match="no NVIDIA GPU"):
        devices.choose("gpu", ())
    with pytest.raises(ValueError, match="auto, cpu or gpu"):
        devices.choose("tpu", (H200,))


def test_grade_places_its_sandbox_as_the_device_flag_says(monkeypatch):
    monkeypatch.setattr(devices, "machine_gpus", lambda: (H200,))
    limits = placed(Limits(), "auto")
    assert limits.gpu == 0
    assert limits.gpu_memory_bytes == devices.memory_share(H200, 1)
    assert placed(Limits(gpu=0, gpu_memory_bytes=GIB), "auto").gpu_memory_bytes == GIB
    assert placed(Limits(gpu=0, gpu_memory_bytes=GIB), "cpu").gpu == -1
    monkeypatch.setattr(devices, "machine_gpus", lambda: ())
    assert placed(Limits(), "auto").gpu == -1
    with pytest.raises(ValueError, match="no NVIDIA GPU"):
        placed(Limits(), "gpu")


# -- sharing GPUs --------------------------------------------------------------------
def test_jobs_spread_over_the_gpus_and_share_each_one_within_its_memory():
    pool = devices.GpuPool([0, 1], jobs=10, gpus=(H200, A100))
    assert pool.per_gpu == 5
    placements = [pool.take() for _ in range(10)]
    assert sorted(p.gpu.index for p in placements) == [0] * 5 + [1] * 5
    for gpu in (H200, A100):
        on_it = [p for p in placements if p.gpu == gpu]
        # every job is a child and a judge, each with this share: together within the GPU
        assert sum(2 * p.memory_bytes for p in on_it) <= devices.GPU_USABLE * gpu.memory_bytes
        assert all(p.memory_bytes >= 4 * GIB for p in on_it)  # the course's models need < 2
    pool.give_back(placements[0])
    assert pool.take().gpu == placements[0].gpu
    assert devices.GpuPool([], jobs=4, gpus=(H200,)).take() == devices.Placement.cpu()
    assert devices.GpuPool([0], jobs=5, gpus=(H200,), memory_bytes=GIB).take().memory_bytes == GIB


def test_a_placement_tells_every_backend_its_gpu_and_share():
    cpu = devices.Placement.cpu().environment()
    assert cpu == {"CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu"}
    share = 10 * GIB
    env = devices.Placement(H200, share).environment()
    assert env["CUDA_VISIBLE_DEVICES"] == "GPU-aaaa"
    assert env["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"
    assert float(env["XLA_PYTHON_CLIENT_MEM_FRACTION"]) == pytest.approx(share / (141 * GIB), 1e-3)
    assert "TF_FORCE_GPU_ALLOW_GROWTH" not in env  # TensorFlow gets a logical GPU of the share
    assert devices.Placement(H200).environment()["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"
    assert "AUTOGRADER_GPU_MEMORY_MB" not in devices.Placement(H200).environment()
    assert env["AUTOGRADER_GPU_MEMORY_MB"] == str(10 * 1024)
    assert "JAX_PLATFORMS" not in env
    assert devices.Placement(H200, share).record() == {
        "device": "NVIDIA H200",
        "gpu": 0,
        "gpu_memory_mb": 10 * 1024,
    }


def test_a_sandbox_on_a_gpu_gets_that_gpus_nodes_and_no_other(tmp_path, monkeypatch):
    for name in ("nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia0", "nvidia3", "sda"):
        (tmp_path / name).touch()
    monkeypatch.setattr(devices, "DEV", tmp_path)
    monkeypatch.setattr(devices, "machine_gpus", lambda: (H200, A100))
    assert devices.Placement(A100).device_nodes() == [
        (str(tmp_path / "nvidiactl"), "/dev/nvidiactl"),
        (str(tmp_path / "nvidia-uvm"), "/dev/nvidia-uvm"),
        (str(tmp_path / "nvidia-uvm-tools"), "/dev/nvidia-uvm-tools"),
        (str(tmp_path / "nvidia3"), "/dev/nvidia3"),
    ]
    if sandbox.bubblewrap() is None:
        pytest.skip("bubblewrap is not installed: no sandbox command line to read")
    for gpu, own, other in ((0, "/dev/nvidia0", "/dev/nvidia3"), (-1, None, None)):
        jail = Jail(Limits(gpu=gpu))
        try:
            argv = jail._bwrap_argv(None)
        finally:
            jail.close()
        binds = [argv[i + 2] for i, arg in enumerate(argv) if arg == "--dev-bind"]
        if own is None:
            assert binds == []
        else:
            assert own in binds and other not in binds and "/dev/sda" not in binds
            assert "/dev/nvidiactl" in binds


def test_a_cpu_sandbox_sees_no_gpu_and_the_chosen_backend():
    cells = [Cell(1, "import os\ndef env(name):\n    return os.environ.get(name)")]
    with SandboxedSubmission(cells, FAST) as submission:
        submission.run()
        assert submission.call("env", "CUDA_VISIBLE_DEVICES") == ""
        assert submission.call("env", "JAX_PLATFORMS") == "cpu"
        assert submission.call("env", "KERAS_BACKEND") == devices.backend()
        assert submission.call("env", "AUTOGRADER_GPU_MEMORY_MB") is None
        if sandbox.jail_mode() != "none":
            assert submission.call("env", "HOME") != os.environ.get("HOME")


# -- GPU memory ----------------------------------------------------------------------
def test_gpu_memory_is_summed_over_a_sandboxs_processes(tmp_path):
    smi = _fake_smi(tmp_path, "", "printf '11, 100\\n12, 50\\n11, 25\\n99, 7\\n'")
    memory = devices.GpuMemory(str(smi))
    assert memory.of([11, 12]) == 175 * 2**20
    assert memory.of([99]) == 7 * 2**20
    assert memory.of([5]) == 0
    assert devices.GpuMemory(None).of([11]) == 0


@pytest.mark.skipif(sandbox.bubblewrap() is None, reason="needs bubblewrap")
def test_a_sandbox_over_its_gpu_share_is_stopped_alone_with_a_clear_message(tmp_path, monkeypatch):
    # Every process of the machine "holds" 64 MiB of GPU memory: a share of 32 MiB is
    # exceeded as soon as the sandbox's first process exists. The grader's process is
    # not a sandbox, so it is not stopped.
    apps = "for p in /proc/[0-9]*; do printf '%s, 64\\n' \"${p#/proc/}\"; done"
    smi = _fake_smi(tmp_path, "", apps)
    monkeypatch.setattr(devices, "machine_gpus", lambda: (H200,))
    monkeypatch.setattr(devices.GpuMemory, "_instance", devices.GpuMemory(str(smi)))
    monkeypatch.setenv("KERAS_BACKEND", "no-backend-import")  # keep the child quick
    monkeypatch.setattr(devices, "backend", lambda: "no-backend-import")
    limits = Limits(cell_timeout=30, notebook_timeout=60, gpu=0, gpu_memory_bytes=32 * 2**20)
    cells = [Cell(1, "import time\ntime.sleep(20)"), Cell(2, "def f(x):\n    return x")]
    with SandboxedSubmission(cells, limits) as submission:
        submission.run()
        notes = " ".join(submission.notes())
        assert "held more than 32 MiB of GPU memory" in notes, notes
        assert submission.jail.hits == ["gpu_memory_bytes"]
        report = submission.jail.report()["limits"]["gpu_memory_bytes"]
        assert report["limit"] == 32 * 2**20 and report["used"] >= 64 * 2**20


def test_a_cell_out_of_gpu_memory_tells_the_student_its_share(monkeypatch):
    monkeypatch.setattr(devices, "machine_gpus", lambda: (H200,))
    monkeypatch.setattr(devices, "backend", lambda: "no-backend-import")
    monkeypatch.setattr(devices.GpuMemory, "_instance", devices.GpuMemory(None))
    oom = 'raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")'
    limits = Limits(cell_timeout=20, notebook_timeout=60, gpu=0, gpu_memory_bytes=4 * GIB)
    with SandboxedSubmission([Cell(1, oom)], limits) as submission:
        submission.run()
        notes = " ".join(submission.notes())
    assert "ran out of GPU memory: your notebook may hold 4 GiB of NVIDIA H200 (GPU 0)" in notes
    with SandboxedSubmission([Cell(1, oom)], FAST) as submission:
        submission.run()
        assert "GPU memory" not in " ".join(submission.notes())  # on the CPU: not a GPU's fault
    assert devices.out_of_gpu_memory("RESOURCE_EXHAUSTED: Out of memory while trying to allocate")
    assert devices.out_of_gpu_memory("OOM when allocating tensor with shape[64,3]")
    assert not devices.out_of_gpu_memory("ValueError: shapes (3,) and (4,) not aligned")


# -- where a result says it ran ---------------------------------------------------------
def test_a_runtime_record_names_backend_versions_and_device():
    record = devices.runtime_record(devices.Placement(H200, 8 * GIB), "jax")
    assert record == {
        "backend": "jax",
        "backend_version": devices.version_of("jax"),
        "keras_version": metadata.version("keras"),
        "device": "NVIDIA H200",
        "gpu": 0,
        "gpu_memory_mb": 8192,
    }
    line = devices.describe_runtime(record)
    assert line == f"jax {record['backend_version']}, Keras {record['keras_version']}, " + (
        "NVIDIA H200 (GPU 0)"
    )
    assert devices.describe_runtime("forged") == "unknown"


@pytest.mark.slow
def test_every_graded_solution_says_where_it_ran_and_the_judge_confirms_it(graded_solutions):
    backend = devices.backend()
    for assignment, documents in graded_solutions.items():
        uses_keras = assignment in KERAS_ASSIGNMENTS
        for document in documents:
            runtime = document["extra_data"]["runtime"]
            assert runtime["backend"] == backend, assignment
            assert runtime["backend_version"] == devices.version_of(backend)
            assert runtime["keras_version"] == metadata.version("keras")
            assert runtime["device"] == "cpu"
            if uses_keras:
                judged = runtime["judge"]
                assert judged["backend"] == backend, assignment
                assert judged["backend_version"] == devices.version_of(backend)
                assert judged["device"] == "cpu"
            else:
                assert "judge" not in runtime, assignment


def test_a_batch_takes_the_gpus_its_flags_allow(monkeypatch):
    monkeypatch.setattr(devices, "machine_gpus", lambda: (H200, A100))
    assert [g.index for g in devices.batch_pool("auto", "all", 10).gpus] == [0, 1]
    assert [g.index for g in devices.batch_pool("gpu", "1", 10).gpus] == [1]
    assert devices.batch_pool("cpu", "all", 10).gpus == []
    assert devices.batch_pool("auto", "none", 10).take() == devices.Placement.cpu()
    assert devices.batch_pool("auto", "0", 5, memory_bytes=GIB).take().memory_bytes == GIB
    with pytest.raises(ValueError, match="no GPU to grade on"):
        devices.batch_pool("gpu", "none", 10)
    monkeypatch.setattr(devices, "machine_gpus", lambda: ())
    assert devices.batch_pool("auto", "all", 4).gpus == []
    with pytest.raises(ValueError, match="no GPU to grade on"):
        devices.batch_pool("gpu", "all", 4)
