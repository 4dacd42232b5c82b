"""The hidden checks of ``rbm`` against the reference, the stubs, mistakes and alternatives."""

from __future__ import annotations

import re

import numpy as np
import pytest

from autograder.scoring import function_of, graded_functions, run_checks
from autograder.submission import LocalSubmission
from tests.harness import (
    FLOAT_RUN,
    assert_caught_helpfully,
    messages_with_float_arrays,
    reference,
    released,
    score,
)

ASSIGNMENT = "rbm"
FUNCTIONS = (
    "hidden_probabilities",
    "visible_probabilities",
    "sample_bernoulli",
    "free_energy",
    "contrastive_divergence",
    "reconstruct",
)

# Overflowing softplus and sigmoid formulas are among the mistakes below.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


# ---------------------------------------------------------------------------
# Common mistakes: (id, function, replacement source).
# ---------------------------------------------------------------------------

MUTANTS = [
    (
        "hidden_probabilities_missing_b_h",
        "hidden_probabilities",
        """
def hidden_probabilities(v, W, b_h):
    return sigmoid(v @ W)
""",
    ),
    (
        "hidden_probabilities_transposed_weights",
        "hidden_probabilities",
        """
def hidden_probabilities(v, W, b_h):
    return sigmoid(v @ W.T + b_h)
""",
    ),
    (
        "visible_probabilities_missing_transpose",
        "visible_probabilities",
        """
def visible_probabilities(h, W, b_v):
    return sigmoid(h @ W + b_v)
""",
    ),
    (
        "visible_probabilities_missing_b_v",
        "visible_probabilities",
        """
def visible_probabilities(h, W, b_v):
    return sigmoid(h @ W.T)
""",
    ),
    (
        "sample_bernoulli_thresholds_at_one_half",
        "sample_bernoulli",
        """
def sample_bernoulli(p, rng):
    return (np.asarray(p) > 0.5).astype(float)
""",
    ),
    (
        "sample_bernoulli_global_random_state",
        "sample_bernoulli",
        """
def sample_bernoulli(p, rng):
    return (np.random.random(np.shape(p)) < p).astype(float)
""",
    ),
    (
        "sample_bernoulli_inverted_comparison",
        "sample_bernoulli",
        """
def sample_bernoulli(p, rng):
    return (rng.random(np.shape(p)) > p).astype(float)
""",
    ),
    (
        "sample_bernoulli_one_draw_per_row",
        "sample_bernoulli",
        """
def sample_bernoulli(p, rng):
    p = np.asarray(p, dtype=float)
    u = rng.random(p.shape[:-1] + (1,))
    return (u < p).astype(float)
""",
    ),
    (
        "sample_bernoulli_returns_booleans",
        "sample_bernoulli",
        """
def sample_bernoulli(p, rng):
    return rng.random(np.shape(p)) < p
""",
    ),
    (
        "free_energy_overflowing_softplus",
        "free_energy",
        """
def free_energy(v, W, b_v, b_h):
    return -v @ b_v - np.sum(np.log(1 + np.exp(v @ W + b_h)), axis=1)
""",
    ),
    (
        "free_energy_missing_visible_term",
        "free_energy",
        """
def free_energy(v, W, b_v, b_h):
    return -np.logaddexp(0, v @ W + b_h).sum(axis=1)
""",
    ),
    (
        "free_energy_sums_over_rows_too",
        "free_energy",
        """
def free_energy(v, W, b_v, b_h):
    return -np.sum(v @ b_v) - np.sum(np.logaddexp(0, v @ W + b_h))
""",
    ),
    (
        "contrastive_divergence_sign_flipped",
        "contrastive_divergence",
        """
def contrastive_divergence(v0, W, b_v, b_h, learning_rate, k=1, rng=None):
    rng = np.random.default_rng() if rng is None else rng
    ph0 = hidden_probabilities(v0, W, b_h)
    h = sample_bernoulli(ph0, rng)
    for _ in range(k):
        vk = sample_bernoulli(visible_probabilities(h, W, b_v), rng)
        phk = hidden_probabilities(vk, W, b_h)
        h = sample_bernoulli(phk, rng)
    n = v0.shape[0]
    dW = (vk.T @ phk - v0.T @ ph0) / n
    db_v = (vk - v0).mean(axis=0)
    db_h = (phk - ph0).mean(axis=0)
    return W + learning_rate * dW, b_v + learning_rate * db_v, b_h + learning_rate * db_h
""",
    ),
    (
        "contrastive_divergence_sums_over_the_batch",
        "contrastive_divergence",
        """
def contrastive_divergence(v0, W, b_v, b_h, learning_rate, k=1, rng=None):
    rng = np.random.default_rng() if rng is None else rng
    ph0 = hidden_probabilities(v0, W, b_h)
    h = sample_bernoulli(ph0, rng)
    for _ in range(k):
        vk = sample_bernoulli(visible_probabilities(h, W, b_v), rng)
        phk = hidden_probabilities(vk, W, b_h)
        h = sample_bernoulli(phk, rng)
    dW = v0.T @ ph0 - vk.T @ phk
    db_v = (v0 - vk).sum(axis=0)
    db_h = (ph0 - phk).sum(axis=0)
    return W + learning_rate * dW, b_v + learning_rate * db_v, b_h + learning_rate * db_h
""",
    ),
    (
        "contrastive_divergence_updates_in_place",
        "contrastive_divergence",
        """
def contrastive_divergence(v0, W, b_v, b_h, learning_rate, k=1, rng=None):
    rng = np.random.default_rng() if rng is None else rng
    ph0 = hidden_probabilities(v0, W, b_h)
    h = sample_bernoulli(ph0, rng)
    for _ in range(k):
        vk = sample_bernoulli(visible_probabilities(h, W, b_v), rng)
        phk = hidden_probabilities(vk, W, b_h)
        h = sample_bernoulli(phk, rng)
    n = v0.shape[0]
    W += learning_rate * (v0.T @ ph0 - vk.T @ phk) / n
    b_v += learning_rate * (v0 - vk).mean(axis=0)
    b_h += learning_rate * (ph0 - phk).mean(axis=0)
    return W, b_v, b_h
""",
    ),
    (
        "contrastive_divergence_ignores_k",
        "contrastive_divergence",
        """
def contrastive_divergence(v0, W, b_v, b_h, learning_rate, k=1, rng=None):
    rng = np.random.default_rng() if rng is None else rng
    ph0 = hidden_probabilities(v0, W, b_h)
    h0 = sample_bernoulli(ph0, rng)
    v1 = sample_bernoulli(visible_probabilities(h0, W, b_v), rng)
    ph1 = hidden_probabilities(v1, W, b_h)
    n = v0.shape[0]
    dW = (v0.T @ ph0 - v1.T @ ph1) / n
    db_v = (v0 - v1).mean(axis=0)
    db_h = (ph0 - ph1).mean(axis=0)
    return W + learning_rate * dW, b_v + learning_rate * db_v, b_h + learning_rate * db_h
""",
    ),
    (
        "contrastive_divergence_negative_phase_with_data_hidden",
        "contrastive_divergence",
        """
def contrastive_divergence(v0, W, b_v, b_h, learning_rate, k=1, rng=None):
    rng = np.random.default_rng() if rng is None else rng
    ph0 = hidden_probabilities(v0, W, b_h)
    h = sample_bernoulli(ph0, rng)
    for _ in range(k):
        vk = sample_bernoulli(visible_probabilities(h, W, b_v), rng)
        h = sample_bernoulli(hidden_probabilities(vk, W, b_h), rng)
    n = v0.shape[0]
    dW = (v0.T @ ph0 - vk.T @ ph0) / n
    db_v = (v0 - vk).mean(axis=0)
    db_h = np.zeros_like(b_h)
    return W + learning_rate * dW, b_v + learning_rate * db_v, b_h + learning_rate * db_h
""",
    ),
    (
        "contrastive_divergence_negative_phase_with_generating_hidden",
        "contrastive_divergence",
        """
def contrastive_divergence(v0, W, b_v, b_h, learning_rate, k=1, rng=None):
    rng = np.random.default_rng() if rng is None else rng
    ph0 = hidden_probabilities(v0, W, b_h)
    h = sample_bernoulli(ph0, rng)
    for step in range(k):
        h_prev = h
        vk = sample_bernoulli(visible_probabilities(h, W, b_v), rng)
        h = sample_bernoulli(hidden_probabilities(vk, W, b_h), rng)
    n = v0.shape[0]
    dW = (v0.T @ ph0 - vk.T @ h_prev) / n
    db_v = (v0 - vk).mean(axis=0)
    db_h = (ph0 - h_prev).mean(axis=0)
    return W + learning_rate * dW, b_v + learning_rate * db_v, b_h + learning_rate * db_h
""",
    ),
    (
        "contrastive_divergence_global_random_state",
        "contrastive_divergence",
        """
def contrastive_divergence(v0, W, b_v, b_h, learning_rate, k=1, rng=None):
    ph0 = hidden_probabilities(v0, W, b_h)
    h = (np.random.random(ph0.shape) < ph0).astype(float)
    for _ in range(k):
        pv = visible_probabilities(h, W, b_v)
        vk = (np.random.random(pv.shape) < pv).astype(float)
        phk = hidden_probabilities(vk, W, b_h)
        h = (np.random.random(phk.shape) < phk).astype(float)
    n = v0.shape[0]
    dW = (v0.T @ ph0 - vk.T @ phk) / n
    db_v = (v0 - vk).mean(axis=0)
    db_h = (ph0 - phk).mean(axis=0)
    return W + learning_rate * dW, b_v + learning_rate * db_v, b_h + learning_rate * db_h
""",
    ),
    (
        "contrastive_divergence_never_samples",
        "contrastive_divergence",
        """
def contrastive_divergence(v0, W, b_v, b_h, learning_rate, k=1, rng=None):
    ph0 = hidden_probabilities(v0, W, b_h)
    h = ph0
    for _ in range(k):
        vk = visible_probabilities(h, W, b_v)
        phk = hidden_probabilities(vk, W, b_h)
        h = phk
    n = v0.shape[0]
    dW = (v0.T @ ph0 - vk.T @ phk) / n
    db_v = (v0 - vk).mean(axis=0)
    db_h = (ph0 - phk).mean(axis=0)
    return W + learning_rate * dW, b_v + learning_rate * db_v, b_h + learning_rate * db_h
""",
    ),
    (
        "contrastive_divergence_ignores_learning_rate",
        "contrastive_divergence",
        """
def contrastive_divergence(v0, W, b_v, b_h, learning_rate, k=1, rng=None):
    rng = np.random.default_rng() if rng is None else rng
    ph0 = hidden_probabilities(v0, W, b_h)
    h = sample_bernoulli(ph0, rng)
    for _ in range(k):
        vk = sample_bernoulli(visible_probabilities(h, W, b_v), rng)
        phk = hidden_probabilities(vk, W, b_h)
        h = sample_bernoulli(phk, rng)
    n = v0.shape[0]
    dW = (v0.T @ ph0 - vk.T @ phk) / n
    db_v = (v0 - vk).mean(axis=0)
    db_h = (ph0 - phk).mean(axis=0)
    return W + 0.1 * dW, b_v + 0.1 * db_v, b_h + 0.1 * db_h
""",
    ),
    (
        "reconstruct_samples_the_visible_units",
        "reconstruct",
        """
def reconstruct(v, W, b_v, b_h):
    rng = np.random.default_rng()
    h = sample_bernoulli(hidden_probabilities(v, W, b_h), rng)
    return sample_bernoulli(visible_probabilities(h, W, b_v), rng)
""",
    ),
    (
        "reconstruct_samples_the_hidden_units",
        "reconstruct",
        """
def reconstruct(v, W, b_v, b_h):
    h = sample_bernoulli(hidden_probabilities(v, W, b_h), np.random.default_rng(0))
    return visible_probabilities(h, W, b_v)
""",
    ),
]

