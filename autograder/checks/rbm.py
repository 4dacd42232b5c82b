"""Hidden checks of the ``rbm`` assignment: a Bernoulli-Bernoulli restricted Boltzmann machine.

The student implements ``hidden_probabilities``, ``visible_probabilities``,
``sample_bernoulli``, ``free_energy``, ``contrastive_divergence`` and ``reconstruct``
(curriculum.md, section 9), with ``W`` of shape ``(n_visible, n_hidden)``. Every
check draws its inputs from ``rng`` with ``N``, ``n_visible`` and ``n_hidden`` all
different, so a transposed ``W`` cannot fit.

Randomness. ``sample_bernoulli`` and ``contrastive_divergence`` get their random
numbers from the ``rng`` the grader passes (``Generator(seed)``, which becomes
``np.random.default_rng(seed)`` in the student's process). Their outputs are never
compared with the reference's for the same seed, since correct code may draw its
numbers differently (``rng.random(p.shape) < p``, ``rng.binomial(1, p)``, ...).
They are checked for reproducibility (same seed, same result), for using the seed
(another seed, another result) and statistically.

Contrastive divergence. The reference convention (the notebook's) is: positive
statistics from ``v0`` and ``ph0 = p(h | v0)``; ``h0 ~ p(h | v0)``; then ``k``
Gibbs steps ``v_t ~ p(v | h_{t-1})``, ``ph_t = p(h | v_t)``, ``h_t ~ ph_t``;
negative statistics from ``v_k`` and ``ph_k``; gradients averaged over the
batch, one step of gradient *ascent*. Accepted variants, whose exact expected
updates the checks compute by enumerating every state of a tiny RBM (4 visible,
3 hidden units):

* ``"sampled"`` (the reference): the expectation does not change when the hidden
  *samples* replace the hidden probabilities in the positive or the negative
  statistics, since E[h | v] = p(h | v); those variants fall under it;
* ``"mean_field"`` (Hinton's practical guide and his original code): the visible
  units of the chain are the probabilities p(v | h) instead of samples, and the
  hidden probabilities are computed from them; hidden states driving the
  reconstruction are still sampled. Its expectation differs (p(h | v) is not
  linear in v);
* ``"mixed"`` (common in tutorials): the chain samples ``v_k`` and computes
  ``ph_k`` from the sample, but the visible statistic is p(v | h_{k-1}). Another
  expectation again.

A student's mean update over ``N_CALLS`` calls (one seed each) passes when, for
one accepted variant, every entry lies within ``Z_MAX`` standard errors of that
variant's exact expectation. Mistakes the tests of the kit prove these checks
catch: the sign flipped, a sum over the batch instead of a mean, the negative
statistics built from the data's hidden probabilities or from the hidden sample
that generated ``v_k``, ``k`` ignored, no sampling at all (a deterministic
update), the global ``np.random`` instead of ``rng``.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

import numpy as np

from autograder.checks.common import (
    RTOL_ANALYTIC,
    Generator,
    describe,
    expect_array,
    expect_finite,
    expect_shape,
    expect_unmodified,
    fail,
    points,
    rel_error,
)
from autograder.submission import StudentException

#: The student functions these checks grade (curriculum order).
FUNCTIONS = (
    "hidden_probabilities",
    "visible_probabilities",
    "sample_bernoulli",
    "free_energy",
    "contrastive_divergence",
    "reconstruct",
)

#: Calls (one seed each) over which a CD update is averaged in the statistical checks.
N_CALLS = 200
#: Largest accepted distance, in standard errors, between a mean of random results and
#: its exact expectation. A correct submission exceeds it on one of 19 entries with
#: probability below 1e-7 (normal tails, t with 199 degrees of freedom); the mistakes
#: the checks look for sit 15 standard errors away or more on the chosen inputs.
Z_MAX = 6.0
#: Smallest standard error used: only a deterministic (and wrong) entry gets near it.
SE_FLOOR = 1e-12
#: Relative error allowed between two updates that differ only in the learning rate:
#: ``new - old`` loses the digits of ``old`` (around 1e-16 / 1e-3 relative), nothing more.
RTOL_UPDATE = 1e-6

CD_VARIANTS = ("sampled", "mean_field", "mixed")

# ---------------------------------------------------------------------------
# Reference implementation (stays in the grader).
# ---------------------------------------------------------------------------


def _sigmoid(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _hidden_probabilities(v, W, b_h):
    return _sigmoid(v @ W + b_h)


def _visible_probabilities(h, W, b_v):
    return _sigmoid(h @ W.T + b_v)


def _free_energy(v, W, b_v, b_h):
    return -v @ b_v - np.logaddexp(0.0, v @ W + b_h).sum(axis=1)


def _reconstruct(v, W, b_v, b_h):
    return _visible_probabilities(_hidden_probabilities(v, W, b_h), W, b_v)


@functools.cache
def _binary_states(n: int) -> np.ndarray:
    """All 2**n binary vectors, shape (2**n, n)."""
    return np.array(list(itertools.product((0.0, 1.0), repeat=n)))


def _state_probabilities(p: np.ndarray, states: np.ndarray) -> np.ndarray:
    """``P[..., s]``: probability of binary ``states[s]`` under independent Bernoulli ``p[...]``."""
    return np.prod(np.where(states == 1.0, p[..., None, :], 1.0 - p[..., None, :]), axis=-1)


def _cd_expectation(v0, W, b_v, b_h, k: int, variant: str) -> np.ndarray:
    """Exact expected CD-k gradient of one variant, flattened as (dW, db_v, db_h).

    Enumerates the 2**n_hidden hidden and 2**n_visible visible states, so only for
    tiny RBMs. ``variant`` is one of ``CD_VARIANTS`` or a mistake the hints name:
    ``"data_hidden"`` (negative statistics with p(h | v0)) or ``"generating_hidden"``
    (negative statistics with the hidden sample h_{k-1} that generated v_k).
    """
    n_visible, n_hidden = W.shape
    vs, hs = _binary_states(n_visible), _binary_states(n_hidden)
    ph0 = _hidden_probabilities(v0, W, b_h)  # (N, H)
    q = _state_probabilities(ph0, hs)  # (N, 2^H): law of h_0 for each row
    pv_of_h = _visible_probabilities(hs, W, b_v)  # (2^H, V)
    ph_of_v = _hidden_probabilities(vs, W, b_h)  # (2^V, H)
    v_given_h = _state_probabilities(pv_of_h, vs)  # (2^H, 2^V)
    if variant == "mean_field":
        ph_of_pv = _hidden_probabilities(pv_of_h, W, b_h)  # (2^H, H)
        step = _state_probabilities(ph_of_pv, hs)  # (2^H, 2^H)
        for _ in range(k - 1):
            q = q @ step
        neg_vh = np.einsum("nh,hi,hj->ij", q, pv_of_h, ph_of_pv)
        neg_v, neg_h = q @ pv_of_h, q @ ph_of_pv
    else:
        step = v_given_h @ _state_probabilities(ph_of_v, hs)  # (2^H, 2^H)
        for _ in range(k - 1):
            q = q @ step  # law of h_{k-1}
        r = q @ v_given_h  # (N, 2^V): law of v_k
        neg_v, neg_h = r @ vs, r @ ph_of_v
        if variant == "sampled":
            neg_vh = np.einsum("nv,vi,vj->ij", r, vs, ph_of_v)
        elif variant == "mixed":
            neg_vh = np.einsum("nh,hv,hi,vj->ij", q, v_given_h, pv_of_h, ph_of_v)
        elif variant == "generating_hidden":
            neg_vh = np.einsum("nh,hi,hj->ij", q, pv_of_h, hs)
            neg_h = q @ hs
        elif variant == "data_hidden":
            neg_vh = neg_v.T @ ph0
            neg_h = ph0
        else:
            raise ValueError(variant)
    n = v0.shape[0]
    dW = (v0.T @ ph0 - neg_vh) / n
    db_v = (v0 - neg_v).mean(axis=0)
    db_h = (ph0 - neg_h).mean(axis=0)
    return np.concatenate([dW.ravel(), db_v, db_h])


def _cd_spread(v0, W, b_v, b_h, k: int) -> np.ndarray:
    """Exact standard deviation of one call's CD-k gradient (reference variant), flattened."""
    n_visible, n_hidden = W.shape
    vs, hs = _binary_states(n_visible), _binary_states(n_hidden)
    q = _state_probabilities(_hidden_probabilities(v0, W, b_h), hs)
    v_given_h = _state_probabilities(_visible_probabilities(hs, W, b_v), vs)
    ph_of_v = _hidden_probabilities(vs, W, b_h)
    step = v_given_h @ _state_probabilities(ph_of_v, hs)
    for _ in range(k - 1):
        q = q @ step
    r = q @ v_given_h  # (N, 2^V)
    stats = np.concatenate(
        [np.einsum("vi,vj->vij", vs, ph_of_v).reshape(len(vs), -1), vs, ph_of_v], axis=1
    )  # (2^V, P): the negative statistics of each visible state
    variance = (r @ stats**2 - (r @ stats) ** 2).sum(axis=0)  # rows are independent
    return np.sqrt(np.maximum(variance, 0.0)) / v0.shape[0]


