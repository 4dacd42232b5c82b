"""Known mistakes and correct alternatives of ``rbm`` (see :mod:`autograder.cases`)."""

import numpy as np

from autograder.cases import Alternative, Mistake

MISTAKES = [
    Mistake(
        "hidden_probabilities_missing_b_h",
        "hidden_probabilities",
        edits=[("return sigmoid(v @ W + b_h)", "return sigmoid(v @ W)")],
        words="b_h = 0",
        check="test_hidden_probabilities_values",
        sample=True,
    ),
    Mistake(
        "hidden_probabilities_transposed_weights",
        "hidden_probabilities",
        edits=[("return sigmoid(v @ W + b_h)", "return sigmoid(v @ W.T + b_h)")],
        words="v @ W",
        check="test_hidden_probabilities_values",
    ),
    Mistake(
        "visible_probabilities_missing_transpose",
        "visible_probabilities",
        edits=[("return sigmoid(h @ W.T + b_v)", "return sigmoid(h @ W + b_v)")],
        words="W.T",
        check="test_visible_probabilities_values",
    ),
    Mistake(
        "visible_probabilities_missing_b_v",
        "visible_probabilities",
        edits=[("return sigmoid(h @ W.T + b_v)", "return sigmoid(h @ W.T)")],
        words="b_v = 0",
        check="test_visible_probabilities_values",
    ),
    Mistake(
        "sample_bernoulli_thresholds_at_one_half",
        "sample_bernoulli",
        edits=[("(rng.random(p.shape) < p)", "(p > 0.5)")],
        words="threshold",
        check="test_sample_bernoulli_uses_the_given_rng",
    ),
    Mistake(
        "sample_bernoulli_global_random_state",
        "sample_bernoulli",
        edits=[("rng.random(p.shape)", "np.random.random(p.shape)")],
        words="same seed",
        check="test_sample_bernoulli_uses_the_given_rng",
    ),
    Mistake(  # caught by two checks: tests/checks/test_rbm.py pins each phrase to its own
        "sample_bernoulli_inverted_comparison",
        "sample_bernoulli",
        edits=[("rng.random(p.shape) < p", "rng.random(p.shape) > p")],
        words=("u < p", "standard errors"),
        also={
            "test_sample_bernoulli_returns_zeros_and_ones_of_p_shape": "u < p",
            "test_sample_bernoulli_frequencies_match_p": "standard errors",
        },
    ),
    Mistake(
        "sample_bernoulli_one_draw_per_row",
        "sample_bernoulli",
        edits=[("rng.random(p.shape) <", "rng.random(p.shape[:-1] + (1,)) <")],
        words="correlation",
        check="test_sample_bernoulli_frequencies_match_p",
    ),
    Mistake(
        "sample_bernoulli_returns_booleans",
        "sample_bernoulli",
        edits=[("(rng.random(p.shape) < p).astype(float)", "rng.random(p.shape) < p")],
        words="astype(float)",
        check="test_sample_bernoulli_returns_zeros_and_ones_of_p_shape",
    ),
    Mistake(
        "free_energy_overflowing_softplus",
        "free_energy",
        edits=[("np.logaddexp(0.0, v @ W + b_h)", "np.log(1 + np.exp(v @ W + b_h))")],
        words="logaddexp",
        check="test_free_energy_finite_for_large_weights",
    ),
    Mistake(
        "free_energy_missing_visible_term",
        "free_energy",
        edits=[("return -visible_term - softplus", "return -softplus")],
        words="visible-bias term",
        check="test_free_energy_values",
    ),
    Mistake(
        "free_energy_sums_over_rows_too",
        "free_energy",
        edits=[("-visible_term - softplus.sum(axis=1)", "-visible_term.sum() - softplus.sum()")],
        words="expected shape",
        check="test_free_energy_values",
    ),
    Mistake(  # caught by four checks: tests/checks/test_rbm.py pins each phrase to its own
        "contrastive_divergence_sign_flipped",
        "contrastive_divergence",
        edits=[(" + learning_rate *", " - learning_rate *")],
        words=("opposite sign", "fell", "held-out", "chance"),
        also={
            "test_contrastive_divergence_expected_cd1_update": "opposite sign",
            "test_contrastive_divergence_raises_log_likelihood": "fell",
            "test_contrastive_divergence_training_lowers_reconstruction_error": "held-out",
            "test_contrastive_divergence_training_gives_features_that_classify_digits": "chance",
        },
    ),
    Mistake(
        "contrastive_divergence_sums_over_the_batch",
        "contrastive_divergence",
        edits=[(") / n", ")"), (".mean(axis=0)", ".sum(axis=0)")],
        words="times too large",
        check="test_contrastive_divergence_expected_cd1_update",
    ),
    Mistake(
        "contrastive_divergence_updates_in_place",
        "contrastive_divergence",
        edits=[
            (
                "return W + learning_rate * dW, b_v + learning_rate * db_v, b_h + learning_rate * db_h",
                "W += learning_rate * dW\n    b_v += learning_rate * db_v\n"
                "    b_h += learning_rate * db_h\n    return W, b_v, b_h",
            )
        ],
        words="in place",
        check="test_contrastive_divergence_does_not_modify_inputs",
    ),
    Mistake(
        "contrastive_divergence_ignores_k",
        "contrastive_divergence",
        edits=[("for _ in range(k):", "for _ in range(1):")],
        words="CD-1 although k = 3",
        check="test_contrastive_divergence_expected_cdk_update",
    ),
    Mistake(
        "contrastive_divergence_negative_phase_with_data_hidden",
        "contrastive_divergence",
        edits=[("vk.T @ phk", "vk.T @ ph0"), ("(ph0 - phk).mean(axis=0)", "np.zeros_like(b_h)")],
        words="hidden probabilities of the data",
        check="test_contrastive_divergence_expected_cd1_update",
    ),
    Mistake(
        "contrastive_divergence_negative_phase_with_generating_hidden",
        "contrastive_divergence",
        edits=[
            ("for _ in range(k):\n", "for _ in range(k):\n        h_prev = h\n"),
            ("vk.T @ phk", "vk.T @ h_prev"),
            ("(ph0 - phk)", "(ph0 - h_prev)"),
        ],
        words="generated it",
        check="test_contrastive_divergence_expected_cd1_update",
    ),
    Mistake(  # np.random as the rng: sample_bernoulli then draws from the global state
        "contrastive_divergence_global_random_state",
        "contrastive_divergence",
        edits=[(", rng)", ", np.random)")],
        words="same seed",
        check="test_contrastive_divergence_uses_the_given_rng",
    ),
    Mistake(
        "contrastive_divergence_never_samples",
        "contrastive_divergence",
        edits=[
            ("h = sample_bernoulli(ph0, rng)", "h = ph0"),
            (
                "sample_bernoulli(visible_probabilities(h, W, b_v), rng)",
                "visible_probabilities(h, W, b_v)",
            ),
            ("h = sample_bernoulli(phk, rng)", "h = phk"),
        ],
        words="two different seeds",
        check="test_contrastive_divergence_uses_the_given_rng",
    ),
    Mistake(
        "contrastive_divergence_ignores_learning_rate",
        "contrastive_divergence",
        edits=[("learning_rate *", "0.1 *")],
        words="learning_rate",
        check="test_contrastive_divergence_scales_with_learning_rate",
    ),
    Mistake(
        "reconstruct_samples_the_visible_units",
        "reconstruct",
        edits=[
            (
                "ph = hidden_probabilities(v, W, b_h)",
                "rng = np.random.default_rng()\n    ph = sample_bernoulli(hidden_probabilities(v, W, b_h), rng)",
            ),
            (
                "return visible_probabilities(ph, W, b_v)",
                "return sample_bernoulli(visible_probabilities(ph, W, b_v), rng)",
            ),
        ],
        words="not a sample",
        check="test_reconstruct_values",
    ),
    Mistake(
        "reconstruct_samples_the_hidden_units",
        "reconstruct",
        edits=[
            (
                "hidden_probabilities(v, W, b_h)",
                "sample_bernoulli(hidden_probabilities(v, W, b_h), np.random.default_rng(0))",
            )
        ],
        words="no sampling",
        check="test_reconstruct_values",
    ),
]

