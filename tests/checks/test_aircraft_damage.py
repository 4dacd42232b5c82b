"""What holds for the hidden checks of ``aircraft_damage`` only (the rest: test_every_assignment.py).

The shipped data is what its script makes and what the grader trains on; the judge
really uses the pretrained weights; the held-out photographs are none of the
notebook's; the grader's image tree and base change per run; and the notebook's code
takes an ImageNet base (VGG16) unchanged.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

from autograder.checks import aircraft_damage as checks
from autograder.judging import judge_in_process
from autograder.submission import LocalSubmission
from course_data import aircraft
from tests.harness import (
    SyntheticTraining,
    assert_learning_outcome,
    mistaken,
    reference,
    score,
)

ASSIGNMENT = "aircraft_damage"

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _decode(path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(path.read_bytes())).convert("RGB"))


def test_the_shipped_images_are_what_the_script_writes(tmp_path):
    counts = aircraft.write_tree(tmp_path)
    assert counts == {split: 2 * n for split, n in aircraft.PER_CLASS.items()}
    shipped = sorted(p.relative_to(aircraft.IMAGES_DIR) for p in aircraft.IMAGES_DIR.rglob("*.png"))
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.png"))
    assert shipped == written and len(shipped) == sum(counts.values())
    for relative in shipped[::17]:
        assert (aircraft.IMAGES_DIR / relative).read_bytes() == (tmp_path / relative).read_bytes()


def test_png_bytes_decode_to_the_same_pixels():
    image = np.random.default_rng(0).integers(0, 256, (7, 5, 3), dtype=np.uint8)
    from PIL import Image

    assert np.array_equal(np.asarray(Image.open(io.BytesIO(aircraft.png_bytes(image)))), image)


def test_the_grader_trains_on_the_notebooks_training_photographs():
    x, y = checks._training_photographs()
    files = sorted((aircraft.IMAGES_DIR / "train").rglob("*.png"))
    assert len(files) == len(x) == len(y)
    for index in (0, 59, 60, 119):
        name = aircraft.CLASS_NAMES[int(y[index].argmax())]
        path = aircraft.IMAGES_DIR / "train" / name / f"{name}_{index % 60:03d}.png"
        assert np.array_equal(np.round(x[index] * 255).astype(np.uint8), _decode(path))


def test_held_out_photographs_are_none_of_the_shipped_ones():
    shipped = {_decode(p).tobytes() for p in aircraft.IMAGES_DIR.rglob("*.png")}
    x, labels = checks._held_out(np.random.default_rng(1))
    assert len(x) == 2 * checks.HELD_OUT_PER_CLASS and set(labels) == {0, 1}
    assert not any(np.round(i * 255).astype(np.uint8).tobytes() in shipped for i in x)


def test_the_numpy_weights_are_the_shipped_models():
    base = aircraft.load_base()
    weights = aircraft.base_weights()
    assert [item["name"] for item in aircraft.BASE_SPEC] == [
        layer.name for layer in base.layers[1:]
    ]
    for layer in base.layers:
        for ours, theirs in zip(weights.get(layer.name, []), layer.get_weights(), strict=True):
            assert np.array_equal(ours, theirs)
    assert sum(w.size for ws in weights.values() for w in ws) == base.count_params()


def test_the_judge_gives_the_model_the_pretrained_weights():
    """The judge's model computes with the shipped weights, not a fresh initialisation."""
    from autograder import judge

    namespace = reference(ASSIGNMENT)
    submission = LocalSubmission(namespace, seed=0)
    exported = submission.task(
        checks.EXPORT_TASK, spec=list(aircraft.BASE_SPEC), input_shape=[64, 64, 3], n_classes=2
    )
    model = judge._load(exported["exports"][0], seed=5)
    judge._set_base_weights(model, aircraft.base_weights())
    layers = {layer.name: layer for layer in judge._all_layers(model)}
    for layer in aircraft.load_base().layers[1:]:
        for ours, theirs in zip(layers[layer.name].get_weights(), layer.get_weights(), strict=True):
            assert np.array_equal(ours, theirs)
    x = np.random.default_rng(0).random((3, 64, 64, 3)).astype(np.float32)
    payload = {"exports": exported["exports"], "base_layers": [i["name"] for i in aircraft.BASE_SPEC],
               "base_weights": aircraft.base_weights(), "x": x, "seed": 5}  # fmt: skip
    reply = judge_in_process("transfer", payload)
    assert reply["ok"], reply
    assert not np.allclose(reply["result"]["outputs"], reply["result"]["perturbed"])
    wrong = dict(aircraft.base_weights())
    wrong["block4_conv"] = [np.zeros((1, 1, 1, 1), np.float32)]
    refused = judge_in_process("transfer", {**payload, "base_weights": wrong})
    assert not refused["ok"] and "does not fit" in refused["message"]


def test_the_grader_draws_a_new_tree_and_base_per_run():
    trees = [checks.Tree(np.random.default_rng(seed)) for seed in range(6)]
    assert len({(tuple(t.class_names), t.image_size, t.batch_size) for t in trees}) == 6
    for tree in trees:
        assert tree.batch_size != 32 and tree.image_size[0] != tree.image_size[1]
        first = [path.split("/")[1] for path in tree.files if path.startswith("train/")]
        assert first[0] == max(tree.class_names)  # written in reverse alphabetical order
    bases = [checks.Base(np.random.default_rng(seed), cut) for seed in range(6)
             for cut in ("conv", "after")]  # fmt: skip
    assert len({tuple(b.layer_names) for b in bases}) == 6  # one base per seed
    assert len({(tuple(b.layer_names), b.n_layers) for b in bases}) > 6
    for base in bases:
        kinds = [base.kinds()[name] for name in base.layer_names]
        top, below = kinds[-base.n_layers :], kinds[: -base.n_layers]
        assert "conv" in top and "conv" in below and "bn" in top