def _log_likelihood(data, W, b_v, b_h) -> float:
    """Exact mean log p(v) of the rows of ``data``, by enumerating all visible states."""
    log_z = np.logaddexp.reduce(-_free_energy(_binary_states(W.shape[0]), W, b_v, b_h))
    return float(np.mean(-_free_energy(data, W, b_v, b_h)) - log_z)


# ---------------------------------------------------------------------------
# Inputs and guards.
# ---------------------------------------------------------------------------


def _sizes(rng: np.random.Generator) -> tuple[int, int, int]:
    """``(N, n_visible, n_hidden)``, all different, so no transpose fits."""
    n, n_visible, n_hidden = (int(s) for s in rng.choice(np.arange(3, 10), size=3, replace=False))
    return n, n_visible, n_hidden


def _binary(rng: np.random.Generator, shape: tuple, p: float = 0.5) -> np.ndarray:
    return (rng.random(shape) < p).astype(float)


def _rbm(rng: np.random.Generator, n_visible: int, n_hidden: int, scale: float = 1.0):
    """Weights (n_visible, n_hidden) and non-zero biases of a moderate size."""
    W = rng.normal(scale=scale, size=(n_visible, n_hidden))
    return W, rng.normal(size=n_visible), rng.normal(size=n_hidden)


