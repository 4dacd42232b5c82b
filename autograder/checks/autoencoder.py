"""Hidden checks of the ``autoencoder`` assignment: compression, reconstruction, denoising.

The student implements ``build_autoencoder(input_dim, latent_dim)``, which returns
``(autoencoder, encoder, decoder)``, and ``add_noise(images, noise_factor, seed=0)``
(curriculum.md, section 8).

The models. The student's process only builds the three models ONCE, with sizes
the grader draws per run, and exports them as data; the judge
(:func:`autograder.judge.act_autoencoder`), a sandbox that never ran the
submission's code, rebuilds them (the encoder and decoder taking the weights of the
autoencoder's layers of the same name, so that layers the student's models share
stay shared) and reports their shapes, sizes and losses and what they compute on
the grader's random inputs: so the checks can
tell that the encoder squeezes ``input_dim`` values into exactly ``latent_dim``,
that the decoder's pixels stay in [0, 1] even for huge codes, and that the
autoencoder is the decoder applied to the encoder (three views of one set of
layers, not three separate networks). Any architecture that does that passes.

The learning checks train a fresh autoencoder from the student's builder in the
judge (the grader's seed, epochs and batch size; the student's compiled loss and
optimizer; no learning points for a model that meets the bar untrained or that
training does not change) on the 4,000 digits the
notebook uses, flattened to 784 values in [0, 1]. The judge gets the inputs of 1,000
held-out digits (the last 100 of each class, never in the notebook, perturbed per
run, see :mod:`autograder.checks._digits`) and returns the reconstructions, which
the grader scores here: against PCA with as many components as the code has (PCA
is the best *linear* autoencoder, fitted here on the same training digits), and,
for denoising, against the noisy inputs themselves.

``add_noise`` is checked by its properties, not by one random stream, since any
seeded generator is correct: same seed, same output; another seed, other noise;
the output clipped to [0, 1]; on pixels far enough inside (0, 1) that nothing is
clipped, ``(out - images) / noise_factor`` is standard normal (mean 0, standard
deviation 1, Gaussian tails);
noise factor 0 gives the images back; the input is not modified.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from autograder.checks import _digits
from autograder.checks._keras import (
    BINARY,
    BUILD_TIMEOUT,
    MSE,
    carried,
    expect_learned,
    expect_learning_credit,
    expect_loss,
    expect_param_budget,
    trained_predictions,
    training_seed,
)
from autograder.checks.common import (
    Inputs,
    describe,
    expect_finite,
    expect_finite_array,
    expect_shape,
    fail,
    points,
    report_metric,
    trains,
    unchanged_check,
)

#: The student functions these checks grade (curriculum order).
FUNCTIONS = ("build_autoencoder", "add_noise")
#: The installed data sets the checks read (their held-out rows: autograder.heldout).
DATASETS = ("mnist",)

#: Time (s) a training task may take (about 4 s on 2 cores for the reference): this
#: module's own limit, tighter than ``_keras.TRAIN_TIMEOUT``.
TRAIN_TIMEOUT = 120.0
#: Keras computes in float32: the autoencoder and decoder(encoder(x)) run the same
#: layers on the same numbers and agree to float32 rounding (below 1e-6 on outputs in
#: [0, 1]); 1e-5 leaves room for another summation order and catches separate layers,
#: whose random weights change the outputs by 1e-2 or more.
ATOL_FLOAT32 = 1e-5
#: The decoder's pixels must lie in [0, 1] even for codes of this size (a trained
#: code of the reference reaches about 30 in absolute value).
CODE_SCALE = 50.0

#: Loss names (lower case, as the judge reports them) of the two losses that fit pixels
#: in [0, 1]: the mean squared error and the binary cross-entropy.
RECONSTRUCTION_LOSSES = MSE | BINARY
#: Largest model build_autoencoder(784, latent_dim) may return: about 5 times the
#: reference's 210,000 parameters (784-128-latent-128-784). Room for a wider or deeper
#: network (784-256-64-latent-64-256-784 has about 440,000), but a network of millions
#: of weights does not fit 4,000 digits and would not train within the grader's time.
MAX_PARAMS = 1_000_000

# The learning checks, measured with this module's data and budget over the grading seeds
# 0-9 (data, code size and training seed drawn as in the checks), on 2 CPU cores shared
# with other work: 15 epochs of batch size 64, 2 to 4 s per training alone.
EPOCHS = 15
BATCH_SIZE = 64
#: The code sizes the reconstruction check draws from.
LATENT_SIZES = (16, 24, 32)
#: Held-out reconstruction MSE divided by that of PCA with latent_dim components (PCA's:
#: 0.032, 0.025, 0.021 for 16, 24, 32). The reference (784-128-latent-128-784, binary
#: cross-entropy, Adam) 0.86 +- 0.06 (worst 0.96); the kit's correct alternatives:
#: LeakyReLU, batch norm and dropout with Adam(2e-3) 0.70 +- 0.02 (worst 0.72), a deeper
#: 784-256-64-latent network with a ReLU code and the MSE 1.10 +- 0.09 (worst 1.25), a
#: single Dense layer each way 1.24 +- 0.07 (worst 1.36). Predicting the training mean
#: digit scores 2.17, 2.71 and 3.3 for 16, 24 and 32 numbers; a model that does not learn
#: (SGD, learning rate 1e-3) 8.2 +- 1.5 (best 6.9). Threshold 1.6: 0.24 above the worst
#: correct architecture, 0.57 below the mean digit.
#: Per backend, the MSE ratio to PCA of the reference over the grading seeds 0-4
#: (benchmarks/backend_metrics.py, 2 CPU cores): tensorflow 0.859±0.067 (max 0.964), jax
#: 0.874±0.063 (max 0.975), torch 0.859±0.047 (max 0.936) over 5 seeds.
MAX_RATIO_TO_PCA = 1.6
#: The denoising check: Gaussian noise of standard deviation NOISE_FACTOR, clipped to
#: [0, 1], on training and held-out digits; the code has DENOISE_LATENT numbers.
NOISE_FACTOR = 0.5
DENOISE_LATENT = 32
#: MSE of the denoised held-out digits to the clean ones divided by that of the noisy
#: inputs (0.115). Over the same seeds: the reference 0.296 +- 0.005 (worst 0.304); the
#: alternatives 0.248 +- 0.004, 0.343 +- 0.009 (worst 0.364) and 0.338 +- 0.006 (worst
#: 0.347). Outputting the training mean digit scores 0.60, returning the noisy input 1.0,
#: the model that does not learn 1.92 (best 1.91). Threshold 0.5: the noise's error at
#: least halved, 0.14 above the worst correct architecture and 0.10 below the mean digit.
#: Per backend, the denoising MSE ratio of the reference over the grading seeds 0-4
#: (benchmarks/backend_metrics.py, 2 CPU cores): tensorflow 0.296±0.004 (max 0.301), jax
#: 0.299±0.003 (max 0.303), torch 0.295±0.004 (max 0.301) over 5 seeds.
MAX_DENOISE_RATIO = 0.5
#: Partial credit of both learning checks is linear from a floor (no points) to the
#: threshold (full points). The floor is the better of the answers that need no learning:
#: for the reconstruction, the training mean digit output for every digit (its ratio to
#: PCA, computed per run: 2.2 to 3.3 above); for denoising, the mean digit (0.60 above) or
#: the noisy input returned as it is (1 by definition). NOISE_FLOOR_GAP keeps a denoising
#: floor at least that far above the threshold, so that the rule stays defined on any run
#: (the mean digit's 0.60 is 0.10 above it; the gap never binds on the data measured).
NOISY_INPUT_RATIO = 1.0
NOISE_FLOOR_GAP = 0.05

# ---------------------------------------------------------------------------
# Reference and data (stay in the grader).
# ---------------------------------------------------------------------------


def _add_noise(images: np.ndarray, noise_factor: float, rng: np.random.Generator) -> np.ndarray:
    noisy = images + noise_factor * rng.standard_normal(images.shape)
    return np.clip(noisy, 0.0, 1.0)


def _flat(images: np.ndarray) -> np.ndarray:
    """``(N, 28, 28)`` images (uint8 or floats in [0, 1]) as float64 ``(N, 784)`` in [0, 1]."""
    array = np.asarray(images, dtype=float)
    if np.issubdtype(np.asarray(images).dtype, np.integer):
        array = array / 255.0
    return array.reshape(len(array), -1)


@lru_cache(maxsize=1)
def _training_digits() -> np.ndarray:
    """The 4,000 digits of the notebook, ``(4000, 784)`` in [0, 1] (read-only)."""
    images, _ = _digits.digits()
    train = _flat(images[_digits.notebook_indices()])
    train.setflags(write=False)
    return train


def _held_out_digits(rng: np.random.Generator) -> np.ndarray:
    """The 1,000 held-out digits, perturbed for this run, ``(1000, 784)`` in [0, 1]."""
    images, _ = _digits.digits()
    return _flat(_digits.perturb(images[_digits.held_out_indices()], rng))


@lru_cache(maxsize=1)
def _principal_axes() -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(784,)`` and principal axes ``(784, 784)`` (rows, by decreasing variance).

    The eigenvectors of the scatter matrix span the same subspaces as the right singular
    vectors of the centred data, in a fifth of the time of an SVD.
    """
    train = _training_digits()
    mean = train.mean(axis=0)
    centred = train - mean  # (4000, 784)
    _, vectors = np.linalg.eigh(centred.T @ centred)  # ascending eigenvalues
    return mean, vectors[:, ::-1].T


