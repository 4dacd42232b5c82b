"""The hidden checks of ``cnn`` against the reference, the stubs, mistakes and alternatives.

The notebook's ``build_cnn`` cell imports Keras itself, so the namespaces here are the
notebook's solution cells executed after ``import numpy as np``, as elsewhere. Only the
learning check trains a model; it runs in the tests marked ``slow``, once per reference
seed (a module-scoped fixture), once per alternative builder and once for the builder
that cannot learn. Every other test scores only the checks of the function it is about,
with fast tasks (the model's structure and an untrained model's predictions).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from autograder.checks import _digits
from autograder.checks import cnn as checks
from autograder.scoring import function_of, run_checks
from autograder.submission import LocalSubmission
from tests.harness import (
    FLOAT_RUN,
    GRADER_FAULT,
    ROOT,
    RecordingSubmission,
    assert_caught_helpfully,
    messages_with_float_arrays,
    reference,
    released,
    score,
    training_requests,
)

ASSIGNMENT = "cnn"
FUNCTIONS = checks.FUNCTIONS
LEARNING_CHECK = "test_build_cnn_classifies_held_out_digits"
LEARNING_SEEDS = (0, 1, 2)

# Keras warns about layers it builds lazily (nested models called on an Input).
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _select(*functions: str, learning: bool = False):
    """Accept the checks of ``functions`` (all if none); the learning check only if ``learning``."""

    def accept(name: str) -> bool:
        if name == LEARNING_CHECK and not learning:
            return False
        return not functions or function_of(name, list(FUNCTIONS)) in functions

    return accept


# ---------------------------------------------------------------------------
# The grader's reference and its task.
# ---------------------------------------------------------------------------


def test_grader_reference_preprocessing_equals_the_notebooks():
    preprocess = reference(ASSIGNMENT)["preprocess_images"]
    rng = np.random.default_rng(0)
    for images in (
        checks._uint8_images(rng, (3, 5, 7)),
        checks._uint8_images(rng, (2, 6, 4, 3)),
        checks._float_images(rng, (4, 5, 6)),
        checks._float_images(rng, (2, 5, 6, 1), dtype=np.float32),
    ):
        ours, theirs = checks._preprocess(images), preprocess(images)
        assert ours.dtype == theirs.dtype == np.float32
        assert ours.shape == theirs.shape and np.array_equal(ours, theirs)


def test_held_out_digits_are_not_in_the_notebooks_part():
    """The notebook's rule keeps exactly the digits the grader trains on; held-out ones differ."""
    _, labels = _digits.digits()
    keep = np.arange(len(labels)) % 500 < 400  # the rule written in the notebook
    assert np.array_equal(np.flatnonzero(keep), _digits.notebook_indices())
    assert not set(_digits.held_out_indices()) & set(_digits.notebook_indices())
    source = (ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
    assert "np.arange(len(labels)) % 500 < 400" in source


_NESTED = """
import keras

def build(input_shape, n_classes):
    features = keras.Sequential([keras.layers.Conv2D(4, 3), keras.layers.MaxPooling2D(2)])
    inputs = keras.Input(input_shape)
    x = keras.layers.Flatten()(features(inputs))
    model = keras.Model(inputs, keras.layers.Dense(n_classes, activation="softmax")(x))
    loss = {loss}
    if loss is not None:
        model.compile(optimizer="adam", loss=loss)
    return model
"""


@pytest.mark.parametrize(
    ("loss", "name", "from_logits"),
    [
        ('"categorical_crossentropy"', "categorical_crossentropy", False),
        ("keras.losses.CategoricalCrossentropy()", "categorical_crossentropy", False),
        (
            "keras.losses.CategoricalCrossentropy(from_logits=True)",
            "categorical_crossentropy",
            True,
        ),
        ("keras.losses.categorical_crossentropy", "categorical_crossentropy", False),
        ('"sparse_categorical_crossentropy"', "sparse_categorical_crossentropy", False),
        ("None", None, None),
    ],
)
def test_model_info_sees_nested_layers_and_the_loss(loss, name, from_logits):
    """What the checks rely on: nested layers with their base classes, and from_logits."""
    namespace: dict = {}
    exec(_NESTED.format(loss=loss), namespace)
    info = LocalSubmission(namespace).judge("describe", "build", args=[(12, 10, 3), 4])
    assert info["input_shape"] == [None, 12, 10, 3] and info["output_shape"] == [None, 4]
    assert "Conv2D" not in info["layers"]  # nested: only the walk over all layers finds it
    assert "Conv2D" in info["all_layers"] and "MaxPooling2D" in info["all_layers"]
    assert any("BasePooling" in lineage for lineage in info["lineages"])
    assert info["loss"] == name and info["from_logits"] is from_logits
    assert info["compiled"] is (loss != "None")


# ---------------------------------------------------------------------------
# The reference and the stubs.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_gets_full_marks(seed):
    """Every check but the learning check (see the slow tests below), for three seeds."""
    results = score(ASSIGNMENT, reference(ASSIGNMENT), seed, _select())
    failed = {name: r.output for name, r in results.items() if not r.passed}
    assert not failed
    assert LEARNING_CHECK not in results and len(results) >= 10


@pytest.fixture(scope="module")
def reference_learning_runs() -> dict:
    """The learning check on the reference, once per seed, with the tasks it ran."""
    runs = {}
    for seed in LEARNING_SEEDS:
        submission = RecordingSubmission(reference(ASSIGNMENT), seed=seed)
        (result,) = run_checks(ASSIGNMENT, submission, lambda name: name == LEARNING_CHECK)
        runs[seed] = (result, submission)
    return runs


@pytest.mark.slow
@pytest.mark.parametrize("seed", LEARNING_SEEDS)
def test_reference_passes_the_learning_check(reference_learning_runs, seed):
    result, submission = reference_learning_runs[seed]
    assert result.passed, result.output
    metric = submission.metrics["cnn_test_accuracy"]
    assert metric["passed"] and metric["threshold"] == checks.MIN_ACCURACY
    assert metric["value"] >= metric["threshold"]


@pytest.mark.slow
def test_learning_task_gets_no_held_out_labels_nor_raw_held_out_digits(reference_learning_runs):
    """The training task receives training images and one-hot labels, and test images only."""
    _, submission = reference_learning_runs[LEARNING_SEEDS[0]]
    (training,) = training_requests(submission)
    ((_, args, _),) = submission.tasks
    x_train, y_train, x_test = training["x_train"], training["y_train"], training["x_test"]
    assert args[0] == "build_cnn" and training["epochs"] == checks.EPOCHS
    assert x_train.shape == (4000 * (1 + checks.DIGIT_COPIES), 28, 28, 1)
    assert y_train.shape == (len(x_train), 10) and set(np.unique(y_train)) == {0.0, 1.0}
    assert x_test.shape == (1000, 28, 28, 1) and x_test.dtype == np.float32
    images, _ = _digits.digits()
    raw = images[_digits.held_out_indices()] / 255.0
    same = np.all(np.isclose(x_test[..., 0], raw, atol=1e-6), axis=(1, 2))
    assert not np.any(same)  # every held-out digit is perturbed
    # The training images are the notebook's digits, never held-out ones.
    assert np.allclose(x_train[:4000, ..., 0], images[_digits.notebook_indices()] / 255.0)


def test_stub_functions_raise_not_implemented():
    stub = released(ASSIGNMENT)
    arguments = {
        "preprocess_images": (np.zeros((2, 4, 5), dtype=np.uint8),),
        "build_cnn": ((28, 28, 1), 10),
    }
    for function in FUNCTIONS:
        with pytest.raises(NotImplementedError):
            stub[function](*arguments[function])


# ---------------------------------------------------------------------------
# Common mistakes: (id, function, replacement source).
# ---------------------------------------------------------------------------

_BUILD = """
import keras

def build_cnn(input_shape, n_classes):
    model = keras.Sequential([keras.Input(shape={input}), {layers}])
    {compile}
    return model
"""

_LAYERS = (
    'keras.layers.Conv2D(16, 3, activation="relu"), keras.layers.MaxPooling2D(2), '
    'keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(2), '
    "keras.layers.Flatten(), {head}"
)
_HEAD = 'keras.layers.Dense(n_classes, activation="softmax")'


def _build(
    layers: str | None = None,
    head: str = _HEAD,
    loss: str = '"categorical_crossentropy"',
    optimizer: str = '"adam"',
    input: str = "input_shape",
    compiled: bool = True,
) -> str:
    compile_line = (
        f"model.compile(optimizer={optimizer}, loss={loss}, metrics=['accuracy'])"
        if compiled
        else "pass"
    )
    return _BUILD.format(
        input=input, layers=layers or _LAYERS.format(head=head), compile=compile_line
    )


MUTANTS = [
    (
        "preprocess_leaves_uint8_in_0_255",
        "preprocess_images",
        """
def preprocess_images(images):
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:
        images = images[..., np.newaxis]
    return images
""",
    ),
    (
        "preprocess_divides_float_images_again",
        "preprocess_images",
        """
def preprocess_images(images):
    if images.ndim == 3:
        images = np.expand_dims(images, -1)
    return images.astype(np.float32) / 255.0
""",
    ),
    (
        "preprocess_forgets_the_channel_axis",
        "preprocess_images",
        """
def preprocess_images(images):
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255
    return images.astype(np.float32)
""",
    ),
    (
        "preprocess_puts_the_channel_axis_first",
        "preprocess_images",
        """
def preprocess_images(images):
    if images.ndim == 3:
        images = images[:, np.newaxis, :, :]
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255
    return images.astype(np.float32)
""",
    ),
    (
        "preprocess_returns_float64",
        "preprocess_images",
        """
def preprocess_images(images):
    if images.ndim == 3:
        images = images[..., None]
    if images.dtype == np.uint8:
        return images / 255.0
    return images.astype(float)
""",
    ),
    (
        "preprocess_scales_by_the_largest_value",
        "preprocess_images",
        """
def preprocess_images(images):
    images = images.astype(np.float32)
    if images.ndim == 3:
        images = images[..., None]
    return images / images.max()
""",
    ),
    (
        "preprocess_adds_an_axis_to_colour_images",
        "preprocess_images",
        """
def preprocess_images(images):
    images = images[..., np.newaxis]
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255
    return images.astype(np.float32)
""",
    ),
    (
        "preprocess_stretches_float_images_in_place",
        "preprocess_images",
        """
def preprocess_images(images):
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / 255
    else:
        images -= images.min()
        images /= images.max()
    if images.ndim == 3:
        images = images[..., None]
    return images.astype(np.float32)
""",
    ),
    ("build_linear_output", "build_cnn", _build(head="keras.layers.Dense(n_classes)")),
    (
        "build_relu_output",
        "build_cnn",
        _build(head='keras.layers.Dense(n_classes, activation="relu")'),
    ),
    ("build_sparse_loss", "build_cnn", _build(loss='"sparse_categorical_crossentropy"')),
    (
        "build_from_logits_with_softmax",
        "build_cnn",
        _build(loss="keras.losses.CategoricalCrossentropy(from_logits=True)"),
    ),
    ("build_mse_loss", "build_cnn", _build(loss='"mse"')),
    ("build_not_compiled", "build_cnn", _build(compiled=False)),
    (
        "build_hard_coded_10_classes",
        "build_cnn",
        _build(head='keras.layers.Dense(10, activation="softmax")'),
    ),
    ("build_hard_coded_digit_shape", "build_cnn", _build(input="(28, 28, 1)")),
    (
        "build_without_pooling",
        "build_cnn",
        _build(
            layers='keras.layers.Conv2D(16, 3, activation="relu"), '
            'keras.layers.Conv2D(32, 3, strides=2, activation="relu"), '
            f"keras.layers.Flatten(), {_HEAD}"
        ),
    ),
    (
        "build_dense_layers_only",
        "build_cnn",
        _build(
            layers=f'keras.layers.Flatten(), keras.layers.Dense(128, activation="relu"), {_HEAD}'
        ),
    ),
    (
        "build_millions_of_parameters",
        "build_cnn",
        _build(
            layers='keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(2), '
            'keras.layers.Flatten(), keras.layers.Dense(1024, activation="relu"), '
            f"{_HEAD}"
        ),
    ),
]

#: A builder whose model does not learn within the grader's budget: only the learning check.
LEARNING_MUTANT = (
    "build_learning_rate_far_too_high",
    _build(optimizer="keras.optimizers.Adam(learning_rate=1.0)"),
)


@pytest.fixture(scope="module")
def mutant_results() -> dict:
    return {
        mutant_id: score(ASSIGNMENT, reference(ASSIGNMENT, source), seed=7, only=_select(function))
        for mutant_id, function, source in MUTANTS
    }


@pytest.mark.parametrize(
    ("mutant_id", "function"),
    [(mutant_id, function) for mutant_id, function, _ in MUTANTS],
    ids=[mutant_id for mutant_id, _, _ in MUTANTS],
)
def test_mutant_fails_a_check_of_its_function(mutant_results, mutant_id, function):
    results = mutant_results[mutant_id]
    assert results and all(function_of(name, list(FUNCTIONS)) == function for name in results)
    assert_caught_helpfully(results, function, FUNCTIONS, mutant_id)


@pytest.mark.parametrize(
    ("mutant_id", "check", "words"),
    [
        ("preprocess_leaves_uint8_in_0_255",
         "test_preprocess_images_scales_uint8_to_unit_interval", "still 0 to 255"),
        ("preprocess_divides_float_images_again",
         "test_preprocess_images_keeps_float_images_in_unit_interval", "by 255 again"),
        ("preprocess_forgets_the_channel_axis",
         "test_preprocess_images_adds_channel_axis_last", "channel axis is missing"),
        ("preprocess_puts_the_channel_axis_first",
         "test_preprocess_images_adds_channel_axis_last", "channel axis comes first"),
        ("preprocess_returns_float64", "test_preprocess_images_returns_float32",
         "expected dtype float32"),
        ("preprocess_scales_by_the_largest_value",
         "test_preprocess_images_scales_uint8_to_unit_interval", "largest value"),
        ("preprocess_adds_an_axis_to_colour_images",
         "test_preprocess_images_keeps_existing_channels", "already have one"),
        ("preprocess_stretches_float_images_in_place",
         "test_preprocess_images_does_not_modify_input", "modified its argument `images`"),
        ("build_linear_output", "test_build_cnn_outputs_probabilities", "softmax"),
        ("build_relu_output", "test_build_cnn_outputs_probabilities", "softmax"),
        ("build_sparse_loss", "test_build_cnn_compiled_with_categorical_crossentropy",
         "one-hot"),
        ("build_from_logits_with_softmax", "test_build_cnn_loss_expects_probabilities",
         "from_logits=True"),
        ("build_mse_loss", "test_build_cnn_compiled_with_categorical_crossentropy", "'mse'"),
        ("build_not_compiled", "test_build_cnn_compiled_with_categorical_crossentropy",
         "not compiled"),
        ("build_hard_coded_10_classes", "test_build_cnn_grayscale_input_and_output_shapes",
         "hard-coded to the 10 digits"),
        ("build_hard_coded_10_classes", "test_build_cnn_colour_input_and_output_shapes",
         "hard-coded to the 10 digits"),
        ("build_hard_coded_digit_shape", "test_build_cnn_colour_input_and_output_shapes",
         "hard-coded to the digits' (28, 28, 1)"),
        ("build_without_pooling", "test_build_cnn_has_a_pooling_layer", "MaxPooling2D"),
        ("build_dense_layers_only", "test_build_cnn_has_a_conv2d_layer", "keras.layers.Conv2D"),
        ("build_millions_of_parameters", "test_build_cnn_parameter_budget", "at most 500,000"),
    ],
)  # fmt: skip
def test_mutant_is_caught_by_the_check_meant_for_it(mutant_results, mutant_id, check, words):
    result = mutant_results[mutant_id][check]
    assert not result.passed
    assert words in result.output, result.output


def test_forgotten_channel_axis_costs_the_channel_check_only(mutant_results):
    """The value checks judge the values whatever the layout: one mistake, one check."""
    results = mutant_results["preprocess_forgets_the_channel_axis"]
    failed = {name for name, result in results.items() if not result.passed}
    assert failed == {"test_preprocess_images_adds_channel_axis_last"}


@pytest.fixture(scope="module")
def learning_mutant_run():
    _, source = LEARNING_MUTANT
    submission = LocalSubmission(reference(ASSIGNMENT, source), seed=4)
    (result,) = run_checks(ASSIGNMENT, submission, lambda name: name == LEARNING_CHECK)
    return result, submission


@pytest.mark.slow
def test_builder_that_does_not_learn_fails_the_learning_check(learning_mutant_run):
    result, submission = learning_mutant_run
    assert not result.passed
    assert GRADER_FAULT not in result.output
    assert "learning rate" in result.output, result.output
    # It does not learn at all: near chance (0.1), far under the threshold (or it diverged).
    assert submission.metrics.get("cnn_test_accuracy", {"value": 0.0})["value"] < 0.5


@pytest.mark.slow
def test_learning_message_reveals_no_labels(learning_mutant_run):
    output = learning_mutant_run[0].output
    assert not FLOAT_RUN.search(output), output
    assert not re.search(r"\d{6,}", output), output  # no string of held-out labels
    # The only measured figure: the accuracy, as a percentage with one decimal.
    measured = re.findall(r"\d+\.\d+%", output)
    assert len(measured) == 1, output


# ---------------------------------------------------------------------------
# Correct alternatives.
# ---------------------------------------------------------------------------

PREPROCESS_ALTERNATIVES = [
    (
        "largest_value_heuristic_and_expand_dims",
        """
def preprocess_images(images):
    x = np.array(images, dtype=np.float32)
    if x.max() > 1.0:
        x = x / 255.0
    if x.ndim == 3:
        x = np.expand_dims(x, axis=-1)
    return x
""",
    ),
    (
        "reshape_and_reciprocal_in_float64_then_cast",
        """
def preprocess_images(images):
    images = np.asarray(images)
    if len(images.shape) == 3:
        images = images.reshape(images.shape + (1,))
    if images.dtype == np.uint8:
        return (images * (1.0 / 255)).astype("float32")
    return images.astype("float32", copy=True)
""",
    ),
    (
        "loop_over_images",
        """
def preprocess_images(images):
    out = []
    for image in images:
        image = np.asarray(image, dtype=np.float32)
        if image.ndim == 2:
            image = image[:, :, None]
        if images.dtype == np.uint8:
            image = image / 255
        out.append(image)
    return np.stack(out)
""",
    ),
    (
        "true_divide_into_float32",
        """
def preprocess_images(images):
    if images.dtype.kind in "ui":
        out = np.true_divide(images, 255, dtype=np.float32)
    else:
        out = np.array(images, dtype=np.float32)
    return out if out.ndim == 4 else out[..., None]
""",
    ),
]

BUILDER_ALTERNATIVES = [
    (
        "functional_wider_with_a_hidden_dense_layer_and_loss_object",
        """
import keras

def build_cnn(input_shape, n_classes):
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Conv2D(32, (3, 3), activation="relu")(inputs)
    x = keras.layers.MaxPooling2D((2, 2))(x)
    x = keras.layers.Conv2D(64, (3, 3), activation="relu")(x)
    x = keras.layers.MaxPooling2D((2, 2))(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(64, activation="relu")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.CategoricalCrossentropy(),
                  metrics=["accuracy"])
    return model
""",
    ),
    (
        "nested_feature_extractor_global_average_pooling_loss_function",
        """
import keras

def build_cnn(input_shape, n_classes):
    features = keras.Sequential([
        keras.layers.Conv2D(16, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(64, 3, activation="relu"),
    ], name="features")
    inputs = keras.Input(input_shape)
    pooled = keras.layers.GlobalAveragePooling2D()(features(inputs))
    outputs = keras.layers.Dense(n_classes, activation="softmax")(pooled)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.categorical_crossentropy)
    return model
""",
    ),
    (
        "sequential_add_lenet_average_pooling_separate_softmax",
        """
import keras

def build_cnn(input_shape, n_classes):
    model = keras.Sequential()
    model.add(keras.layers.Input(shape=input_shape))
    model.add(keras.layers.Conv2D(8, 5, padding="same"))
    model.add(keras.layers.Activation("relu"))
    model.add(keras.layers.AveragePooling2D(pool_size=2))
    model.add(keras.layers.Conv2D(16, 5, padding="same", activation="relu"))
    model.add(keras.layers.MaxPooling2D(pool_size=2))
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dropout(0.25))
    model.add(keras.layers.Dense(n_classes))
    model.add(keras.layers.Activation("softmax"))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.002),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    return model
""",
    ),
]


@pytest.mark.parametrize(
    "source", [s for _, s in PREPROCESS_ALTERNATIVES], ids=[a for a, _ in PREPROCESS_ALTERNATIVES]
)
def test_correct_preprocess_alternative_gets_full_marks(source):
    results = score(
        ASSIGNMENT, reference(ASSIGNMENT, source), seed=5, only=_select("preprocess_images")
    )
    failed = {name: r.output for name, r in results.items() if not r.passed}
    assert results and not failed


@pytest.mark.parametrize(
    "source", [s for _, s in BUILDER_ALTERNATIVES], ids=[a for a, _ in BUILDER_ALTERNATIVES]
)
def test_correct_builder_alternative_passes_the_structural_checks(source):
    results = score(ASSIGNMENT, reference(ASSIGNMENT, source), seed=5, only=_select("build_cnn"))
    failed = {name: r.output for name, r in results.items() if not r.passed}
    assert len(results) >= 8 and not failed


@pytest.mark.slow
@pytest.mark.parametrize(
    "source", [s for _, s in BUILDER_ALTERNATIVES], ids=[a for a, _ in BUILDER_ALTERNATIVES]
)
def test_correct_builder_alternative_passes_the_learning_check(source):
    submission = LocalSubmission(reference(ASSIGNMENT, source), seed=6)
    (result,) = run_checks(ASSIGNMENT, submission, lambda name: name == LEARNING_CHECK)
    assert result.passed, result.output


# ---------------------------------------------------------------------------
# Messages reveal no hidden values.
# ---------------------------------------------------------------------------


def test_messages_contain_no_float_arrays(mutant_results):
    assert FLOAT_RUN.search(str(np.linspace(0.1, 0.9, 5)))  # the pattern does find arrays
    assert not messages_with_float_arrays(mutant_results)


def test_messages_do_not_reveal_the_expected_pixels():
    seen: list = []
    spy = """
def preprocess_images(images):
    _seen.append(np.array(images))
    images = images.astype(np.float32) / 256
    return images[..., None] if images.ndim == 3 else images
"""
    namespace = reference(ASSIGNMENT, spy)
    namespace["_seen"] = seen
    results = score(ASSIGNMENT, namespace, seed=11, only=_select("preprocess_images"))
    output = results["test_preprocess_images_scales_uint8_to_unit_interval"].output
    assert seen and "not correct" in output
    expected = checks._preprocess(seen[0])
    for value in np.unique(expected)[1:40]:
        for text in (f"{value:.6g}", f"{value:.4f}", f"{value:.3f}"):
            assert text not in output, (text, output)
