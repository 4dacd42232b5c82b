"""What holds for the hidden checks of ``cnn`` only (the rest: test_every_assignment.py).

The reference, the stubs, the table's mistakes and alternatives
(``autograder/cases/cnn.py``) are tried by ``test_every_assignment.py``; here: the
grader's own reference and data against the notebook's, what the judge reports of a
model, a mistake that must cost one check only, the
learning check's data and margins, and that no message reveals hidden values.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from autograder.checks import _digits
from autograder.checks import cnn as checks
from autograder.checks._keras import learning_credit
from autograder.checks.common import PartialCredit, partial
from autograder.scoring import run_checks
from autograder.submission import LocalSubmission
from tests.harness import (
    FLOAT_RUN,
    GRADER_FAULT,
    ROOT,
    SyntheticTraining,
    assert_learning_outcome,
    learning_outcome,
    mistaken,
    reference,
    reference_training_run,
    score,
    training_requests,
)

ASSIGNMENT = "cnn"
LEARNING_CHECK = "test_build_cnn_classifies_held_out_digits"
METRIC = "cnn_test_accuracy"

# Keras warns about layers it builds lazily (nested models called on an Input).
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


# ---------------------------------------------------------------------------
# The grader's reference, its data and what the judge reports.
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
# The learning check on the reference.
# ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_learning_run_reports_its_accuracy_against_the_threshold(seed):
    _, submission = reference_training_run(ASSIGNMENT, seed)
    metric = submission.metrics[METRIC]
    assert metric["passed"] and metric["threshold"] == checks.MIN_ACCURACY
    assert metric["value"] >= metric["threshold"]


@pytest.mark.slow
def test_learning_task_gets_no_held_out_labels_nor_raw_held_out_digits():
    """The training task receives training images and one-hot labels, and test images only."""
    _, submission = reference_training_run(ASSIGNMENT, 0)
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


# ---------------------------------------------------------------------------
# A mistake that costs one check and no other.
# ---------------------------------------------------------------------------


def test_forgotten_channel_axis_costs_the_channel_check_only():
    """The value checks judge the values whatever the layout: one mistake, one check."""
    namespace = mistaken(ASSIGNMENT, "preprocess_forgets_the_channel_axis")
    results = score(ASSIGNMENT, namespace, 7, only="preprocess_images")
    failed = {name for name, result in results.items() if not result.passed}
    assert failed == {"test_preprocess_images_adds_channel_axis_last"}


@pytest.fixture(scope="module")
def learning_mistake_run():
    """The learning check on the builder whose learning rate is far too high."""
    submission = LocalSubmission(mistaken(ASSIGNMENT, "build_learning_rate_far_too_high"), seed=4)
    (result,) = run_checks(ASSIGNMENT, submission, lambda name: name == LEARNING_CHECK)
    return result, submission


@pytest.mark.slow
def test_builder_that_does_not_learn_is_far_under_the_threshold(learning_mistake_run):
    result, submission = learning_mistake_run
    assert not result.passed
    assert GRADER_FAULT not in result.output
    assert "learning rate" in result.output, result.output
    # It does not learn at all: near chance (0.1), far under the threshold (or it diverged).
    assert submission.metrics.get(METRIC, {"value": 0.0})["value"] < 0.5


# ---------------------------------------------------------------------------
# Messages reveal no hidden values.
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_learning_message_reveals_no_labels(learning_mistake_run):
    output = learning_mistake_run[0].output
    assert not FLOAT_RUN.search(output), output
    assert not re.search(r"\d{6,}", output), output  # no string of held-out labels
    # The only measured figure: the accuracy, as a percentage with one decimal.
    measured = re.findall(r"\d+\.\d+%", output)
    assert len(measured) == 1, output


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
    results = score(ASSIGNMENT, namespace, seed=11, only="preprocess_images")
    output = results["test_preprocess_images_scales_uint8_to_unit_interval"].output
    assert seen and "not correct" in output
    expected = checks._preprocess(seen[0])
    for value in np.unique(expected)[1:40]:
        for text in (f"{value:.6g}", f"{value:.4f}", f"{value:.3f}"):
            assert text not in output, (text, output)


# ---------------------------------------------------------------------------
# Partial credit: a model that does not learn keeps at most half of build_cnn's points.
# ---------------------------------------------------------------------------


def test_learning_credit_is_linear_from_the_floor_to_the_threshold():
    """The rule itself (autograder.checks._keras), for both directions of a measure."""
    up = {"floor": 0.1, "threshold": 0.93, "higher_is_better": True}
    assert learning_credit(0.93, **up) == learning_credit(1.0, **up) == 1.0
    assert learning_credit(0.1, **up) == learning_credit(0.0, **up) == 0.0
    assert learning_credit(0.1 + 0.83 / 2, **up) == 0.5
    assert learning_credit(0.9299, **up) == 0.99  # rounded down: never more than earned
    assert learning_credit(float("nan"), **up) == 0.0
    down = {"floor": 1.0, "threshold": 0.6, "higher_is_better": False}
    assert learning_credit(0.6, **down) == learning_credit(0.1, **down) == 1.0
    assert learning_credit(1.0, **down) == learning_credit(5.0, **down) == 0.0
    assert learning_credit(0.8, **down) == 0.5
    values = np.linspace(-0.5, 1.5, 401)
    fractions = [learning_credit(v, **up) for v in values]
    assert np.all(np.diff(fractions) >= 0) and set(np.round(fractions, 2)) >= {0.0, 1.0}
    fractions = [learning_credit(v, **down) for v in values]
    assert np.all(np.diff(fractions) <= 0)
    with pytest.raises(ValueError):  # a floor beyond the threshold is a fault of the check
        learning_credit(0.5, floor=0.95, threshold=0.93, higher_is_better=True)


def test_partial_ends_a_check_with_its_fraction():
    with pytest.raises(PartialCredit) as raised:
        partial(0.25, "A quarter.")
    assert raised.value.fraction == 0.25 and str(raised.value) == "A quarter."
    assert partial(1.0, "All.") is None
    for nothing in (0.0, -1.0, float("nan")):
        with pytest.raises(AssertionError) as raised:
            partial(nothing, "None.")
        assert not isinstance(raised.value, PartialCredit)


def _digits_answered(accuracy: float, before_accuracy: float = 0.1):
    """A judge whose model classifies ``accuracy`` of the held-out digits, untrained ``before_accuracy``."""
    labels = _digits.digits()[1][_digits.held_out_indices()]

    def rows(share: float) -> np.ndarray:
        right = np.arange(len(labels)) < round(share * len(labels))
        answers = np.where(right, labels, (labels + 1) % _digits.N_CLASSES)
        return np.eye(_digits.N_CLASSES)[answers]

    return SyntheticTraining(lambda payload: (rows(before_accuracy) * 0.9 + 0.01, rows(accuracy)))


@pytest.mark.parametrize(
    ("accuracy", "fraction"),
    [(0.05, 0.0), (0.1, 0.0), (0.1 + 0.83 / 4, 0.25), (0.515, 0.5), (0.929, 0.99), (0.93, 1.0),
     (0.99, 1.0)],
)  # fmt: skip
def test_learning_check_gives_partial_credit_from_chance(accuracy, fraction):
    """On made-up predictions (no Keras): full points from 93%, none at chance (10%)."""
    assert_learning_outcome(
        checks.test_build_cnn_classifies_held_out_digits,
        _digits_answered(accuracy),
        fraction,
        f"{accuracy:.1%} of 1000 held-out digits",
        "at least 93%",
        "at most 10% (chance",
    )


def test_partial_credit_goes_to_no_model_that_carried_its_answers():
    """Untrained already at 60%, and training does not help: none of the points."""
    got, message = learning_outcome(
        checks.test_build_cnn_classifies_held_out_digits, _digits_answered(0.6, 0.6)
    )
    assert got == 0.0 and "already scored 60%" in message and "did not improve" in message
    # The same 60% learned from chance gets its share.
    assert learning_outcome(
        checks.test_build_cnn_classifies_held_out_digits, _digits_answered(0.6, 0.1)
    )[0] == pytest.approx(0.6)


def test_runner_scores_partial_credit_as_a_fraction_of_the_points():
    """scoring.run_checks turns the fraction into points, and results.json shows them."""
    from autograder.results import Results

    (result,) = run_checks(ASSIGNMENT, _digits_answered(0.515), lambda name: name == LEARNING_CHECK)
    assert result.max_score == 8 and result.score == 4.0 and not result.passed
    document = Results([result]).to_gradescope()
    assert document["score"] == 4.0 and document["tests"][0]["status"] == "failed"


@pytest.mark.slow
def test_a_model_that_learns_too_slowly_gets_a_share_of_the_learning_points():
    """Adam at 5e-6 classifies about 41% of the digits after 8 epochs (seed 0): 0.37 of 8."""
    submission = LocalSubmission(mistaken(ASSIGNMENT, "build_learning_rate_far_too_low"), seed=0)
    (result,) = run_checks(ASSIGNMENT, submission, lambda name: name == LEARNING_CHECK)
    accuracy = submission.metrics[METRIC]["value"]
    assert 0 < result.score < result.max_score, (result.score, result.output)
    assert result.score == round(8 * learning_credit(accuracy, floor=0.1, threshold=0.93,
                                                     higher_is_better=True), 4)  # fmt: skip
    assert "grow linearly" in result.output and f"{accuracy:.1%}" in result.output