def _mean_digit_mse(test: np.ndarray) -> float:
    """MSE of answering the training mean digit for every digit of ``test``: no learning."""
    mean, _ = _principal_axes()
    return float(np.mean((mean - test) ** 2))


def _pca_mse(test: np.ndarray, n_components: int) -> float:
    """MSE of PCA's reconstruction of ``test`` from ``n_components`` components."""
    mean, axes = _principal_axes()
    basis = axes[:n_components].T  # (784, k)
    codes = (test - mean) @ basis  # (N, k)
    return float(np.mean((codes @ basis.T + mean - test) ** 2))


# ---------------------------------------------------------------------------
# build_autoencoder: one build, three models.
# ---------------------------------------------------------------------------


def _sizes(rng: np.random.Generator) -> tuple[int, int]:
    """``(input_dim, latent_dim)`` drawn per run, far from the digits' 784 and 32."""
    return int(rng.integers(30, 121)), int(rng.integers(2, 13))


def _built(submission, rng, input_dim: int, latent_dim: int) -> tuple[dict, str]:
    """Build once in the student's process; fail unless three Keras models came back.

    The judge's ``autoencoder`` action describes and runs the three models of ONE build
    together (``_keras.model_facts`` describes one model of a build).
    """
    call = f"build_autoencoder({input_dim}, {latent_dim})"
    x = rng.random((5, input_dim))
    codes = CODE_SCALE * rng.standard_normal((6, latent_dim))
    result = submission.judge(
        "autoencoder", "build_autoencoder", args=[input_dim, latent_dim], x=x, codes=codes,
        seed=training_seed(rng), timeout=BUILD_TIMEOUT,
        student="build_autoencoder", doing=f"built the models of `{call}`",
    )  # fmt: skip
    if not isinstance(result, dict) or not isinstance(result.get("returned"), dict):
        fail(f"The grader could not inspect the models of `{call}`.")
    returned = result["returned"]
    what = str(returned.get("type"))[:40]
    if returned.get("length") is None:
        fail(
            f"`{call}` returned a single {what}; expected a tuple of three models "
            "`(autoencoder, encoder, decoder)`. Build the encoder and the decoder as models of "
            "their own, then the autoencoder from them, and `return autoencoder, encoder, decoder`."
        )
    if returned.get("length") != 3:
        fail(
            f"`{call}` returned a {what} of {returned.get('length')} items; expected three "
            "models `(autoencoder, encoder, decoder)`."
        )
    items = [str(item)[:40] for item in returned.get("items") or []]
    is_model = list(returned.get("models") or [])
    if len(is_model) != 3 or not all(is_model):
        fail(
            f"`{call}` returned a {what} of {', '.join(items)}; expected three keras Models "
            "`(autoencoder, encoder, decoder)`. Wrap each part in a model, e.g. "
            "`encoder = keras.Model(inputs, code)`; a layer's output (KerasTensor) is not a model."
        )
    return result, call