def test_the_notebooks_code_takes_an_imagenet_base():
    """build_transfer_model and unfreeze_top_layers run unchanged on VGG16 (no weights file)."""
    import keras

    namespace = reference(ASSIGNMENT)
    vgg = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    model = namespace["build_transfer_model"](vgg, 2)
    assert model.output_shape == (None, 2)
    frozen_start = {id(w) for w in model.trainable_weights}
    assert not any(id(w) in frozen_start for w in vgg.weights)
    assert len(model.trainable_weights) == 2  # the Dense head's kernel and bias
    namespace["unfreeze_top_layers"](model, vgg, 4, 1e-5)
    trained = {id(w) for w in model.trainable_weights}
    top = [layer for layer in vgg.layers[-4:] if layer.weights]
    assert top and all(id(w) in trained for layer in top for w in layer.weights)
    assert not any(id(w) in trained for layer in vgg.layers[:-4] for w in layer.weights)
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(1e-5)


def test_a_wrong_scale_costs_the_scale_check_only():
    """Images are matched to their files whatever their scale, so the other loader checks hold."""
    results = score(ASSIGNMENT, mistaken(ASSIGNMENT, "loader_divides_by_256"), seed=3,
                    only="load_image_datasets")  # fmt: skip
    lost = {name for name, result in results.items() if result.score < result.max_score}
    assert lost == {"test_load_image_datasets_rescales_pixels_to_unit_interval"}


@pytest.mark.parametrize(("share", "fraction"), [(0.5, 0.0), (0.6, 0.5), (0.65, 0.75), (0.7, 1.0)])
def test_the_learning_check_gives_partial_credit_from_chance(share, fraction):
    """On made-up predictions (no Keras): full points from 70%, none at chance (50%)."""

    def answer(payload):  # the held-out photographs are cracks, then as many dents
        n = len(payload["x_test"])
        labels = np.repeat([0, 1], n // 2)
        right = np.arange(n) % 100 < round(share * 100)  # the same share of each class
        rows = np.eye(2)[np.where(right, labels, 1 - labels)]
        return np.full_like(rows, 0.5), rows

    assert_learning_outcome(
        checks.test_build_transfer_model_learns_from_frozen_features, SyntheticTraining(answer),
        fraction, f"classified {share:.1%} of 200 held-out photographs", "at least 70%",
        "at most 50% (chance",
    )  # fmt: skip


def test_only_trainable_false_keeps_batch_norm_in_inference_mode():
    """Why the batch-norm check reads `trainable`: in this Keras, a base called with
    training=False still updates a trainable BatchNormalization's statistics in fit (the
    notebook says so); a frozen one keeps them."""
    import keras

    def moved(freeze_batch_norm: bool) -> bool:
        inputs = keras.Input((8, 8, 3))
        x = keras.layers.Conv2D(2, 3, name="conv")(inputs)
        base = keras.Model(inputs, keras.layers.BatchNormalization(name="bn")(x))
        outer = keras.Input((8, 8, 3))
        pooled = keras.layers.GlobalAveragePooling2D()(base(outer, training=False))
        model = keras.Model(outer, keras.layers.Dense(2, activation="softmax")(pooled))
        base.trainable = True
        base.get_layer("bn").trainable = not freeze_batch_norm
        model.compile("adam", "categorical_crossentropy")
        before = keras.ops.convert_to_numpy(base.get_layer("bn").moving_mean).copy()
        x = 5 * np.random.default_rng(0).random((8, 8, 8, 3)).astype("float32")
        model.fit(x, np.eye(2, dtype="float32")[[0, 1] * 4], epochs=1, verbose=0)
        return not np.allclose(before, keras.ops.convert_to_numpy(base.get_layer("bn").moving_mean))

    assert moved(freeze_batch_norm=False)
    assert not moved(freeze_batch_norm=True)


def test_the_reference_loader_feeds_the_grader_on_this_backend():
    """The reference's datasets (tf.data on TensorFlow, grain on JAX and PyTorch, which lack
    tf.data) are what the load task reads: every shipped test image once, in file order, its
    pixels / 255, and the same order when iterated again (Keras iterates once per epoch)."""
    import keras

    from autograder.tasks import transfer

    namespace = reference(ASSIGNMENT)
    datasets = namespace["load_image_datasets"](aircraft.IMAGES_DIR, (64, 64), 8, 0)
    kind = type(datasets[0]).__module__.split(".")[0]
    assert kind == ("tensorflow" if keras.backend.backend() == "tensorflow" else "grain"), kind
    first, again = (transfer._as_arrays(datasets[2], "test") for _ in range(2))
    files = [path for name in datasets[3] for path in sorted(
        (aircraft.IMAGES_DIR / "test" / name).glob("*.png"))]  # fmt: skip
    assert first["images"].dtype == np.float32 and len(first["images"]) == len(files)
    assert first["batch_sizes"][0] == 8
    expected = np.stack([_decode(path) for path in files]) / 255
    np.testing.assert_allclose(first["images"], expected, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(first["labels"].argmax(axis=1),
                                  [datasets[3].index(p.parent.name) for p in files])  # fmt: skip
    np.testing.assert_array_equal(first["images"], again["images"])