def _shapes_note(**arrays: np.ndarray) -> str:
    return ", ".join(f"{name} of shape {np.shape(value)}" for name, value in arrays.items())


def _call(submission, function: str, call: str, *args, hint: str = "", **kwargs) -> Any:
    """``submission.call``, adding ``hint`` when the student's function raises."""
    try:
        return submission.call(function, *args, **kwargs)
    except StudentException as error:
        fail(f"`{call}`: {error}. {hint}".strip())


_CD_HINT = (
    "contrastive_divergence returns a tuple (W, b_v, b_h) of new arrays with the shapes "
    "of the inputs W (n_visible, n_hidden), b_v (n_visible,) and b_h (n_hidden,)."
)


def _call_cd(submission, call: str, v0, W, b_v, b_h, learning_rate, **kwargs):
    """Call the student's contrastive_divergence; check the result; return float arrays."""
    result = _call(
        submission,
        "contrastive_divergence",
        call,
        v0,
        W,
        b_v,
        b_h,
        learning_rate,
        hint=f"It was called with {_shapes_note(v0=v0, W=W, b_v=b_v, b_h=b_h)}.",
        **kwargs,
    )
    if not isinstance(result, tuple | list) or len(result) != 3:
        fail(f"`{call}` returned {describe(result)}; expected a tuple (W, b_v, b_h). {_CD_HINT}")
    names = ("W", "b_v", "b_h")
    arrays = []
    for name, value, reference in zip(names, result, (W, b_v, b_h), strict=True):
        part = f"{call}[{names.index(name)}] (the new {name})"
        arrays.append(expect_shape(part, value, reference.shape, hint=_CD_HINT))
        expect_finite(part, arrays[-1], hint="Start from moderate weights; look for a division by zero.")
    return tuple(arrays)


def _update(new: tuple, old: tuple) -> np.ndarray:
    """The change of (W, b_v, b_h), flattened."""
    return np.concatenate([(a - b).ravel() for a, b in zip(new, old, strict=True)])