def _model(result: dict, name: str, call: str) -> dict:
    info = (result.get("models") or {}).get(name)
    if not isinstance(info, dict):
        fail(f"The grader could not inspect the {name} of `{call}`.")
    return info


def _shape_text(shape: Any) -> str:
    return "unknown" if shape is None else str(tuple(shape))


def _order_hint(result: dict, input_dim: int, latent_dim: int) -> str:
    """A hint when the three models are all there but returned in another order."""
    models = result.get("models") or {}
    expected = {
        "autoencoder": ([None, input_dim], [None, input_dim]),
        "encoder": ([None, input_dim], [None, latent_dim]),
        "decoder": ([None, latent_dim], [None, input_dim]),
    }
    shapes = {
        name: (info.get("input_shape"), info.get("output_shape"))
        for name, info in models.items()
        if isinstance(info, dict)
    }
    if len(shapes) != 3 or all(shapes[name] == expected[name] for name in expected):
        return ""
    kinds = {
        name: next((kind for kind, shape in expected.items() if shape == shapes[name]), None)
        for name in shapes
    }
    if sorted(map(str, kinds.values())) == sorted(expected):
        order = ", ".join(str(kinds[name]) for name in ("autoencoder", "encoder", "decoder"))
        return (
            f" Your models look like ({order}) in that order: return them as "
            "`(autoencoder, encoder, decoder)`."
        )
    return ""


def _output(result: dict, key: str, call: str, shape: tuple, hint: str) -> np.ndarray:
    """An output the task computed, or a failure saying why the grader could not compute it."""
    error = (result.get("errors") or {}).get(key)
    if error is not None:
        fail(
            f"Calling `{key}` for the models of `{call}` on inputs of the right shape raised "
            f"{str(error)[:300]}. {hint}"
        )
    value = (result.get("outputs") or {}).get(key)
    what = f"{key} for the models of {call}"
    return expect_finite(what, expect_shape(what, value, shape, hint=hint), hint=hint)


@points(1)
def test_build_autoencoder_returns_three_models(submission, rng):
    """build_autoencoder returns a tuple (autoencoder, encoder, decoder) of three keras Models."""
    input_dim, latent_dim = _sizes(rng)
    result, call = _built(submission, rng, input_dim, latent_dim)
    hint = _order_hint(result, input_dim, latent_dim)
    if hint:
        fail(f"`{call}` returned its three models in another order.{hint}")