# ---------------------------------------------------------------------------
# Correct alternatives: (id, replacement sources).
# ---------------------------------------------------------------------------

ALTERNATIVES = [
    (
        "loops_over_samples",
        [
            """
def hidden_probabilities(v, W, b_h):
    out = np.zeros((len(v), W.shape[1]))
    for n in range(len(v)):
        for j in range(W.shape[1]):
            out[n, j] = 1.0 / (1.0 + np.exp(-(np.dot(v[n], W[:, j]) + b_h[j])))
    return out
""",
            """
def visible_probabilities(h, W, b_v):
    out = np.zeros((len(h), W.shape[0]))
    for n in range(len(h)):
        out[n] = 1.0 / (1.0 + np.exp(-(W @ h[n] + b_v)))
    return out
""",
            """
def contrastive_divergence(v0, W, b_v, b_h, learning_rate, k=1, rng=None):
    if rng is None:
        rng = np.random.default_rng(0)
    n, n_visible = v0.shape
    n_hidden = W.shape[1]
    dW, db_v, db_h = np.zeros_like(W), np.zeros_like(b_v), np.zeros_like(b_h)
    for i in range(n):
        ph0 = 1 / (1 + np.exp(-(v0[i] @ W + b_h)))
        h = (rng.uniform(size=n_hidden) < ph0) * 1.0
        for _ in range(k):
            vk = (rng.uniform(size=n_visible) < 1 / (1 + np.exp(-(W @ h + b_v)))) * 1.0
            phk = 1 / (1 + np.exp(-(vk @ W + b_h)))
            h = (rng.uniform(size=n_hidden) < phk) * 1.0
        dW += np.outer(v0[i], ph0) - np.outer(vk, h)
        db_v += v0[i] - vk
        db_h += ph0 - phk
    W, b_v, b_h = W.copy(), b_v.copy(), b_h.copy()
    W += learning_rate * dW / n
    b_v += learning_rate * db_v / n
    b_h += learning_rate * db_h / n
    return W, b_v, b_h
""",
        ],
    ),
    (
        "mean_field_reconstruction_and_sampled_hidden_statistics",
        [
            """
def contrastive_divergence(v0, W, b_v, b_h, learning_rate, k=1, rng=None):
    rng = np.random.default_rng() if rng is None else rng
    pos_h = sample_bernoulli(hidden_probabilities(v0, W, b_h), rng)
    h = pos_h
    for _ in range(k):
        v = visible_probabilities(h, W, b_v)  # Hinton: probabilities for the reconstruction
        ph = hidden_probabilities(v, W, b_h)
        h = sample_bernoulli(ph, rng)
    n = len(v0)
    new_W = W + learning_rate * (v0.T @ pos_h - v.T @ h) / n
    new_b_v = b_v + learning_rate * np.mean(v0 - v, axis=0)
    new_b_h = b_h + learning_rate * np.mean(pos_h - ph, axis=0)
    return new_W, new_b_v, new_b_h
""",
        ],
    ),
    (
        "binomial_sampler_and_visible_probabilities_in_the_negative_statistics",
        [
            """
def sample_bernoulli(p, rng):
    return rng.binomial(1, p).astype(float)
""",
            """
def contrastive_divergence(v0, W, b_v, b_h, learning_rate, k=1, rng=None):
    rng = np.random.default_rng() if rng is None else rng
    ph0 = hidden_probabilities(v0, W, b_h)
    h0 = sample_bernoulli(ph0, rng)
    h = h0
    for _ in range(k):
        pv = visible_probabilities(h, W, b_v)
        v = sample_bernoulli(pv, rng)
        ph = hidden_probabilities(v, W, b_h)
        h = sample_bernoulli(ph, rng)
    n = len(v0)
    return [
        W + learning_rate * (v0.T @ h0 - pv.T @ ph) / n,
        b_v + learning_rate * (v0 - pv).mean(0),
        b_h + learning_rate * (ph0 - ph).mean(0),
    ]
""",
        ],
    ),
    (
        "manual_stable_softplus_where_sampler_tanh_sigmoid",
        [
            """
def free_energy(v, W, b_v, b_h):
    x = np.einsum("nv,vh->nh", v, W) + b_h
    softplus = np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))
    return -(v * b_v).sum(axis=1) - softplus.sum(axis=1)
""",
            """
def sample_bernoulli(p, rng):
    return np.where(rng.random(np.shape(p)) < p, 1.0, 0.0)
""",
            """
def hidden_probabilities(v, W, b_h):
    return 0.5 * (1.0 + np.tanh(0.5 * (np.dot(v, W) + b_h)))
""",
            """
def reconstruct(v, W, b_v, b_h):
    h = 0.5 * (1.0 + np.tanh(0.5 * (v @ W + b_h)))
    return 0.5 * (1.0 + np.tanh(0.5 * (h @ W.T + b_v)))
""",
        ],
    ),
    (
        "free_energy_gradient_written_cd",
        [
            """
def contrastive_divergence(v0, W, b_v, b_h, learning_rate, k=1, rng=None):
    # The CD gradient is that of mean F(vk) - mean F(v0), written out.
    if rng is None:
        rng = np.random.default_rng()
    chain = v0
    for _ in range(k):
        h = sample_bernoulli(hidden_probabilities(chain, W, b_h), rng)
        chain = sample_bernoulli(visible_probabilities(h, W, b_v), rng)
    grads = []
    for v, sign in ((v0, 1.0), (chain, -1.0)):
        ph = hidden_probabilities(v, W, b_h)
        grads.append((sign * v.T @ ph / len(v), sign * v.mean(0), sign * ph.mean(0)))
    dW, db_v, db_h = (a + b for a, b in zip(*grads))
    return W + learning_rate * dW, b_v + learning_rate * db_v, b_h + learning_rate * db_h
""",
        ],
    ),
]