# ---------------------------------------------------------------------------
# hidden_probabilities and visible_probabilities
# ---------------------------------------------------------------------------


@points(2)
def test_hidden_probabilities_values(submission, rng):
    """hidden_probabilities(v, W, b_h) equals sigmoid(v @ W + b_h), shape (N, n_hidden)."""
    n, n_visible, n_hidden = _sizes(rng)
    W, _, b_h = _rbm(rng, n_visible, n_hidden, scale=1.5)
    for v in (_binary(rng, (n, n_visible)), rng.uniform(size=(n + 2, n_visible))):
        call = f"hidden_probabilities(v, W, b_h) for {_shapes_note(v=v, W=W, b_h=b_h)}"
        hint = "W has shape (n_visible, n_hidden): p(h = 1 | v) = sigmoid(v @ W + b_h)."
        got = _call(submission, "hidden_probabilities", call, v, W, b_h, hint=hint)
        got = expect_shape(call, got, (v.shape[0], n_hidden), hint=hint)
        if rel_error(got, _sigmoid(v @ W)) <= RTOL_ANALYTIC:
            hint = "The result is what it would be with b_h = 0: add b_h inside the sigmoid."
        elif rel_error(got, v @ W + b_h) <= RTOL_ANALYTIC:
            hint = "The result is v @ W + b_h before the sigmoid: apply the sigmoid."
        expect_array(call, got, _hidden_probabilities(v, W, b_h), hint=hint)


@points(2)
def test_visible_probabilities_values(submission, rng):
    """visible_probabilities(h, W, b_v) equals sigmoid(h @ W.T + b_v), shape (N, n_visible)."""
    n, n_visible, n_hidden = _sizes(rng)
    W, b_v, _ = _rbm(rng, n_visible, n_hidden, scale=1.5)
    for h in (_binary(rng, (n, n_hidden)), rng.uniform(size=(n + 2, n_hidden))):
        call = f"visible_probabilities(h, W, b_v) for {_shapes_note(h=h, W=W, b_v=b_v)}"
        hint = (
            "W has shape (n_visible, n_hidden), so going from the hidden to the visible "
            "units uses its transpose: p(v = 1 | h) = sigmoid(h @ W.T + b_v)."
        )
        got = _call(submission, "visible_probabilities", call, h, W, b_v, hint=hint)
        got = expect_shape(call, got, (h.shape[0], n_visible), hint=hint)
        if rel_error(got, _sigmoid(h @ W.T)) <= RTOL_ANALYTIC:
            hint = "The result is what it would be with b_v = 0: add b_v inside the sigmoid."
        expect_array(call, got, _visible_probabilities(h, W, b_v), hint=hint)


# ---------------------------------------------------------------------------
# sample_bernoulli
# ---------------------------------------------------------------------------

_SAMPLE_HINT = (
    "Draw one uniform number per entry from the rng you are given and compare it with p: "
    "(rng.random(p.shape) < p).astype(float)."
)


def _call_sample(submission, p: np.ndarray, seed: int) -> np.ndarray:
    call = f"sample_bernoulli(p, rng) for p of shape {p.shape}"
    got = _call(submission, "sample_bernoulli", call, p, Generator(seed), hint=_SAMPLE_HINT)
    if isinstance(got, np.ndarray) and got.dtype == bool:
        fail(
            f"`{call}` returned an array of booleans; expected floats 0.0 and 1.0 (a boolean "
            "minus a boolean is an error in numpy). Convert with .astype(float)."
        )
    sample = expect_shape(call, got, p.shape, hint=_SAMPLE_HINT)
    if not np.all((sample == 0.0) | (sample == 1.0)):
        fail(f"`{call}` returned values other than 0 and 1; expected a binary sample. {_SAMPLE_HINT}")
    return sample