@points(1)
def test_build_autoencoder_encoder_maps_input_to_latent_code(submission, rng):
    """The encoder maps (None, input_dim) to exactly (None, latent_dim): the bottleneck."""
    input_dim, latent_dim = _sizes(rng)
    result, call = _built(submission, rng, input_dim, latent_dim)
    info = _model(result, "encoder", call)
    got_in, got_out = info.get("input_shape"), info.get("output_shape")
    order = _order_hint(result, input_dim, latent_dim)
    if got_in != [None, input_dim]:
        hint = (
            f" Use the argument: `keras.Input(shape=(input_dim,))`, not a fixed size "
            f"like {got_in[-1]}."
            if isinstance(got_in, list) and len(got_in) == 2
            else " The encoder reads flat vectors: `keras.Input(shape=(input_dim,))`."
        )
        fail(
            f"The encoder of `{call}` has input shape {_shape_text(got_in)}; expected "
            f"(None, {input_dim}).{order or hint}"
        )
    if got_out != [None, latent_dim]:
        if isinstance(got_out, list) and len(got_out) == 2 and isinstance(got_out[1], int):
            hint = (
                f" The encoder must end with exactly latent_dim = {latent_dim} units: the code "
                "is the narrow middle of the network, everything the decoder gets to see. "
                "End the encoder with `keras.layers.Dense(latent_dim)`."
            )
        else:
            hint = " The code is a flat vector of latent_dim numbers per input."
        fail(
            f"The encoder of `{call}` has output shape {_shape_text(got_out)}; expected "
            f"(None, {latent_dim}).{order or hint}"
        )
    _output(result, "encoder(x)", call, (5, latent_dim), hint="The encoder maps (N, input_dim) "
            "to codes (N, latent_dim).")  # fmt: skip


@points(1)
def test_build_autoencoder_decoder_maps_code_back_to_input(submission, rng):
    """The decoder maps (None, latent_dim) back to (None, input_dim)."""
    input_dim, latent_dim = _sizes(rng)
    result, call = _built(submission, rng, input_dim, latent_dim)
    info = _model(result, "decoder", call)
    order = _order_hint(result, input_dim, latent_dim)
    for side, expected, hint in (
        ("input", latent_dim, " The decoder starts from a code: `keras.Input(shape=(latent_dim,))`."),
        ("output", input_dim, " The decoder ends with `keras.layers.Dense(input_dim, ...)`: one "
         "value per input feature."),
    ):  # fmt: skip
        got = info.get(f"{side}_shape")
        if got != [None, expected]:
            fail(
                f"The decoder of `{call}` has {side} shape {_shape_text(got)}; expected "
                f"(None, {expected}).{order or hint}"
            )
    _output(result, "decoder(codes)", call, (6, input_dim),
            hint="The decoder maps codes (N, latent_dim) to (N, input_dim).")  # fmt: skip


@points(1)
def test_build_autoencoder_autoencoder_keeps_the_input_shape(submission, rng):
    """The autoencoder maps (None, input_dim) to (None, input_dim): a reconstruction of its input."""
    input_dim, latent_dim = _sizes(rng)
    result, call = _built(submission, rng, input_dim, latent_dim)
    info = _model(result, "autoencoder", call)
    order = _order_hint(result, input_dim, latent_dim)
    for side in ("input", "output"):
        got = info.get(f"{side}_shape")
        if got != [None, input_dim]:
            fail(
                f"The autoencoder of `{call}` has {side} shape {_shape_text(got)}; expected "
                f"(None, {input_dim}): it reconstructs its input.{order or ' Build it as `keras.Model(inputs, decoder(encoder(inputs)))`.'}"
            )
    _output(result, "autoencoder(x)", call, (5, input_dim),
            hint="The autoencoder maps (N, input_dim) to (N, input_dim).")  # fmt: skip


@points(1)
def test_build_autoencoder_decoder_outputs_lie_in_unit_interval(submission, rng):
    """The decoder's outputs lie in [0, 1] for any code, even a huge one (a sigmoid output layer)."""
    input_dim, latent_dim = _sizes(rng)
    result, call = _built(submission, rng, input_dim, latent_dim)
    out = _output(result, "decoder(codes)", call, (6, input_dim),
                  hint="The decoder maps codes (N, latent_dim) to (N, input_dim).")  # fmt: skip
    low, high = float(out.min()), float(out.max())
    if not (low >= 0.0 and high <= 1.0):
        if low >= 0.0:
            why = "A ReLU (or linear) output is not bounded above."
        elif high <= 1.0 and low >= -1.0:
            why = "A tanh output reaches down to -1."
        else:
            why = "A linear output is not bounded."
        fail(
            f"The decoder of `{call}`, given random codes of size up to about {CODE_SCALE:g}, "
            f"returned values from {low:.3g} to {high:.3g}; expected every value in [0, 1], "
            f"like the pixels it reconstructs. {why} End the decoder with "
            "`keras.layers.Dense(input_dim, activation='sigmoid')`."
        )


