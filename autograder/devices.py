"""The grader's side of devices: which Keras backend grades, which GPUs there are, who gets one.

The grader's own process never imports a backend. It learns what is installed from
the package metadata, the GPUs from the NVIDIA driver's ``/proc/driver/nvidia``
(and their memory from ``nvidia-smi``), and hands each sandbox its placement: the
CPU, or exactly one GPU with a share of that GPU's memory. A :class:`Placement`
says what a sandbox may reach (:meth:`Placement.device_nodes`, for the jail's
``--dev-bind``) and how its backend is told (:meth:`Placement.environment`:
``CUDA_VISIBLE_DEVICES``, JAX's preallocation and memory fraction, TensorFlow's
memory growth, and :data:`autograder.backend.MEMORY_ENV` for TensorFlow's and
PyTorch's limits). :class:`GpuMemory` reads what each process holds on the GPUs,
so that the monitor stops a sandbox over its share.

A batch spreads its jobs over the GPUs it may use (:class:`GpuPool`), several
jobs per GPU; a job's child and its judge each get :func:`memory_share` of it.

Example:
    >>> Placement.cpu().environment()["JAX_PLATFORMS"]
    'cpu'
    >>> parse_gpus("0,2", [Gpu(0, "A"), Gpu(1, "B"), Gpu(2, "C")])
    [0, 2]
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from importlib import util
from pathlib import Path

from autograder import backend as backend_module

#: The Keras backends the kit grades with, in the order a default is chosen.
BACKENDS = ("tensorflow", "jax", "torch")
#: The share of a GPU's memory that the jobs on it may hold together (the rest is the
#: driver's, the CUDA contexts' and headroom).
GPU_USABLE = 0.9
#: Where the NVIDIA driver describes its GPUs.
NVIDIA_PROC = Path("/proc/driver/nvidia/gpus")
#: Device nodes every CUDA process needs, beside its GPU's ``/dev/nvidia<minor>``.
CONTROL_NODES = ("/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools")
#: Where the device nodes are (the tests point it at a folder of their own).
DEV = Path("/dev")
#: Seconds between two readings of the GPUs' per-process memory.
GPU_POLL_S = 0.5


# -- the backend ---------------------------------------------------------------
def installed_backends() -> list[str]:
    """The Keras backends installed here (found without importing them)."""
    return [name for name in BACKENDS if util.find_spec(name) is not None]


def backend() -> str:
    """The backend the sandboxes use: ``KERAS_BACKEND``, else the first one installed.

    Raises:
        RuntimeError: ``KERAS_BACKEND`` names no backend the kit knows, or none is installed.
    """
    chosen = os.environ.get("KERAS_BACKEND")
    if chosen:
        if chosen not in BACKENDS:
            raise RuntimeError(
                f"KERAS_BACKEND is {chosen!r}; the kit grades with one of {list(BACKENDS)}"
            )
        return chosen
    found = installed_backends()
    if not found:
        raise RuntimeError(
            "no Keras backend is installed: install the kit with one of the extras "
            "[tensorflow], [jax] or [torch]"
        )
    return found[0]


#: The installed version of a backend or of Keras, from the package metadata.
version_of = backend_module.version_of


# -- the GPUs ------------------------------------------------------------------
@dataclass(frozen=True)
class Gpu:
    """One GPU of the machine, numbered as ``nvidia-smi`` and CUDA (by PCI bus) number it.

    Args:
        index: its number (0, 1, ...).
        name: its model, e.g. ``"NVIDIA H200"``.
        minor: the minor number of its device node ``/dev/nvidia<minor>``.
        uuid: its ``GPU-...`` identifier, or ``""`` where unknown.
        memory_bytes: its memory, or 0 where unknown.
    """

    index: int
    name: str
    minor: int = 0
    uuid: str = ""
    memory_bytes: int = 0


def _information(path: Path) -> dict[str, str]:
    fields = {}
    for line in path.read_text(errors="replace").splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def _smi_memory() -> dict[str, int]:
    """Each GPU's memory by PCI bus id (lower case), from ``nvidia-smi``; empty without it."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return {}
    try:
        out = subprocess.run(
            [smi, "--query-gpu=pci.bus_id,memory.total", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=20, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return {}
    memory = {}
    for line in out.splitlines():
        bus, _, mib = (part.strip() for part in line.partition(","))
        try:
            memory[bus.lower()[-12:]] = int(float(mib)) * 2**20
        except ValueError:
            continue
    return memory


def detect_gpus(proc: Path = NVIDIA_PROC) -> list[Gpu]:
    """The machine's NVIDIA GPUs, from the driver's ``information`` files (none without it)."""
    try:
        folders = sorted(p for p in proc.iterdir() if (p / "information").is_file())
    except OSError:
        return []
    memory = _smi_memory() if folders else {}
    gpus = []
    for index, folder in enumerate(sorted(folders, key=lambda p: p.name.lower())):
        try:
            fields = _information(folder / "information")
            minor = int(fields.get("Device Minor", index))
        except (OSError, ValueError):
            continue
        gpus.append(
            Gpu(
                index=index,
                name=fields.get("Model", "NVIDIA GPU"),
                minor=minor,
                uuid=fields.get("GPU UUID", ""),
                memory_bytes=memory.get(folder.name.lower()[-12:], 0),
            )
        )
    return gpus


@functools.cache
def machine_gpus() -> tuple[Gpu, ...]:
    """:func:`detect_gpus` of this machine, read once per process."""
    return tuple(detect_gpus())


def parse_gpus(text: str, gpus: list[Gpu] | tuple[Gpu, ...]) -> list[int]:
    """The GPU indices a ``--gpus`` value names: ``"all"``, ``"none"`` or ``"0,2"``.

    Raises:
        ValueError: it names a GPU the machine does not have.
    """
    text = text.strip().lower()
    known = [gpu.index for gpu in gpus]
    if text in ("all", ""):
        return known
    if text == "none":
        return []
    chosen = []
    for part in text.split(","):
        try:
            index = int(part)
        except ValueError:
            raise ValueError(
                f"--gpus takes 'all', 'none' or numbers like 0,1; got {part!r}"
            ) from None
        if index not in known:
            raise ValueError(
                f"--gpus names GPU {index}, but this machine has GPUs {known or 'none'}"
            )
        if index not in chosen:
            chosen.append(index)
    return chosen


def memory_share(gpu: Gpu, jobs_on_it: int) -> int:
    """Bytes of ``gpu`` that each process (a job's child, its judge) may hold.

    Every job has two processes on its GPU; together the jobs may hold
    :data:`GPU_USABLE` of its memory. Where the memory is unknown, 0 (no limit).
    """
    if gpu.memory_bytes <= 0:
        return 0
    return int(gpu.memory_bytes * GPU_USABLE / (2 * max(1, jobs_on_it)))


# -- a sandbox's placement -----------------------------------------------------
@dataclass(frozen=True)
class Placement:
    """Where one sandbox computes: the CPU, or one GPU with a memory share.

    Args:
        gpu: the GPU, or ``None`` for the CPU.
        memory_bytes: the most GPU memory the sandbox's processes may hold (0: unlimited).
    """

    gpu: Gpu | None = None
    memory_bytes: int = 0

    @classmethod
    def cpu(cls) -> Placement:
        return cls()

    @classmethod
    def of(cls, index: int, memory_bytes: int, gpus: tuple[Gpu, ...] | None = None) -> Placement:
        """The placement on GPU ``index`` (the CPU when ``index`` < 0).

        Raises:
            ValueError: the machine has no such GPU.
        """
        if index < 0:
            return cls()
        gpus = machine_gpus() if gpus is None else gpus
        for gpu in gpus:
            if gpu.index == index:
                return cls(gpu, int(memory_bytes))
        raise ValueError(f"no GPU {index} on this machine (it has {[g.index for g in gpus]})")

    @property
    def device(self) -> str:
        """``"cpu"``, or the GPU's name and number (``"NVIDIA H200 (GPU 0)"``)."""
        return "cpu" if self.gpu is None else f"{self.gpu.name} (GPU {self.gpu.index})"

    def device_nodes(self) -> list[tuple[str, str]]:
        """The device nodes the sandbox gets, as (host path, path inside): its GPU's and
        the driver's control nodes, and no other."""
        if self.gpu is None:
            return []
        names = [*CONTROL_NODES, f"/dev/nvidia{self.gpu.minor}"]
        return [(str(DEV / Path(n).name), n) for n in names if (DEV / Path(n).name).exists()]

    def environment(self) -> dict[str, str]:
        """What the sandbox's environment tells its backend (any of the three) of this placement."""
        if self.gpu is None:
            return {"CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu"}
        env = {
            "CUDA_DEVICE_ORDER": "PCI_BUS_ID",
            "CUDA_VISIBLE_DEVICES": self.gpu.uuid or str(self.gpu.index),
            # JAX: no preallocation of 75% of the GPU, and at most this share of it.
            "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
            # PyTorch: give freed blocks back, so the monitor sees what is held.
            "PYTORCH_CUDA_ALLOC_CONF": "expandable_segments:True",
        }
        if self.memory_bytes <= 0:
            # TensorFlow: grow as needed rather than take the whole GPU. (With a share,
            # autograder.backend gives it a logical GPU of that size instead: TensorFlow
            # refuses memory growth beside a configured logical device.)
            env["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"
        else:
            env["AUTOGRADER_GPU_MEMORY_MB"] = str(self.memory_bytes // 2**20)
            if self.gpu.memory_bytes > 0:
                fraction = self.memory_bytes / self.gpu.memory_bytes
                env["XLA_PYTHON_CLIENT_MEM_FRACTION"] = f"{fraction:.4f}"
        return env

    def record(self) -> dict:
        """The placement for ``results.json``."""
        if self.gpu is None:
            return {"device": "cpu"}
        return {
            "device": self.gpu.name,
            "gpu": self.gpu.index,
            "gpu_memory_mb": self.memory_bytes // 2**20 if self.memory_bytes else None,
        }


def choose(device: str, gpus: tuple[Gpu, ...] | None = None) -> int:
    """The GPU index a lone grader uses for ``--device auto|cpu|gpu`` (-1: the CPU).

    Raises:
        ValueError: ``gpu`` was asked for and there is none, or ``device`` is unknown.
    """
    gpus = machine_gpus() if gpus is None else gpus
    if device == "cpu":
        return -1
    if device not in ("auto", "gpu"):
        raise ValueError(f"--device takes auto, cpu or gpu; got {device!r}")
    if not gpus:
        if device == "gpu":
            raise ValueError("--device gpu: this machine has no NVIDIA GPU the grader can see")
        return -1
    return gpus[0].index


def runtime_record(placement: Placement, backend_name: str | None = None) -> dict:
    """Where a submission is graded, as the grader itself knows it (no backend imported)."""
    name = backend_name or backend()
    return {
        "backend": name,
        "backend_version": version_of(name),
        "keras_version": version_of("keras"),
        **placement.record(),
    }


def describe_runtime(runtime: dict) -> str:
    """One line of a runtime record: ``"jax 0.10.2, Keras 3.15.1, cpu"``."""
    if not isinstance(runtime, dict):
        return "unknown"
    device = str(runtime.get("device", "cpu"))
    if runtime.get("gpu") is not None:
        device += f" (GPU {runtime.get('gpu')})"
    return (
        f"{runtime.get('backend', '?')} {runtime.get('backend_version', '?')}, "
        f"Keras {runtime.get('keras_version', '?')}, {device}"
    )


# -- a batch's GPUs -------------------------------------------------------------
class GpuPool:
    """The GPUs a batch may use, each job placed on the one with fewest jobs.

    Args:
        indices: the GPUs (from ``--gpus``); empty for the CPU.
        jobs: how many jobs run at once (the batch's ``--jobs``).
        gpus: the machine's GPUs.
        memory_bytes: each process's GPU memory, or 0 for :func:`memory_share`.

    Example:
        >>> pool = GpuPool([0, 1], jobs=4, gpus=(Gpu(0, "A", memory_bytes=8 << 30),
        ...                                       Gpu(1, "B", memory_bytes=8 << 30)))
        >>> [pool.take().gpu.index for _ in range(3)]
        [0, 1, 0]
    """

    def __init__(
        self, indices: list[int], jobs: int, gpus: tuple[Gpu, ...] | None = None,
        memory_bytes: int = 0,
    ) -> None:  # fmt: skip
        gpus = machine_gpus() if gpus is None else gpus
        self.gpus = [gpu for gpu in gpus if gpu.index in indices]
        per_gpu = -(-max(1, jobs) // max(1, len(self.gpus)))
        self.per_gpu = per_gpu
        self.memory = {gpu.index: memory_bytes or memory_share(gpu, per_gpu) for gpu in self.gpus}
        self.running = {gpu.index: 0 for gpu in self.gpus}
        self._lock = threading.Lock()

    def take(self) -> Placement:
        """A placement for the next job (the CPU when the pool has no GPU)."""
        if not self.gpus:
            return Placement.cpu()
        with self._lock:
            gpu = min(self.gpus, key=lambda g: (self.running[g.index], g.index))
            self.running[gpu.index] += 1
        return Placement(gpu, self.memory[gpu.index])

    def give_back(self, placement: Placement) -> None:
        if placement.gpu is not None:
            with self._lock:
                self.running[placement.gpu.index] -= 1


def batch_pool(device: str, gpus: str, jobs: int, memory_bytes: int = 0) -> GpuPool:
    """The GPUs a batch of ``jobs`` at once spreads over, for ``--device`` and ``--gpus``.

    Raises:
        ValueError: ``device`` is ``gpu`` and no GPU is left to use, or ``gpus`` names
            a GPU the machine lacks.
    """
    if device not in ("auto", "cpu", "gpu"):
        raise ValueError(f"--device takes auto, cpu or gpu; got {device!r}")
    indices = [] if device == "cpu" else parse_gpus(gpus, machine_gpus())
    if device == "gpu" and not indices:
        raise ValueError("--device gpu: no GPU to grade on (this machine's, or --gpus)")
    return GpuPool(indices, jobs, memory_bytes=memory_bytes)


# -- what processes hold on the GPUs ---------------------------------------------
class GpuMemory:
    """GPU memory held per host process, read from ``nvidia-smi`` every :data:`GPU_POLL_S`.

    One reader per grader process serves every sandbox's monitor; it starts on the
    first question and reads nothing on a machine without ``nvidia-smi``.
    """

    _instance: GpuMemory | None = None
    _instance_lock = threading.Lock()

    def __init__(self, smi: str | None) -> None:
        self.smi = smi
        self.held: dict[int, int] = {}
        self._read_at = 0.0
        self._lock = threading.Lock()

    @classmethod
    def shared(cls) -> GpuMemory:
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls(shutil.which("nvidia-smi"))
            return cls._instance

    def _read(self) -> dict[int, int]:
        try:
            out = subprocess.run(
                [self.smi, "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                capture_output=True, text=True, timeout=10, check=True,
            ).stdout  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            return {}
        held: dict[int, int] = {}
        for line in out.splitlines():
            pid, _, mib = (part.strip() for part in line.partition(","))
            try:
                held[int(pid)] = held.get(int(pid), 0) + int(float(mib)) * 2**20
            except ValueError:
                continue
        return held

    def of(self, pids: list[int]) -> int:
        """Bytes of GPU memory that ``pids`` hold together (0 without ``nvidia-smi``)."""
        if self.smi is None:
            return 0
        with self._lock:
            if time.monotonic() - self._read_at >= GPU_POLL_S:
                self.held = self._read()
                self._read_at = time.monotonic()
            held = self.held
        return sum(held.get(pid, 0) for pid in pids)


#: Text of a backend's error when its GPU memory ran out (TensorFlow, JAX/XLA, PyTorch).
OUT_OF_MEMORY = ("RESOURCE_EXHAUSTED", "OOM when allocating", "CUDA out of memory",
                 "Out of memory while trying to allocate", "CUDA_ERROR_OUT_OF_MEMORY")  # fmt: skip


def out_of_gpu_memory(text: str) -> bool:
    """Whether an error's text says the backend ran out of GPU memory."""
    return any(marker.lower() in text.lower() for marker in OUT_OF_MEMORY)