ALTERNATIVES = [
    Alternative(
        "loops_over_samples",
        """
def hidden_probabilities(v, W, b_h):
    out = np.zeros((len(v), W.shape[1]))
    for n in range(len(v)):
        for j in range(W.shape[1]):
            out[n, j] = 1.0 / (1.0 + np.exp(-(np.dot(v[n], W[:, j]) + b_h[j])))
    return out


def visible_probabilities(h, W, b_v):
    out = np.zeros((len(h), W.shape[0]))
    for n in range(len(h)):
        out[n] = 1.0 / (1.0 + np.exp(-(W @ h[n] + b_v)))
    return out


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
    ),
    Alternative(
        "mean_field_reconstruction_and_sampled_hidden_statistics",
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
    ),
    Alternative(
        "binomial_sampler_and_visible_probabilities_in_the_negative_statistics",
        """
def sample_bernoulli(p, rng):
    return rng.binomial(1, p).astype(float)


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
    ),
    Alternative(
        "manual_stable_softplus_where_sampler_tanh_sigmoid",
        """
def free_energy(v, W, b_v, b_h):
    x = np.einsum("nv,vh->nh", v, W) + b_h
    softplus = np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))
    return -(v * b_v).sum(axis=1) - softplus.sum(axis=1)


def sample_bernoulli(p, rng):
    return np.where(rng.random(np.shape(p)) < p, 1.0, 0.0)


def hidden_probabilities(v, W, b_h):
    return 0.5 * (1.0 + np.tanh(0.5 * (np.dot(v, W) + b_h)))


def reconstruct(v, W, b_v, b_h):
    h = 0.5 * (1.0 + np.tanh(0.5 * (v @ W + b_h)))
    return 0.5 * (1.0 + np.tanh(0.5 * (h @ W.T + b_v)))
""",
    ),
    Alternative(
        "free_energy_gradient_written_cd",
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
    ),
    Alternative(  # Hinton's practical guide: probabilities for the last reconstruction
        "probabilities_for_the_last_visible_reconstruction",
        """
def contrastive_divergence(v0, W, b_v, b_h, learning_rate, k=1, rng=None):
    rng = np.random.default_rng() if rng is None else rng
    ph0 = hidden_probabilities(v0, W, b_h)
    h = sample_bernoulli(ph0, rng)
    for step in range(k):
        pv = visible_probabilities(h, W, b_v)
        v = pv if step == k - 1 else sample_bernoulli(pv, rng)
        ph = hidden_probabilities(v, W, b_h)
        h = sample_bernoulli(ph, rng)
    n = v0.shape[0]
    W = W + learning_rate * (v0.T @ ph0 - v.T @ ph) / n
    b_v = b_v + learning_rate * np.mean(v0 - v, axis=0)
    b_h = b_h + learning_rate * np.mean(ph0 - ph, axis=0)
    return W, b_v, b_h
""",
    ),
    Alternative(
        "probabilities_for_every_visible_state_of_the_chain",
        """
def contrastive_divergence(v0, W, b_v, b_h, learning_rate, k=1, rng=None):
    rng = np.random.default_rng() if rng is None else rng
    ph0 = hidden_probabilities(v0, W, b_h)
    h = sample_bernoulli(ph0, rng)
    for _ in range(k):
        v = visible_probabilities(h, W, b_v)
        ph = hidden_probabilities(v, W, b_h)
        h = sample_bernoulli(ph, rng)
    grad_W = (v0.T @ ph0 - v.T @ ph) / len(v0)
    return (W + learning_rate * grad_W, b_v + learning_rate * (v0 - v).mean(axis=0),
            b_h + learning_rate * (ph0 - ph).mean(axis=0))
""",
    ),
    Alternative(  # every statistic from samples, the uniforms drawn in another order
        "sampled_statistics_and_another_order_of_draws",
        """
def contrastive_divergence(v0, W, b_v, b_h, learning_rate, k=1, rng=None):
    rng = np.random.default_rng() if rng is None else rng
    n, (n_visible, n_hidden) = len(v0), W.shape
    u_h = rng.random((k + 1, n, n_hidden))
    u_v = rng.random((k, n, n_visible))
    h0 = (u_h[0] < hidden_probabilities(v0, W, b_h)).astype(float)
    h = h0
    for t in range(k):
        v = (u_v[t] < visible_probabilities(h, W, b_v)).astype(float)
        h = (u_h[t + 1] < hidden_probabilities(v, W, b_h)).astype(float)
    new_W = W + learning_rate * (h0.T @ v0 - h.T @ v).T / n
    new_b_v = b_v + learning_rate * (v0.sum(axis=0) - v.sum(axis=0)) / n
    new_b_h = b_h + learning_rate * (h0.sum(axis=0) - h.sum(axis=0)) / n
    return new_W, new_b_v, new_b_h
""",
    ),
]


_V, _W = np.zeros((2, 3)), np.zeros((3, 4))
CALLS = {
    "hidden_probabilities": (_V, _W, np.zeros(4)),
    "visible_probabilities": (np.zeros((2, 4)), _W, np.zeros(3)),
    "sample_bernoulli": (np.zeros(3), np.random.default_rng(0)),
    "free_energy": (_V, _W, np.zeros(3), np.zeros(4)),
    "contrastive_divergence": (_V, _W, np.zeros(3), np.zeros(4), 0.1),
    "reconstruct": (_V, _W, np.zeros(3), np.zeros(4)),
}