@points(1)
def test_build_autoencoder_autoencoder_equals_decoder_of_encoder(submission, rng):
    """One build's autoencoder(x) equals decoder(encoder(x)): the three models share their layers."""
    input_dim, latent_dim = _sizes(rng)
    result, call = _built(submission, rng, input_dim, latent_dim)
    hint = "The three models map (N, input_dim) -> (N, latent_dim) -> (N, input_dim)."
    direct = _output(result, "autoencoder(x)", call, (5, input_dim), hint=hint)
    chained = _output(result, "decoder(encoder(x))", call, (5, input_dim), hint=hint)
    difference = float(np.max(np.abs(direct - chained)))
    if not difference <= ATOL_FLOAT32:
        fail(
            f"For the three models of ONE call `{call}`, autoencoder(x) and decoder(encoder(x)) "
            f"differ by up to {difference:.3g} on the same x; expected them to be equal "
            f"(within {ATOL_FLOAT32:g}, float32 rounding). The autoencoder must be built from "
            "the very encoder and decoder you return, e.g. "
            "`autoencoder = keras.Model(inputs, decoder(encoder(inputs)))`: then training it "
            "trains them. Layers created anew for the autoencoder have weights of their own."
        )


@points(1)
def test_build_autoencoder_compiled_with_reconstruction_loss(submission, rng):
    """The autoencoder is compiled with the mean squared error or the binary cross-entropy."""
    input_dim, latent_dim = _sizes(rng)
    result, call = _built(submission, rng, input_dim, latent_dim)
    info = _model(result, "autoencoder", call)
    expect_loss(
        call,
        info,
        RECONSTRUCTION_LOSSES,
        compile_hint="Compile the autoencoder: call `autoencoder.compile(optimizer='adam', "
        "loss='binary_crossentropy')` (or loss='mse') before returning it."
        + _order_hint(result, input_dim, latent_dim),
        hints={
            "categorical": "Categorical cross-entropy expects one class per row; each pixel "
            "here is a value of its own."
        },
        default_hint="A reconstruction compares each output pixel with the input pixel.",
        what="the mean squared error ('mse') or the binary cross-entropy ('binary_crossentropy')",
    )
    if info.get("from_logits"):
        fail(
            f"The autoencoder of `{call}` is compiled with a binary cross-entropy that has "
            "from_logits=True, but its decoder ends with a sigmoid: its outputs are already "
            "probabilities. Use from_logits=False (the default)."
        )


@points(1)
def test_build_autoencoder_parameter_budget(submission, rng):
    """build_autoencoder(784, latent_dim) has at most 1,000,000 parameters."""
    latent_dim = int(rng.choice(LATENT_SIZES))
    result, call = _built(submission, rng, 784, latent_dim)
    expect_param_budget(
        call,
        _model(result, "autoencoder", call),
        MAX_PARAMS,
        hint="One hidden layer of 128 units on each side (about 210,000 parameters) is "
        "plenty for 4,000 digits and trains in seconds; millions of weights would memorise "
        "the training digits and take too long to train.",
    )


def _trained_outputs(
    submission, rng, call: str, x_train, y_train, x_test, latent_dim: int, ratio_of, threshold
) -> tuple[np.ndarray, float | None]:
    """A fresh autoencoder trained by the grader on (x_train, y_train); its outputs for x_test.

    ``ratio_of(outputs)`` is the check's error ratio, to stay at most ``threshold``:
    an untrained model that meets it, and that training does not help, carries its
    answers (see ``expect_learned``).

    Returns:
        ``(outputs, the untrained model's ratio)``; the ratio is None when the untrained
        outputs are not of the outputs' shape.
    """
    # float32, the dtype Keras trains in: half the bytes through the channel.
    x_train, y_train, x_test = (np.asarray(a, dtype=np.float32) for a in (x_train, y_train, x_test))
    before, outputs = trained_predictions(
        submission, "build_autoencoder", x_train=x_train, y_train=y_train, x_test=x_test,
        epochs=EPOCHS, batch_size=BATCH_SIZE, args=[x_train.shape[1], latent_dim], pick=0,
        seed=training_seed(rng), timeout=TRAIN_TIMEOUT,
        student="build_autoencoder", doing=f"trained {call}",
    )  # fmt: skip
    outputs = expect_shape(
        f"{call}, its reconstructions of the held-out digits",
        outputs,
        x_test.shape,
        hint="The autoencoder maps (N, 784) to (N, 784).",
    )
    outputs = expect_finite(
        call,
        outputs,
        hint="Training diverged: compile with loss='binary_crossentropy' (or 'mse') and Adam.",
    )
    untrained = np.asarray(before, dtype=float)
    untrained_ratio = ratio_of(untrained) if untrained.shape == outputs.shape else None
    expect_learned(
        call.capitalize(), before, outputs,
        met_before=untrained_ratio is not None
        and carried(untrained_ratio, ratio_of(outputs), threshold, higher_is_better=False),
    )  # fmt: skip
    return outputs, untrained_ratio