def _score_function(namespace: dict, function: str, seed: int) -> dict:
    """Run only the checks of ``function``: a mutant of one function is caught by its own."""
    results = run_checks(
        ASSIGNMENT,
        LocalSubmission(namespace, seed=seed),
        only=lambda name: function_of(name, list(FUNCTIONS)) == function,
    )
    return {result.name: result for result in results}


@pytest.fixture(scope="module")
def mutant_results() -> dict:
    return {
        mutant_id: _score_function(reference(ASSIGNMENT, source), function, seed=7)
        for mutant_id, function, source in MUTANTS
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_gets_full_marks(seed):
    results = score(ASSIGNMENT, reference(ASSIGNMENT), seed=seed)
    failed = {name: r.output for name, r in results.items() if not r.passed}
    assert not failed
    total = sum(r.max_score for r in results.values())
    assert 15 <= total <= 30


def test_every_check_is_named_after_a_graded_function():
    assert graded_functions(ASSIGNMENT) == FUNCTIONS
    results = score(ASSIGNMENT, released(ASSIGNMENT), seed=0)
    named = {function_of(name, list(FUNCTIONS)) for name in results}
    assert named == set(FUNCTIONS)


def test_stub_functions_raise_not_implemented():
    stub = released(ASSIGNMENT)
    v, W = np.zeros((2, 3)), np.zeros((3, 4))
    arguments = {
        "hidden_probabilities": (v, W, np.zeros(4)),
        "visible_probabilities": (np.zeros((2, 4)), W, np.zeros(3)),
        "sample_bernoulli": (np.zeros(3), np.random.default_rng(0)),
        "free_energy": (v, W, np.zeros(3), np.zeros(4)),
        "contrastive_divergence": (v, W, np.zeros(3), np.zeros(4), 0.1),
        "reconstruct": (v, W, np.zeros(3), np.zeros(4)),
    }
    for function in FUNCTIONS:
        with pytest.raises(NotImplementedError):
            stub[function](*arguments[function])


@pytest.mark.parametrize(
    ("mutant_id", "function"),
    [(mutant_id, function) for mutant_id, function, _ in MUTANTS],
    ids=[mutant_id for mutant_id, _, _ in MUTANTS],
)
def test_mutant_fails_a_check_of_its_function(mutant_results, mutant_id, function):
    assert_caught_helpfully(mutant_results[mutant_id], function, FUNCTIONS, mutant_id)


@pytest.mark.parametrize(
    ("mutant_id", "check", "words"),
    [
        ("hidden_probabilities_missing_b_h", "test_hidden_probabilities_values", "b_h = 0"),
        ("hidden_probabilities_transposed_weights", "test_hidden_probabilities_values", "v @ W"),
        ("visible_probabilities_missing_transpose", "test_visible_probabilities_values", "W.T"),
        ("visible_probabilities_missing_b_v", "test_visible_probabilities_values", "b_v = 0"),
        (
            "sample_bernoulli_thresholds_at_one_half",
            "test_sample_bernoulli_uses_the_given_rng",
            "threshold",
        ),
        (
            "sample_bernoulli_global_random_state",
            "test_sample_bernoulli_uses_the_given_rng",
            "same seed",
        ),
        (
            "sample_bernoulli_inverted_comparison",
            "test_sample_bernoulli_returns_zeros_and_ones_of_p_shape",
            "u < p",
        ),
        (
            "sample_bernoulli_inverted_comparison",
            "test_sample_bernoulli_frequencies_match_p",
            "standard errors",
        ),
        (
            "sample_bernoulli_one_draw_per_row",
            "test_sample_bernoulli_frequencies_match_p",
            "correlation",
        ),
        (
            "sample_bernoulli_returns_booleans",
            "test_sample_bernoulli_returns_zeros_and_ones_of_p_shape",
            "astype(float)",
        ),
        (
            "free_energy_overflowing_softplus",
            "test_free_energy_finite_for_large_weights",
            "logaddexp",
        ),
        ("free_energy_missing_visible_term", "test_free_energy_values", "visible-bias term"),
        ("free_energy_sums_over_rows_too", "test_free_energy_values", "expected shape"),
        (
            "contrastive_divergence_sign_flipped",
            "test_contrastive_divergence_expected_cd1_update",
            "opposite sign",
        ),
        (
            "contrastive_divergence_sign_flipped",
            "test_contrastive_divergence_raises_log_likelihood",
            "fell",
        ),
        (
            "contrastive_divergence_sign_flipped",
            "test_contrastive_divergence_training_lowers_reconstruction_error",
            "held-out",
        ),
        (
            "contrastive_divergence_sign_flipped",
            "test_contrastive_divergence_training_gives_features_that_classify_digits",
            "chance",
        ),
        (
            "contrastive_divergence_sums_over_the_batch",
            "test_contrastive_divergence_expected_cd1_update",
            "times too large",
        ),
        (
            "contrastive_divergence_updates_in_place",
            "test_contrastive_divergence_does_not_modify_inputs",
            "in place",
        ),
        (
            "contrastive_divergence_ignores_k",
            "test_contrastive_divergence_expected_cdk_update",
            "CD-1 although k = 3",
        ),
        (
            "contrastive_divergence_negative_phase_with_data_hidden",
            "test_contrastive_divergence_expected_cd1_update",
            "hidden probabilities of the data",
        ),
        (
            "contrastive_divergence_negative_phase_with_generating_hidden",
            "test_contrastive_divergence_expected_cd1_update",
            "generated it",
        ),
        (
            "contrastive_divergence_global_random_state",
            "test_contrastive_divergence_uses_the_given_rng",
            "same seed",
        ),
        (
            "contrastive_divergence_never_samples",
            "test_contrastive_divergence_uses_the_given_rng",
            "two different seeds",
        ),
        (
            "contrastive_divergence_ignores_learning_rate",
            "test_contrastive_divergence_scales_with_learning_rate",
            "learning_rate",
        ),
        ("reconstruct_samples_the_visible_units", "test_reconstruct_values", "not a sample"),
        ("reconstruct_samples_the_hidden_units", "test_reconstruct_values", "no sampling"),
    ],
)
def test_mutant_is_caught_by_the_check_meant_for_it(mutant_results, mutant_id, check, words):
    result = mutant_results[mutant_id][check]
    assert not result.passed, (mutant_id, check)
    assert words in result.output, (mutant_id, check, result.output)


@pytest.mark.parametrize(
    "sources", [sources for _, sources in ALTERNATIVES], ids=[alt for alt, _ in ALTERNATIVES]
)
def test_correct_alternative_gets_full_marks(sources):
    results = score(ASSIGNMENT, reference(ASSIGNMENT, *sources), seed=5)
    failed = {name: r.output for name, r in results.items() if not r.passed}
    assert not failed


def test_messages_contain_no_float_arrays(mutant_results):
    assert FLOAT_RUN.search(str(np.linspace(0.1, 0.9, 5)))  # the pattern does find arrays
    assert not messages_with_float_arrays(mutant_results)


def _formats(value: float) -> list[str]:
    return [f"{value:{spec}}" for spec in (".6g", ".5g", ".4g", ".3g")] + [repr(value)]


def test_messages_do_not_reveal_the_expected_free_energy():
    seen: list = []
    spy = """
def free_energy(v, W, b_v, b_h):
    _seen.append((np.array(v), np.array(W), np.array(b_v), np.array(b_h)))
    return -np.logaddexp(0, v @ W + b_h).sum(axis=1)
"""
    namespace = reference(ASSIGNMENT)
    namespace["_seen"] = seen
    exec(spy, namespace)
    output = score(ASSIGNMENT, namespace, seed=11)["test_free_energy_values"].output
    assert seen and "not correct" in output
    v, W, b_v, b_h = seen[0]
    expected = -v @ b_v - np.logaddexp(0, v @ W + b_h).sum(axis=1)
    for value in expected:
        for text in _formats(float(value)):
            assert text not in output, (text, output)


def test_messages_do_not_reveal_the_expected_update(mutant_results):
    """The CD messages give distances in standard errors, never an expected update."""
    output = mutant_results["contrastive_divergence_sign_flipped"][
        "test_contrastive_divergence_expected_cd1_update"
    ].output
    assert "standard errors" in output
    numbers = re.findall(r"-?\d+\.\d+", output)
    # Only the learning rate of the call, the distance and the allowed distance are printed.
    assert len(numbers) <= 3, numbers