@points(1)
def test_sample_bernoulli_returns_zeros_and_ones_of_p_shape(submission, rng):
    """sample_bernoulli(p, rng) returns 0.0 / 1.0 of p's shape: 0 where p = 0, 1 where p = 1."""
    for shape in [(int(rng.integers(5, 9)),), (3, int(rng.integers(4, 8))), (2, 3, 4)]:
        p = rng.uniform(size=shape)
        p.flat[rng.choice(p.size, size=2, replace=False)] = (0.0, 1.0)
        sample = _call_sample(submission, p, int(rng.integers(2**31)))
        if np.any(sample[p == 0.0] != 0.0) or np.any(sample[p == 1.0] != 1.0):
            fail(
                f"`sample_bernoulli(p, rng)` for p of shape {shape} gave 1 where p = 0 or 0 "
                "where p = 1; expected each entry to be 1 with probability p. "
                "Compare a uniform number u in [0, 1) with u < p (not u > p)."
            )


@points(1)
def test_sample_bernoulli_uses_the_given_rng(submission, rng):
    """sample_bernoulli draws from the rng it is given: same seed, same sample; other seed, other sample."""
    p = rng.uniform(0.3, 0.7, size=(int(rng.integers(20, 30)), int(rng.integers(5, 9))))
    seed = int(rng.integers(2**31))
    first = _call_sample(submission, p, seed)
    again = _call_sample(submission, p, seed)
    other = _call_sample(submission, p, seed + 1)
    if not np.array_equal(first, again):
        fail(
            "Two calls `sample_bernoulli(p, np.random.default_rng(seed))` with the same seed "
            "returned different samples; expected the same. Draw from the `rng` argument, not "
            "from np.random's global functions."
        )
    if np.array_equal(first, other):
        fail(
            f"`sample_bernoulli(p, rng)` returned the same sample for two different seeds "
            f"(p of shape {p.shape}, entries between 0.3 and 0.7); expected a random sample. "
            f"Do not threshold p at 0.5. {_SAMPLE_HINT}"
        )


@points(2)
def test_sample_bernoulli_frequencies_match_p(submission, rng):
    """Each entry of sample_bernoulli(p, rng) is 1 with probability p, independently of the others."""
    n_rows = int(rng.integers(2000, 2500))
    q = np.concatenate([rng.uniform(0.05, 0.95, size=5), [0.5, 0.5], rng.uniform(0.05, 0.3, 1)])
    q = rng.permutation(q)
    p = np.tile(q, (n_rows, 1))  # every row holds the same probabilities
    sample = _call_sample(submission, p, int(rng.integers(2**31)))
    frequency = sample.mean(axis=0)
    # Binomial standard error of each column's frequency; 5 of them is a 1-in-1.7-million
    # miss per column for a correct sampler.
    standard_error = np.sqrt(q * (1.0 - q) / n_rows)
    worst = float(np.max(np.abs(frequency - q) / standard_error))
    if worst > 5.0:
        fail(
            f"`sample_bernoulli(p, rng)` for p of shape {p.shape} (each column one probability, "
            f"the same in every row): a column's frequency of ones is {worst:.1f} standard errors "
            f"away from its p (allowed 5). Expected each entry to be 1 with probability p. "
            f"{_SAMPLE_HINT}"
        )
    pair = np.flatnonzero(q == 0.5)[:2]
    correlation = float(np.corrcoef(sample[:, pair[0]], sample[:, pair[1]])[0, 1])
    # Independent columns: the sample correlation has standard error 1 / sqrt(n_rows).
    if not abs(correlation) <= 5.0 / np.sqrt(n_rows):
        fail(
            f"`sample_bernoulli(p, rng)` for p of shape {p.shape}: two columns with p = 0.5 "
            f"have correlation {correlation:.2f}; expected independent entries (near 0). Draw "
            "one uniform number per entry, rng.random(p.shape), not one per row or per call."
        )


# ---------------------------------------------------------------------------
# free_energy
# ---------------------------------------------------------------------------

_FREE_ENERGY_HINT = (
    "F(v) = -v @ b_v - sum over the hidden units of softplus(v @ W + b_h), with "
    "softplus(x) = log(1 + exp(x)); one value per row, shape (N,)."
)


def _call_free_energy(submission, call, v, W, b_v, b_h, hint=_FREE_ENERGY_HINT) -> np.ndarray:
    got = _call(submission, "free_energy", call, v, W, b_v, b_h, hint=hint)
    return expect_shape(
        call,
        got,
        (v.shape[0],),
        hint="One free energy per row of v: sum over the hidden units (axis=1) only. " + hint,
    )