@points(5)
@trains
def test_build_autoencoder_reconstructs_held_out_digits_like_pca(submission, rng):
    """Trained by the grader, the autoencoder reconstructs held-out digits within 1.6 times PCA's error (partial credit from the mean digit's)."""
    latent_dim = int(rng.choice(LATENT_SIZES))
    x_train = _training_digits()
    x_test = _held_out_digits(rng)
    call = (
        f"the autoencoder of build_autoencoder(784, {latent_dim}), trained for {EPOCHS} epochs "
        f"with batch size {BATCH_SIZE} on the 4,000 notebook digits"
    )
    pca_mse = _pca_mse(x_test, latent_dim)
    floor = _mean_digit_mse(x_test) / pca_mse

    def ratio_of(outputs: np.ndarray) -> float:
        return float(np.mean((outputs - x_test) ** 2)) / pca_mse

    outputs, untrained = _trained_outputs(
        submission, rng, call, x_train, x_train, x_test, latent_dim,
        ratio_of, MAX_RATIO_TO_PCA,
    )  # fmt: skip
    ratio = ratio_of(outputs)
    report_metric(
        submission, "autoencoder_mse_ratio_to_pca", ratio,
        threshold=MAX_RATIO_TO_PCA, higher_is_better=False,
    )  # fmt: skip
    expect_learning_credit(
        f"{call.capitalize()} reconstructed 1,000 held-out digits with a mean squared error "
        f"{ratio:.2f} times that of PCA with {latent_dim} components",
        ratio, floor=floor, threshold=MAX_RATIO_TO_PCA, higher_is_better=False, fmt=".2f",
        untrained=untrained,
        floor_reason="what outputting the training mean digit for every digit gets",
        hint=f"Hint: the model must learn within {EPOCHS} epochs: a hidden ReLU layer of "
        "about 128 units on each side of the code, a sigmoid output, "
        "loss='binary_crossentropy' (or 'mse') and Adam with its default learning rate.",
    )  # fmt: skip


@points(3)
@trains
def test_build_autoencoder_denoises_held_out_digits(submission, rng):
    """Trained on noisy -> clean digits, the autoencoder at least halves the noise's error (partial credit from the mean digit's)."""
    clean_train = _training_digits()
    clean_test = _held_out_digits(rng)
    noisy_train = _add_noise(clean_train, NOISE_FACTOR, rng)
    noisy_test = _add_noise(clean_test, NOISE_FACTOR, rng)
    call = (
        f"the autoencoder of build_autoencoder(784, {DENOISE_LATENT}), trained for {EPOCHS} "
        f"epochs with batch size {BATCH_SIZE} to map the 4,000 notebook digits with noise "
        f"(noise factor {NOISE_FACTOR:g}) to the clean digits"
    )
    noise_mse = float(np.mean((noisy_test - clean_test) ** 2))
    floor = max(
        min(NOISY_INPUT_RATIO, _mean_digit_mse(clean_test) / noise_mse),
        MAX_DENOISE_RATIO + NOISE_FLOOR_GAP,
    )

    def ratio_of(outputs: np.ndarray) -> float:
        return float(np.mean((outputs - clean_test) ** 2)) / noise_mse

    outputs, untrained = _trained_outputs(
        submission, rng, call, noisy_train, clean_train, noisy_test, DENOISE_LATENT,
        ratio_of, MAX_DENOISE_RATIO,
    )  # fmt: skip
    ratio = ratio_of(outputs)
    report_metric(
        submission, "autoencoder_denoising_mse_ratio", ratio,
        threshold=MAX_DENOISE_RATIO, higher_is_better=False,
    )  # fmt: skip
    expect_learning_credit(
        f"{call.capitalize()}: its outputs for 1,000 noisy held-out digits have a mean "
        f"squared error to the clean digits {ratio:.2f} times that of the noisy inputs "
        "(full points for the noise's error at least halved)",
        ratio, floor=floor, threshold=MAX_DENOISE_RATIO, higher_is_better=False, fmt=".2f",
        untrained=untrained,
        floor_reason="what outputting the training mean digit for every input gets, or the "
        "noisy input itself if that is better",
        hint="Hint: the model must learn within the grader's budget; see the hint of the "
        "reconstruction check, and keep the code narrow (latent_dim units), so that the "
        "noise cannot pass through.",
    )  # fmt: skip


# ---------------------------------------------------------------------------
# add_noise
# ---------------------------------------------------------------------------


def _noise_call(images: np.ndarray, noise_factor: float, seed: int | None) -> str:
    seed_text = "" if seed is None else f", seed={seed}"
    return f"add_noise(images, {noise_factor:g}{seed_text}) with images of shape {images.shape}"


def _noisy(submission, images: np.ndarray, noise_factor: float, seed: int | None) -> np.ndarray:
    """The student's noisy images, checked to be a finite float array of the images' shape."""
    call = _noise_call(images, noise_factor, seed)
    kwargs = {} if seed is None else {"seed": seed}
    return _expect_noisy(call, submission.call("add_noise", images, noise_factor, **kwargs), images)


def _expect_noisy(call: str, result: Any, images: np.ndarray) -> np.ndarray:
    """Fail unless ``result`` is a finite float array of the images' shape; return it."""
    out = expect_finite_array(
        call, result, images.shape,
        hint="Add one noise value per pixel: the output has the shape of images, every "
        "value a number in [0, 1].",
    )  # fmt: skip
    if np.asarray(result).dtype.kind != "f":
        fail(
            f"`{call}` returned {describe(result)}; expected a float array, the pixels being "
            "values in [0, 1]."
        )
    return out


