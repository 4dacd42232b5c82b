"""Inside a sandbox: the Keras backend's share of its GPU, and where the backend runs.

Copied beside ``child.py`` and ``judge.py`` into their sandboxes (see
:data:`autograder.sandbox.PROGRAMS`). The grader chooses the device and passes it
in the environment (see :mod:`autograder.devices`): ``CUDA_VISIBLE_DEVICES`` names
the one GPU the sandbox may use (or none), and ``AUTOGRADER_GPU_MEMORY_MB`` its
share of that GPU's memory. JAX reads its share from ``XLA_PYTHON_CLIENT_MEM_FRACTION``
by itself; TensorFlow and PyTorch are told here, before any model is built:
:func:`limit_gpu_memory` gives TensorFlow one logical GPU of that size and PyTorch
that fraction of the device. In the child this runs before the first cell, so a
student's code can undo it; the grader's monitor then stops the sandbox when
its processes hold more GPU memory than the share (:mod:`autograder.monitor`).

Nothing here imports a backend unless a GPU was given (:func:`limit_gpu_memory`)
or :func:`where` is asked, so a numpy notebook pays nothing for it.

Example:
    >>> where()["backend"] in ("tensorflow", "jax", "torch")  # doctest: +SKIP
    True
"""

from __future__ import annotations

import os

#: The environment variable with the sandbox's GPU memory in MiB (absent on the CPU).
MEMORY_ENV = "AUTOGRADER_GPU_MEMORY_MB"


def gpu_memory_mb() -> int:
    """The sandbox's share of its GPU's memory in MiB; 0 where it has no GPU."""
    try:
        return max(0, int(os.environ.get(MEMORY_ENV, "0") or 0))
    except ValueError:
        return 0


def limit_gpu_memory() -> None:
    """Keep the backend within the sandbox's share of its GPU (before any model is built)."""
    megabytes = gpu_memory_mb()
    if megabytes <= 0:
        return
    backend = os.environ.get("KERAS_BACKEND", "")
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            for gpu in tf.config.list_physical_devices("GPU"):
                tf.config.set_logical_device_configuration(
                    gpu, [tf.config.LogicalDeviceConfiguration(memory_limit=megabytes)]
                )
        elif backend == "torch":
            import torch

            if torch.cuda.is_available():
                total = torch.cuda.get_device_properties(0).total_memory
                torch.cuda.set_per_process_memory_fraction(min(1.0, megabytes * 2**20 / total), 0)
    except Exception:  # a backend without CUDA: it runs on the CPU, and says so in where()
        pass


#: The distributions that provide each backend (TensorFlow has a CPU-only build).
DISTRIBUTIONS = {
    "tensorflow": ("tensorflow", "tensorflow-cpu"),
    "jax": ("jax",),
    "torch": ("torch",),
}


def version_of(name: str) -> str:
    """The installed version of backend ``name`` (or of Keras, ``"keras"``), or ``"none"``.

    Read from the package metadata: nothing is imported (the grader asks it too).
    """
    from importlib import metadata

    for distribution in DISTRIBUTIONS.get(name, (name,)):
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return "none"


def _device(backend: str) -> str:
    """The name of the accelerator the backend computes on, or ``"cpu"``."""
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        return str(device.device_kind) if device.platform == "gpu" else "cpu"
    if backend == "torch":
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if not gpus:
            return "cpu"
        return str(tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU"))
    return "cpu"


def where() -> dict[str, str]:
    """Where Keras runs in this process: backend, its version, Keras's version, the device."""
    import keras

    backend = keras.backend.backend()
    return {
        "backend": backend,
        "backend_version": version_of(backend),
        "keras_version": keras.__version__,
        "device": _device(backend),
    }