@points(2)
def test_free_energy_values(submission, rng):
    """free_energy(v, W, b_v, b_h) equals -v @ b_v - sum(softplus(v @ W + b_h), axis=1)."""
    n, n_visible, n_hidden = _sizes(rng)
    W, b_v, b_h = _rbm(rng, n_visible, n_hidden, scale=1.5)
    v = _binary(rng, (n, n_visible))
    call = f"free_energy(v, W, b_v, b_h) for {_shapes_note(v=v, W=W, b_v=b_v, b_h=b_h)}"
    got = _call_free_energy(submission, call, v, W, b_v, b_h)
    expected = _free_energy(v, W, b_v, b_h)
    hint = _FREE_ENERGY_HINT
    if rel_error(got, expected + v @ b_v) <= RTOL_ANALYTIC:
        hint = "The visible-bias term is missing: F(v) starts with -v @ b_v. " + hint
    elif rel_error(got, -expected) <= RTOL_ANALYTIC:
        hint = "The sign is flipped: both terms of F(v) carry a minus sign. " + hint
    elif rel_error(got, _free_energy(v, W, b_v, np.zeros_like(b_h))) <= RTOL_ANALYTIC:
        hint = "b_h is missing: softplus is applied to v @ W + b_h. " + hint
    expect_array(call, got, expected, hint=hint)


@points(1)
def test_free_energy_finite_for_large_weights(submission, rng):
    """free_energy is finite and correct for weights of 1e3 (no overflow in the softplus)."""
    n, n_visible, n_hidden = _sizes(rng)
    W, b_v, b_h = _rbm(rng, n_visible, n_hidden)
    W = W * 1e3
    v = _binary(rng, (n, n_visible))
    v[0] = 1.0  # at least one row with large pre-activations
    call = f"free_energy(v, W, b_v, b_h) with weights of size 1e3 ({_shapes_note(v=v, W=W)})"
    hint = (
        "np.log(1 + np.exp(x)) overflows to inf for x > 709. Use np.logaddexp(0, x), or "
        "np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))."
    )
    got = _call_free_energy(submission, call, v, W, b_v, b_h, hint=hint)
    expect_finite(call, got, hint=hint)
    expect_array(call, got, _free_energy(v, W, b_v, b_h), hint=hint)


# ---------------------------------------------------------------------------
# contrastive_divergence: interface
# ---------------------------------------------------------------------------


def _cd_problem(rng: np.random.Generator):
    n, n_visible, n_hidden = _sizes(rng)
    W, b_v, b_h = _rbm(rng, n_visible, n_hidden)
    return _binary(rng, (n, n_visible)), W, b_v, b_h


@points(1)
def test_contrastive_divergence_returns_new_parameters(submission, rng):
    """contrastive_divergence returns (W, b_v, b_h) of the input shapes, with or without an rng."""
    v0, W, b_v, b_h = _cd_problem(rng)
    shapes = _shapes_note(v0=v0, W=W, b_v=b_v, b_h=b_h)
    seed = int(rng.integers(2**31))
    _call_cd(
        submission,
        f"contrastive_divergence(v0, W, b_v, b_h, 0.1, k=2, rng=rng) for {shapes}",
        v0,
        W,
        b_v,
        b_h,
        0.1,
        k=2,
        rng=Generator(seed),
    )
    _call_cd(
        submission,
        f"contrastive_divergence(v0, W, b_v, b_h, 0.1) for {shapes}, without an rng",
        v0,
        W,
        b_v,
        b_h,
        0.1,
    )


@points(1)
def test_contrastive_divergence_does_not_modify_inputs(submission, rng):
    """contrastive_divergence leaves v0, W, b_v and b_h unchanged and returns new arrays."""
    v0, W, b_v, b_h = _cd_problem(rng)
    call = "contrastive_divergence(v0, W, b_v, b_h, 0.1, k=1, rng=rng)"
    _, args_after, _ = submission.call_keep_args(
        "contrastive_divergence", v0, W, b_v, b_h, 0.1, k=1, rng=Generator(int(rng.integers(2**31)))
    )
    names = ("v0", "W", "b_v", "b_h")
    expect_unmodified(
        call, dict(zip(names, (v0, W, b_v, b_h), strict=True)), dict(zip(names, args_after, strict=False))
    )