def _digit_like(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Pixels in [0, 1], like digits: 40 % exactly 0, 20 % exactly 1, the rest in between."""
    u = rng.random(shape)
    return np.where(u < 0.4, 0.0, np.where(u < 0.6, 1.0, rng.random(shape)))


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(1, 10_000))


@points(1)
def test_add_noise_keeps_shape_and_float_dtype(submission, rng):
    """add_noise returns a finite float array of the images' shape, for flat and 2-D images alike."""
    for shape in ((int(rng.integers(3, 9)), 784), (int(rng.integers(2, 6)), 28, 28)):
        _noisy(submission, _digit_like(rng, shape), round(float(rng.uniform(0.2, 0.6)), 2),
               _seed(rng))  # fmt: skip


@points(1)
def test_add_noise_output_clipped_to_unit_interval(submission, rng):
    """add_noise clips its output to [0, 1]: pixels pushed below 0 become exactly 0, above 1 exactly 1."""
    images = _digit_like(rng, (int(rng.integers(20, 40)), 100))
    noise_factor = round(float(rng.uniform(0.4, 0.8)), 2)
    seed = _seed(rng)
    call = _noise_call(images, noise_factor, seed)
    out = _noisy(submission, images, noise_factor, seed)
    low, high = float(out.min()), float(out.max())
    if not (low >= 0.0 and high <= 1.0):
        fail(
            f"`{call}` returned values from {low:.3g} to {high:.3g}; expected every value in "
            "[0, 1]. Clip the noisy images (not the input): "
            "`np.clip(images + noise_factor * noise, 0.0, 1.0)`."
        )
    # About half the pixels that are 0 (40 % of them) get negative noise and must be
    # clipped to exactly 0; likewise at 1. Rescaling instead of clipping leaves one of each.
    for bound in (0.0, 1.0):
        share = float(np.mean(out == bound))
        if not share >= 0.05:
            fail(
                f"`{call}` returned only {share:.1%} of its values exactly {bound:g}, although "
                f"{np.mean(images == bound):.0%} of the pixels are {bound:g} and the noise "
                f"pushes about half of those past {bound:g}; expected them clipped to exactly "
                f"{bound:g}. Use np.clip(noisy, 0.0, 1.0) rather than rescaling or squashing "
                "the noisy images."
            )


#: Slack of the share of |z| < 0.5: a float32 result rounds z by up to 3e-6 at a noise
#: factor of 0.02, moving about 0.04 of 20,000 pixels across 0.5; 1e-3 is 20 of them.
CENTRAL_SLACK = 1e-3


@points(2)
def test_add_noise_noise_is_gaussian_with_std_noise_factor(submission, rng):
    """On pixels in [0.3, 0.7], (out - images) / noise_factor has mean 0, std 1 and Gaussian tails."""
    # Pixels in [0.3, 0.7] and noise of std at most 0.05: clipping needs 6 standard
    # deviations (probability 2e-9 per pixel), so the statistics are taken over every
    # pixel, a set the grader chooses. Were one clipped, its value would lie no further
    # out than the noise that clipped it, so it cannot make a correct sample fail.
    images = rng.uniform(0.3, 0.7, size=(50, 400))
    noise_factor = round(float(rng.uniform(0.02, 0.05)), 3)
    seed = _seed(rng)
    call = _noise_call(images, noise_factor, seed)
    out = _noisy(submission, images, noise_factor, seed)
    z = ((out - images) / noise_factor).ravel()
    n = z.size
    mean, std = float(z.mean()), float(z.std())
    # The shape: the share of |z| < 0.5, for Gaussian noise a binomial frequency of
    # probability erf(0.5 / sqrt(2)) = 0.3829; uniform noise of std 1 gives 0.289,
    # Laplace noise 0.507.
    central = float(np.mean(np.abs(z) < 0.5))
    # Tolerances, for correct noise z ~ N(0, 1) exactly (n = 20,000), each statistic
    # failing with probability below 1e-7: the mean is N(0, 1/n), and 6 / sqrt(n) is a
    # 2e-9 tail. n * std**2 is chi-square (n - 1): by Laurent and Massart's bounds,
    # P(chi2 - n >= 2 sqrt(n x) + 2 x) and P(n - chi2 >= 2 sqrt(n x)) are below
    # exp(-x), and |std - 1| > 6 / sqrt(2 n) needs x > 17.4 (5e-8 both sides). The
    # share: Bernstein, 2 exp(-n t**2 / (2 p (1 - p) + 2 t / 3)) = 1e-7 at t = 0.021,
    # plus CENTRAL_SLACK for pixels whose float32 rounding moves |z| across 0.5.
    central_tolerance = np.sqrt(2 * 0.3829 * 0.6171 * np.log(2e7) / n) + np.log(2e7) / (3 * n)
    what = f"(out - images) / {noise_factor:g} for the {n} pixels"
    if not abs(mean) <= 6 / np.sqrt(n):
        if z.min() >= 0:
            hint = (
                "Your noise is never negative: draw it with rng.standard_normal(images.shape) "
                "(or rng.normal(0.0, 1.0, ...)), not rng.random, whose values lie in [0, 1)."
            )
        else:
            hint = (
                "Add noise_factor * N(0, 1) to the images and clip; nothing else may change "
                "the pixels (no rescaling, no shift)."
            )
        fail(f"`{call}`: {what} has mean {mean:.3g}; expected 0, the mean of the noise. {hint}")
    if not abs(std - 1.0) <= 6 / np.sqrt(2 * n):
        if abs(std - noise_factor) < 0.2 * noise_factor:
            hint = (
                "Your noise has standard deviation noise_factor ** 2: the factor is applied "
                "twice. Multiply standard normal noise by noise_factor once."
            )
        elif abs(std - 1 / np.sqrt(3)) < 0.03:
            hint = (
                "Your noise looks uniform on [-1, 1]: draw it from the standard normal "
                "distribution, rng.standard_normal(images.shape)."
            )
        else:
            hint = "Add noise_factor * N(0, 1) noise: noise_factor is its standard deviation."
        fail(f"`{call}`: {what} has standard deviation {std:.3g}; expected 1. {hint}")
    if not abs(central - 0.3829) <= central_tolerance + CENTRAL_SLACK:
        fail(
            f"`{call}`: {what} has mean 0 and standard deviation 1, but {central:.1%} of it "
            "lies within 0.5 of 0; expected 38.3 %, as for a Gaussian (a uniform noise gives "
            "28.9 %: its kurtosis is 1.8, not the Gaussian's 3). Draw "
            "the noise from the standard normal distribution, rng.standard_normal(images.shape)."
        )


@points(1)
def test_add_noise_same_seed_same_output(submission, rng):
    """add_noise with the same seed (given, or the default 0) returns the same noisy images."""
    images = rng.uniform(0.2, 0.8, size=(int(rng.integers(4, 9)), 64))
    noise_factor = round(float(rng.uniform(0.2, 0.5)), 2)
    for seed in (_seed(rng), None):
        first = _noisy(submission, images, noise_factor, seed)
        again = _noisy(submission, images, noise_factor, seed)
        if not np.array_equal(first, again):
            fail(
                f"`{_noise_call(images, noise_factor, seed)}`, called twice, returned "
                f"different noise ({int(np.sum(first != again))} of {first.size} values "
                "differ); expected the same output for the same seed, so that experiments "
                "repeat. Make a generator from the seed, rng = np.random.default_rng(seed), "
                "and draw the noise from it (np.random.normal ignores the seed)."
            )


@points(1)
def test_add_noise_different_seeds_different_noise(submission, rng):
    """add_noise with two different seeds adds different noise."""
    images = rng.uniform(0.3, 0.7, size=(int(rng.integers(4, 9)), 64))
    noise_factor = round(float(rng.uniform(0.05, 0.1)), 3)
    first_seed = _seed(rng)
    second_seed = first_seed + int(rng.integers(1, 100))
    first = _noisy(submission, images, noise_factor, first_seed)
    second = _noisy(submission, images, noise_factor, second_seed)
    share = float(np.mean(first != second))
    if not share >= 0.5:
        fail(
            f"`add_noise(images, {noise_factor:g}, seed={first_seed})` and `add_noise(images, "
            f"{noise_factor:g}, seed={second_seed})` differ in only {share:.0%} of the pixels; "
            "expected different noise for different seeds. Pass the seed to the generator: "
            "rng = np.random.default_rng(seed), not a fixed number."
        )


@points(1)
def test_add_noise_zero_factor_returns_images(submission, rng):
    """add_noise(images, 0.0) returns the images unchanged (they already lie in [0, 1])."""
    images = _digit_like(rng, (int(rng.integers(4, 9)), 784))
    seed = _seed(rng)
    out = _noisy(submission, images, 0.0, seed)
    # 1e-6: room for a float32 result, whose rounding of a pixel is at most 3e-8.
    difference = float(np.max(np.abs(out - images)))
    if not difference <= 1e-6:
        fail(
            f"`{_noise_call(images, 0.0, seed)}` changed the pixels by up to {difference:.3g}; "
            "expected the images back unchanged with noise_factor 0. Hint: the noise is "
            "noise_factor * N(0, 1), added to the images, and nothing else changes them."
        )


# ---------------------------------------------------------------------------
# Inputs unchanged: one shared check per function (common.unchanged_check)
# ---------------------------------------------------------------------------


def _add_noise_inputs(rng: np.random.Generator) -> Inputs:
    images = _digit_like(rng, (int(rng.integers(4, 9)), 784))
    noise_factor = round(float(rng.uniform(0.2, 0.6)), 2)
    seed = _seed(rng)
    return Inputs(
        {"images": images, "noise_factor": noise_factor},
        {"seed": seed},
        lambda call, answer: _expect_noisy(call, answer, images),
        call=_noise_call(images, noise_factor, seed),
    )


test_add_noise_does_not_modify_images = unchanged_check(
    "add_noise", _add_noise_inputs, doc="add_noise leaves its images argument unchanged."
)
