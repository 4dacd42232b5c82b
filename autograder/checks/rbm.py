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
* ``"last_probabilities"`` (the same guide's CD-1, for k > 1): the visible states
  before the last are samples, the last reconstruction is p(v | h_{k-1}); at k = 1
  it is ``"mean_field"``;
* ``"mixed"`` (common in tutorials): the chain samples ``v_k`` and computes
  ``ph_k`` from the sample, but the visible statistic is p(v | h_{k-1}). Another
  expectation again.

Not accepted: hidden *probabilities* instead of samples driving the next
reconstruction (the chain is then no Gibbs chain; from h_0 on it is the "never
samples" mistake).

A student's mean gradient over ``N_CALLS`` calls (one seed each, ``N_ROWS`` rows
each) passes when, for one accepted variant, every entry lies within that
variant's tolerance of its exact expectation. The tolerance is derived, not
measured: the mean is one over ``N_CALLS * N`` independent row terms, each within
``TERM_RANGE`` of its expectation and of a variance bounded exactly by
enumeration (``_cd_row_variance_bound``, for samples or probabilities in every
statistic); Bernstein's inequality and a union bound over the entries make a
correct submission fail with probability below ``FALSE_FAILURE`` (1e-7) per run
(``_cd_tolerance``). The student's own spread is never used. The tiny RBM is the
first of up to ``TINY_CANDIDATES`` random ones on which every known mistake's
expectation lies beyond both its own tolerance and each variant's
(``_separation``), so that a mistake passes only if a mean leaves its interval.

Mistakes the tests of the kit prove these checks catch: the sign flipped, a sum over
the batch instead of a mean, the negative statistics built from the data's hidden
probabilities or from the hidden sample that generated ``v_k``, ``k`` ignored, no
sampling at all (a deterministic update), the global ``np.random`` instead of ``rng``,
the learning rate ignored, the inputs updated in place.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

import numpy as np

from autograder.checks._reference import sigmoid
from autograder.checks.common import (
    RTOL_ANALYTIC,
    Generator,
    Inputs,
    describe,
    diagnose,
    expect_array,
    expect_finite,
    expect_finite_array,
    expect_shape,
    fail,
    points,
    report_metric,
    unchanged_check,
)
from autograder.submission import CouldNotRun, StudentException

#: The student functions these checks grade (curriculum order).
FUNCTIONS = (
    "hidden_probabilities",
    "visible_probabilities",
    "sample_bernoulli",
    "free_energy",
    "contrastive_divergence",
    "reconstruct",
)
#: The installed data sets the checks read (their held-out rows: autograder.heldout).
DATASETS = ("digits",)

#: Calls (one seed each) over which a CD update is averaged in the statistical checks.
N_CALLS = 50
#: Rows of the batch of each of those calls: the mean is one over N_CALLS * N_ROWS
#: independent row terms, which is what makes its tolerance small (``_cd_tolerance``).
N_ROWS = (800, 1025)
#: Most probability, per run of a statistical check, that a correct submission fails it
#: (a union bound over the entries it compares): one in ten million, ten times below the
#: one in a million the kit promises.
FALSE_FAILURE = 1e-7
#: Most a row's CD gradient term (a difference of two statistics in [0, 1]) can lie from
#: its expectation: the ``b`` of Bernstein's inequality.
TERM_RANGE = 2.0
#: Absolute slack for rounding: ``(W + rate * dW) - W`` recovers ``rate * dW`` to about
#: 1e-16 * |W| <= 1e-14, and dividing by a rate >= 0.05 keeps it below 1e-12.
ROUNDING_SLACK = 1e-9
#: Separation (``_separation``) of the mistakes from the accepted variants at which the
#: search for a tiny RBM stops. Above 1, a run confuses a mistake with a variant only
#: when a mean leaves its Bernstein interval, with probability below FALSE_FAILURE.
GOOD_SEPARATION = 1.5
#: Random tiny RBMs tried, at most, for the one above.
TINY_CANDIDATES = 24
#: Relative error allowed between two updates that differ only in the learning rate:
#: ``new - old`` loses the digits of ``old`` (around 1e-16 / 1e-3 relative), nothing more.
RTOL_UPDATE = 1e-6

CD_VARIANTS = ("sampled", "mean_field", "last_probabilities", "mixed")

# ---------------------------------------------------------------------------
# Reference implementation (stays in the grader).
# ---------------------------------------------------------------------------


def _hidden_probabilities(v, W, b_h):
    return sigmoid(v @ W + b_h)


def _visible_probabilities(h, W, b_v):
    return sigmoid(h @ W.T + b_v)


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


def _chain_states(rows, W, b_v, b_h, k: int, variant: str):
    """The negative phase of CD-k as a finite mixture of states, for each of ``rows``.

    Returns ``(weights, visible, hidden)``: ``weights[n, s]`` is the probability that
    row ``n``'s chain ends in state ``s``; ``visible[s]`` and ``hidden[s]`` are the
    visible and hidden statistics of that state (binary samples, or probabilities). A
    hidden statistic given as probabilities may be replaced by a sample of them: the
    expectation stays. ``variant`` is one of ``CD_VARIANTS`` or the mistake
    ``"generating_hidden"`` (v_k paired with the hidden sample h_{k-1} that generated it).
    """
    n_visible, n_hidden = W.shape
    vs, hs = _binary_states(n_visible), _binary_states(n_hidden)
    q = _state_probabilities(_hidden_probabilities(rows, W, b_h), hs)  # (N, 2^H): law of h_0
    pv_of_h = _visible_probabilities(hs, W, b_v)  # (2^H, V)
    ph_of_v = _hidden_probabilities(vs, W, b_h)  # (2^V, H)
    ph_of_pv = _hidden_probabilities(pv_of_h, W, b_h)  # (2^H, H)
    v_given_h = _state_probabilities(pv_of_h, vs)  # (2^H, 2^V)
    if variant == "mean_field":  # every visible state of the chain is p(v | h)
        step = _state_probabilities(ph_of_pv, hs)  # (2^H, 2^H)
    else:  # the visible states before the last are samples
        step = v_given_h @ _state_probabilities(ph_of_v, hs)  # (2^H, 2^H)
    for _ in range(k - 1):
        q = q @ step  # law of h_{k-1}
    if variant in ("mean_field", "last_probabilities"):
        return q, pv_of_h, ph_of_pv
    if variant == "sampled":
        return q @ v_given_h, vs, ph_of_v
    # The other two end in the states (h_{k-1}, v_k).
    weights = (q[:, :, None] * v_given_h[None]).reshape(len(rows), -1)
    if variant == "mixed":  # v_k sampled for phk, but the visible statistic is p(v | h_{k-1})
        return weights, np.repeat(pv_of_h, len(vs), axis=0), np.tile(ph_of_v, (len(hs), 1))
    if variant == "generating_hidden":
        return weights, np.tile(vs, (len(hs), 1)), np.repeat(hs, len(vs), axis=0)
    raise ValueError(variant)


def _distinct_rows(v0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``v0`` and the share of the batch each one is."""
    codes = (v0 @ 2.0 ** np.arange(v0.shape[1])).astype(int)  # each binary row as a number
    counts = np.bincount(codes, minlength=2 ** v0.shape[1])
    present = np.flatnonzero(counts)
    return _binary_states(v0.shape[1])[:, ::-1][present], counts[present] / len(v0)


def _cd_expectation(v0, W, b_v, b_h, k: int, variant: str) -> np.ndarray:
    """Exact expected CD-k gradient of one variant, flattened as (dW, db_v, db_h).

    Enumerates the 2**n_hidden hidden and 2**n_visible visible states, so only for
    tiny RBMs. ``variant`` is one of ``CD_VARIANTS`` or a mistake the hints name:
    ``"data_hidden"`` (negative statistics with p(h | v0)) or ``"generating_hidden"``
    (negative statistics with the hidden sample h_{k-1} that generated v_k).
    """
    rows, share = _distinct_rows(v0)
    ph0 = _hidden_probabilities(rows, W, b_h)  # (R, H)
    positive = [rows.T @ (share[:, None] * ph0), share @ rows, share @ ph0]
    if variant == "data_hidden":
        weights, visible, _ = _chain_states(rows, W, b_v, b_h, k, "sampled")
        neg_v = weights @ visible  # (R, V)
        negative = [(share[:, None] * neg_v).T @ ph0, share @ neg_v, share @ ph0]
    else:
        weights, visible, hidden = _chain_states(rows, W, b_v, b_h, k, variant)
        weights = share @ weights  # (S,): the batch's law of the final state
        negative = [np.einsum("s,si,sj->ij", weights, visible, hidden), weights @ visible,
                    weights @ hidden]  # fmt: skip
    return np.concatenate([(p - n).ravel() for p, n in zip(positive, negative, strict=True)])


def _cd_row_variance_bound(rows, W, b_h, weights, visible, hidden) -> np.ndarray:
    """An upper bound on the variance of the CD gradient term of each of ``rows``, (R, P).

    ``weights, visible, hidden`` are the negative phase (``_chain_states``). A row adds
    to N times the gradient the term ``pos - neg``: its positive statistic (``v0 h0``,
    ``v0``, ``h0``, with h0 a sample or ``ph0``) less its negative one. Whatever the
    correlation of the two, Var(pos - neg) <= (sd(pos) + sd(neg))**2, and a hidden
    sample has at least the variance of its probability (law of total variance,
    E[h | v] = p(h | v)), so the bound takes samples on both sides: it holds for every
    way of writing the variant (probabilities or samples in the statistics, any order
    of the random draws).
    """
    ph0 = _hidden_probabilities(rows, W, b_h)  # (R, H)
    var_pos = np.concatenate(
        [(rows[:, :, None] ** 2 * (ph0 * (1 - ph0))[:, None, :]).reshape(len(rows), -1),
         np.zeros_like(rows), ph0 * (1 - ph0)], axis=1,
    )  # fmt: skip
    vh = np.einsum("si,sj->sij", visible, hidden).reshape(len(visible), -1)
    mean = weights @ np.concatenate([vh, visible, hidden], axis=1)
    # Second moments with sampled hidden units: E[(v_i h_j)^2] = E[v_i^2 p_j], E[h_j^2] = E[p_j].
    v2h = np.einsum("si,sj->sij", visible**2, hidden).reshape(len(visible), -1)
    second = weights @ np.concatenate([v2h, visible**2, hidden], axis=1)
    var_neg = np.maximum(second - mean**2, 0.0)
    return (np.sqrt(var_pos) + np.sqrt(var_neg)) ** 2


def _bernstein_deviation(variance_sum: np.ndarray, n_terms: int, log_term: float) -> np.ndarray:
    """Half-width t of a Bernstein interval for the mean of ``n_terms`` independent terms.

    Each term deviates from its expectation by at most ``TERM_RANGE``, and their
    variances add up to ``variance_sum``. Bernstein's inequality,
    P(|sum - E sum| >= s) <= 2 exp(-s**2 / (2 (variance_sum + TERM_RANGE s / 3))),
    gives 2 exp(-log_term) at s = b L / 3 + sqrt((b L / 3)**2 + 2 L variance_sum), with
    b = TERM_RANGE and L = log_term; t = s / n_terms.
    """
    third = TERM_RANGE * log_term / 3.0
    return (third + np.sqrt(third**2 + 2.0 * log_term * variance_sum)) / n_terms


def _cd_tolerance(v0, W, b_v, b_h, k: int, variant: str) -> np.ndarray:
    """Largest |mean gradient - expectation| per entry of ``variant``, over ``N_CALLS`` calls.

    The mean over ``N_CALLS`` calls of N rows is a mean of ``N_CALLS * N`` independent
    row terms (one seed per call; the rows of a call use independent draws), whose
    variances ``_cd_row_variance_bound`` bounds. With L = log(2 P / FALSE_FAILURE) for
    the P entries, Bernstein's interval (``_bernstein_deviation``) misses one entry or
    more with probability at most FALSE_FAILURE (a union bound over the entries).
    ``variant`` may also be the mistake ``"generating_hidden"`` or ``"data_hidden"``;
    the latter's row terms get the bound 1 on the variance of any term in [-1, 1].
    """
    n_terms = N_CALLS * len(v0)
    if variant == "data_hidden":
        variance = np.full(W.size + sum(W.shape), float(n_terms))
    else:
        rows, share = _distinct_rows(v0)
        states = _chain_states(rows, W, b_v, b_h, k, variant)
        variance = n_terms * (share @ _cd_row_variance_bound(rows, W, b_h, *states))
    log_term = float(np.log(2 * variance.size / FALSE_FAILURE))
    return _bernstein_deviation(variance, n_terms, log_term) + ROUNDING_SLACK


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


def _problem(rng: np.random.Generator, scale: float = 1.0) -> tuple[np.ndarray, ...]:
    """``(v, W, b_v, b_h)``: a batch of binary rows and an RBM (``_sizes``, ``_rbm``)."""
    n, n_visible, n_hidden = _sizes(rng)
    W, b_v, b_h = _rbm(rng, n_visible, n_hidden, scale=scale)
    return _binary(rng, (n, n_visible)), W, b_v, b_h


def _shapes_note(**arrays: np.ndarray) -> str:
    return ", ".join(f"{name} of shape {np.shape(value)}" for name, value in arrays.items())


def _call(submission, function: str, call: str, *args, hint: str = "", **kwargs) -> Any:
    """``submission.call``, adding ``hint`` when the student's function raises."""
    try:
        return submission.call(function, *args, **kwargs)
    except StudentException as error:
        if isinstance(error, CouldNotRun):  # it did not run: no hint about its values
            raise
        fail(f"`{call}`: {error}. {hint}".strip())


_CD_HINT = (
    "contrastive_divergence returns a tuple (W, b_v, b_h) of new arrays with the shapes "
    "of the inputs W (n_visible, n_hidden), b_v (n_visible,) and b_h (n_hidden,)."
)


def _call_cd(submission, call: str, v0, W, b_v, b_h, learning_rate, **kwargs):
    """Call the student's contrastive_divergence; check the result; return float arrays."""
    hint = f"It was called with {_shapes_note(v0=v0, W=W, b_v=b_v, b_h=b_h)}."
    result = _call(submission, "contrastive_divergence", call, v0, W, b_v, b_h, learning_rate,
                   hint=hint, **kwargs)  # fmt: skip
    return _expect_cd_result(call, result, W, b_v, b_h)


def _expect_cd_result(call: str, result: Any, W, b_v, b_h) -> tuple[np.ndarray, ...]:
    """Fail unless ``result`` is a tuple of finite new (W, b_v, b_h) of the inputs' shapes."""
    if not isinstance(result, tuple | list) or len(result) != 3:
        fail(f"`{call}` returned {describe(result)}; expected a tuple (W, b_v, b_h). {_CD_HINT}")
    names = ("W", "b_v", "b_h")
    arrays = []
    for name, value, reference in zip(names, result, (W, b_v, b_h), strict=True):
        part = f"{call}[{names.index(name)}] (the new {name})"
        arrays.append(expect_shape(part, value, reference.shape, hint=_CD_HINT))
        expect_finite(
            part,
            arrays[-1],
            hint="Look for an overflow (np.exp of a large number in a hand-written sigmoid) "
            "or a division by zero.",
        )
    return tuple(arrays)


def _same_parameters(first: tuple, second: tuple) -> bool:
    """Whether two results of contrastive_divergence are equal to the bit."""
    return all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


def _update(new: tuple, old: tuple) -> np.ndarray:
    """The change of (W, b_v, b_h), flattened."""
    return np.concatenate([(a - b).ravel() for a, b in zip(new, old, strict=True)])


# ---------------------------------------------------------------------------
# hidden_probabilities and visible_probabilities
# ---------------------------------------------------------------------------


def _check_probabilities(
    submission, rng, function: str, given: str, bias: str, reference, *, hint: str, mistakes
) -> None:
    """``function(given, W, bias)`` equals ``reference`` on a binary batch and one of probabilities.

    ``mistakes(x, W, b)`` gives the ``(answer, hint)`` pairs of known wrong versions.
    """
    n, n_visible, n_hidden = _sizes(rng)
    W, b_v, b_h = _rbm(rng, n_visible, n_hidden, scale=1.5)
    b, width = (b_h, n_visible) if bias == "b_h" else (b_v, n_hidden)
    for x in (_binary(rng, (n, width)), rng.uniform(size=(n + 2, width))):
        call = f"{function}({given}, W, {bias}) for {_shapes_note(**{given: x, 'W': W, bias: b})}"
        expected = reference(x, W, b)
        got = _call(submission, function, call, x, W, b, hint=hint)
        got = expect_shape(call, got, expected.shape, hint=hint)
        mistake = diagnose(got, mistakes(x, W, b), hint, rtol=RTOL_ANALYTIC)
        expect_array(call, got, expected, hint=mistake)


@points(2)
def test_hidden_probabilities_values(submission, rng):
    """hidden_probabilities(v, W, b_h) equals sigmoid(v @ W + b_h), shape (N, n_hidden)."""
    _check_probabilities(
        submission, rng, "hidden_probabilities", "v", "b_h", _hidden_probabilities,
        hint="W has shape (n_visible, n_hidden): p(h = 1 | v) = sigmoid(v @ W + b_h).",
        mistakes=lambda v, W, b_h: [
            (sigmoid(v @ W),
             "The result is what it would be with b_h = 0: add b_h inside the sigmoid."),
            (v @ W + b_h, "The result is v @ W + b_h before the sigmoid: apply the sigmoid."),
        ],
    )  # fmt: skip


@points(2)
def test_visible_probabilities_values(submission, rng):
    """visible_probabilities(h, W, b_v) equals sigmoid(h @ W.T + b_v), shape (N, n_visible)."""
    _check_probabilities(
        submission, rng, "visible_probabilities", "h", "b_v", _visible_probabilities,
        hint="W has shape (n_visible, n_hidden), so going from the hidden to the visible "
        "units uses its transpose: p(v = 1 | h) = sigmoid(h @ W.T + b_v).",
        mistakes=lambda h, W, b_v: [
            (sigmoid(h @ W.T),
             "The result is what it would be with b_v = 0: add b_v inside the sigmoid."),
        ],
    )  # fmt: skip


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
        fail(
            f"`{call}` returned values other than 0 and 1; expected a binary sample. {_SAMPLE_HINT}"
        )
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
    """sample_bernoulli draws from its rng: same seed, same sample; other seed, other sample."""
    # 100 or more entries of p in [0.3, 0.7]: two independent samples agree on an entry
    # with probability p**2 + (1 - p)**2 <= 0.58, on all of them below 0.58**100 = 2e-24.
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


def _bernoulli_deviation(q: np.ndarray, n: int, n_statistics: int) -> np.ndarray:
    """Largest accepted |frequency - q| of ``n`` independent draws of probability ``q``.

    Bernstein's inequality for terms within 1 of their mean and of variance q (1 - q):
    P(|f - q| >= t) <= 2 exp(-n t**2 / (2 q (1 - q) + 2 t / 3)), which is
    FALSE_FAILURE / n_statistics at t = sqrt(2 q (1 - q) L / n) + L / (3 n), with
    L = log(2 n_statistics / FALSE_FAILURE): a union bound over ``n_statistics``
    frequencies fails a correct sampler with probability below FALSE_FAILURE.
    """
    log_term = float(np.log(2 * n_statistics / FALSE_FAILURE))
    return np.sqrt(2.0 * q * (1.0 - q) * log_term / n) + log_term / (3.0 * n)


@points(2)
def test_sample_bernoulli_frequencies_match_p(submission, rng):
    """Each entry of sample_bernoulli(p, rng) is 1 with probability p, independently."""
    n_rows = int(rng.integers(4000, 5000))
    # Two columns of 0.5 for independence; 0.1 and 0.7 (and the ranges) for which
    # swapping p and 1 - p moves a frequency by 0.4 or more, eight times the tolerance.
    q = np.concatenate([[0.5, 0.5, 0.1, 0.7], rng.uniform(0.05, 0.3, 1),
                        rng.uniform(0.6, 0.95, 1), rng.uniform(0.05, 0.95, 2)])  # fmt: skip
    q = rng.permutation(q)
    p = np.tile(q, (n_rows, 1))  # every row holds the same probabilities
    sample = _call_sample(submission, p, int(rng.integers(2**31)))
    # Nine statistics: the eight frequencies and the agreement of the two columns of 0.5.
    frequency = sample.mean(axis=0)
    allowed = _bernoulli_deviation(q, n_rows, n_statistics=len(q) + 1)
    standard_error = np.sqrt(q * (1.0 - q) / n_rows)
    worst = int(np.argmax(np.abs(frequency - q) / allowed))
    if not abs(frequency[worst] - q[worst]) <= allowed[worst]:
        fail(
            f"`sample_bernoulli(p, rng)` for p of shape {p.shape} (each column one probability, "
            "the same in every row): a column's frequency of ones is "
            f"{abs(frequency[worst] - q[worst]) / standard_error[worst]:.1f} standard errors "
            f"away from its p (allowed {allowed[worst] / standard_error[worst]:.1f}). Expected "
            f"each entry to be 1 with probability p. {_SAMPLE_HINT}"
        )
    # Independent entries, one of probability 0.5: they agree with probability exactly 0.5,
    # whatever the other's probability. Entries drawn from one number agree far more often.
    pair = np.flatnonzero(q == 0.5)[:2]
    agreement = float(np.mean(sample[:, pair[0]] == sample[:, pair[1]]))
    if not abs(agreement - 0.5) <= float(_bernoulli_deviation(np.array(0.5), n_rows, len(q) + 1)):
        fail(
            f"`sample_bernoulli(p, rng)` for p of shape {p.shape}: two columns with p = 0.5 "
            f"agree in {agreement:.0%} of the rows; expected independent entries, which agree "
            "half the time (a correlation near 0). Draw one uniform number per entry, "
            "rng.random(p.shape), not one per row or per call."
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
    v, W, b_v, b_h = _problem(rng, scale=1.5)
    call = f"free_energy(v, W, b_v, b_h) for {_shapes_note(v=v, W=W, b_v=b_v, b_h=b_h)}"
    got = _call_free_energy(submission, call, v, W, b_v, b_h)
    expected = _free_energy(v, W, b_v, b_h)
    mistakes = [
        (expected + v @ b_v, "The visible-bias term is missing: F(v) starts with -v @ b_v."),
        (-expected, "The sign is flipped: both terms of F(v) carry a minus sign."),
        (lambda: _free_energy(v, W, b_v, np.zeros_like(b_h)),
         "b_h is missing: softplus is applied to v @ W + b_h."),
    ]  # fmt: skip
    mistake = diagnose(got, mistakes, rtol=RTOL_ANALYTIC)
    expect_array(call, got, expected, hint=f"{mistake} {_FREE_ENERGY_HINT}".strip())


@points(1)
def test_free_energy_finite_for_large_weights(submission, rng):
    """free_energy is finite and correct for weights of 1e3 (no overflow in the softplus)."""
    v, W, b_v, b_h = _problem(rng)
    W = W * 1e3
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


@points(1)
def test_contrastive_divergence_returns_new_parameters(submission, rng):
    """contrastive_divergence returns (W, b_v, b_h) of the input shapes, with or without an rng."""
    problem = _problem(rng)
    shapes = _shapes_note(**dict(zip(("v0", "W", "b_v", "b_h"), problem, strict=True)))
    seed = int(rng.integers(2**31))
    call = "contrastive_divergence(v0, W, b_v, b_h, 0.1"
    _call_cd(submission, f"{call}, k=2, rng=rng) for {shapes}", *problem, 0.1, k=2,
             rng=Generator(seed))  # fmt: skip
    _call_cd(submission, f"{call}) for {shapes}, without an rng", *problem, 0.1)


@points(1)
def test_contrastive_divergence_uses_the_given_rng(submission, rng):
    """contrastive_divergence samples from its rng: same seed, same result; other seed, other."""
    _, n_visible, n_hidden = _sizes(rng)
    # No unit is almost sure, so two seeds giving the same parameters would take the same
    # multiset of chain states over 20 to 30 rows: measured, never over thousands of runs
    # (benchmarks/statistical_checks.py); not bounded analytically.
    W, b_v, b_h = _rbm(rng, n_visible, n_hidden, scale=0.3)
    v0 = _binary(rng, (int(rng.integers(20, 30)), n_visible))
    seed = int(rng.integers(2**31))
    call = "contrastive_divergence(v0, W, b_v, b_h, 0.1, k=1, rng=np.random.default_rng(seed))"
    first = _call_cd(submission, call, v0, W, b_v, b_h, 0.1, k=1, rng=Generator(seed))
    again = _call_cd(submission, call, v0, W, b_v, b_h, 0.1, k=1, rng=Generator(seed))
    other = _call_cd(submission, call, v0, W, b_v, b_h, 0.1, k=1, rng=Generator(seed + 1))
    if not _same_parameters(first, again):
        fail(
            f"Two calls `{call}` with the same seed returned different parameters; expected "
            "the same. Make every random draw from the `rng` argument (pass it on to "
            "sample_bernoulli), not from np.random's global functions."
        )
    if _same_parameters(first, other):
        fail(
            f"`{call}` returned the same parameters for two different seeds; expected a random "
            "update. CD runs a Gibbs chain: sample h_0 ~ p(h | v_0) with sample_bernoulli "
            "before computing the reconstruction, rather than passing probabilities on."
        )


@points(1)
def test_contrastive_divergence_scales_with_learning_rate(submission, rng):
    """The change new - old of every parameter is proportional to learning_rate (same seed)."""
    v0, W, b_v, b_h = _problem(rng)
    seed = int(rng.integers(2**31))
    rate = float(rng.uniform(0.02, 0.1))
    factor = float(rng.uniform(2.0, 5.0))
    old = (W, b_v, b_h)
    call = "contrastive_divergence(v0, W, b_v, b_h, {:.3g}, k=1, rng=np.random.default_rng(seed))"
    small = _call_cd(submission, call.format(rate), v0, W, b_v, b_h, rate, k=1, rng=Generator(seed))
    again = _call_cd(submission, call.format(rate), v0, W, b_v, b_h, rate, k=1, rng=Generator(seed))
    if not _same_parameters(small, again):
        fail(
            f"Two calls `{call.format(rate)}` with the same seed returned different parameters, "
            "so the effect of the learning rate cannot be measured. Make every random draw "
            "from the `rng` argument, not from np.random's global functions."
        )
    large = _call_cd(submission, call.format(rate * factor), v0, W, b_v, b_h, rate * factor,
                     k=1, rng=Generator(seed))  # fmt: skip
    for index, name in enumerate(("W", "b_v", "b_h")):
        expect_array(
            f"{call.format(rate * factor)}: the change of {name}, compared with {factor:.3g} times "
            f"its change for learning_rate={rate:.3g} with the same seed",
            large[index] - old[index],
            factor * (small[index] - old[index]),
            rtol=RTOL_UPDATE,
            hint="Multiply every gradient (dW, db_v and db_h) by learning_rate: "
            "W + learning_rate * dW, and the same for both biases.",
        )


# ---------------------------------------------------------------------------
# contrastive_divergence: the expected update on a tiny RBM
# ---------------------------------------------------------------------------


def _known_mistakes(v0, W, b_v, b_h, k: int, accepted: dict) -> list[tuple]:
    """``(expected gradient, tolerance, hint)`` of each mistake the hints name.

    ``accepted`` maps each variant to its ``(expected gradient, tolerance)``.
    """
    n = len(v0)
    mistakes = []
    for expected, tolerance in accepted.values():
        mistakes.append((
            -expected, tolerance,
            "The update has the opposite sign: CD is gradient ascent on the log-likelihood, "
            "W + learning_rate * (v0.T @ ph0 - vk.T @ phk) / N (positive minus negative "
            "statistics), and the same for the biases.",
        ))  # fmt: skip
        mistakes.append((
            n * expected, n * tolerance,  # a sum over the rows is N times the mean
            f"The update is N = {n} times too large: average the statistics over the batch "
            "(divide by N, or use a mean over the rows), do not sum them.",
        ))  # fmt: skip
    for variant, hint in (
        ("data_hidden", "The negative statistics use the hidden probabilities of the data, "
         "p(h | v0); they use those of the chain's end: phk = hidden_probabilities(vk, W, b_h)."),
        ("generating_hidden", "The negative statistics pair vk with the hidden sample that "
         "generated it; compute the hidden probabilities of vk itself, "
         "phk = hidden_probabilities(vk, W, b_h)."),
    ):  # fmt: skip
        mistakes.append((_cd_expectation(v0, W, b_v, b_h, k, variant),
                         _cd_tolerance(v0, W, b_v, b_h, k, variant), hint))  # fmt: skip
    if k > 1:
        # At k = 1, last_probabilities is mean_field.
        for variant in ("sampled", "mean_field", "mixed"):
            mistakes.append((
                _cd_expectation(v0, W, b_v, b_h, 1, variant),
                _cd_tolerance(v0, W, b_v, b_h, 1, variant),
                f"The update is that of CD-1 although k = {k}: run k Gibbs steps "
                "(h -> v -> h, k times) before taking the negative statistics.",
            ))  # fmt: skip
    return mistakes


def _accepted(v0, W, b_v, b_h, k: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each accepted variant's exact expected CD-k gradient and its tolerance."""
    return {
        variant: (_cd_expectation(v0, W, b_v, b_h, k, variant),
                  _cd_tolerance(v0, W, b_v, b_h, k, variant))
        for variant in CD_VARIANTS
    }  # fmt: skip


def _separation(accepted: dict, mistakes: list) -> float:
    """How clearly the mistakes stand apart from the accepted variants: above 1, always.

    For each mistake and accepted variant, the largest gap between their expected
    gradients over the sum of their tolerances; the least of those. A gap above the two
    tolerances cannot be bridged unless one of the two means leaves its interval.
    """
    return min(
        float(np.max(np.abs(expected - wrong) / (tolerance + wrong_tolerance)))
        for expected, tolerance in accepted.values()
        for wrong, wrong_tolerance, _ in mistakes
    )


def _tiny_cd_problem(rng: np.random.Generator, k: int):
    """A 4-visible, 3-hidden RBM and a batch of ``N_ROWS`` binary rows, for CD-``k``.

    Of up to ``TINY_CANDIDATES`` random candidates it keeps the first whose known
    mistakes all lie ``GOOD_SEPARATION`` times further from every accepted variant than
    the tolerances (``_separation``), or the best one. Returns the problem, the accepted
    variants (``_accepted``), the mistakes (``_known_mistakes``) and the separation.
    """
    best, best_score = None, -1.0
    for _ in range(TINY_CANDIDATES):
        n = int(rng.integers(*N_ROWS))
        W, b_v, b_h = _rbm(rng, 4, 3, scale=3.0)
        v0 = _binary(rng, (n, 4))
        accepted = _accepted(v0, W, b_v, b_h, k)
        mistakes = _known_mistakes(v0, W, b_v, b_h, k, accepted)
        score = _separation(accepted, mistakes)
        if score > best_score:
            best, best_score = ((v0, W, b_v, b_h), accepted, mistakes), score
        if score >= GOOD_SEPARATION:
            break
    return (*best, best_score)


def _worst_parameter(distance: np.ndarray, n_visible: int, n_hidden: int) -> str:
    index = int(np.argmax(distance))
    if index < n_visible * n_hidden:
        return "W"
    return "b_v" if index < n_visible * n_hidden + n_visible else "b_h"


def _check_expected_update(submission, rng, k: int) -> None:
    """The mean of ``N_CALLS`` CD-k gradients lies within the tolerance of an accepted variant.

    The tolerance of each entry is a Bernstein bound (``_cd_tolerance``): a correct
    submission fails with probability below ``FALSE_FAILURE``. The problem is one on
    which every known mistake lies beyond both its own and the variants' tolerances.
    """
    (v0, W, b_v, b_h), accepted, mistakes, _ = _tiny_cd_problem(rng, k)
    n_visible, n_hidden = W.shape
    rate = float(rng.uniform(0.05, 0.5))
    base = int(rng.integers(2**31 - N_CALLS))
    call = (
        f"contrastive_divergence(v0, W, b_v, b_h, {rate:.3g}, k={k}, "
        "rng=np.random.default_rng(seed))"
    )
    what = f"{call} for {_shapes_note(v0=v0, W=W)}"
    total = np.zeros(W.size + n_visible + n_hidden)
    for i in range(N_CALLS):
        new = _call_cd(submission, what, v0, W, b_v, b_h, rate, k=k, rng=Generator(base + i))
        total += _update(new, (W, b_v, b_h))
    gradient = total / (N_CALLS * rate)  # the mean gradient of the calls
    distances = {
        variant: np.abs(gradient - expected) / tolerance
        for variant, (expected, tolerance) in accepted.items()
    }
    closest = min(distances, key=lambda variant: float(np.max(distances[variant])))
    if np.max(distances[closest]) <= 1.0:
        return
    hint = (
        "Follow the notebook's recipe: ph0 = p(h | v0); sample h0; then k times: vk from "
        "p(v | h) (a sample, or the probabilities), phk = p(h | vk), sample the next h; "
        "dW = (v0.T @ ph0 - vk.T @ phk) / N, db_v = mean(v0 - vk), db_h = mean(ph0 - phk)."
    )
    for expected, tolerance, mistake_hint in mistakes:
        if np.all(np.abs(gradient - expected) <= tolerance):
            hint = mistake_hint
            break
    parameter = _worst_parameter(distances[closest], n_visible, n_hidden)
    fail(
        f"`{what}`, called with {N_CALLS} seeds: the average change of {parameter} is "
        f"{float(np.max(distances[closest])):.1f} times further from the expected CD-{k} "
        "update than a correct implementation's average strays but once in ten million "
        f"runs. {hint}"
    )


@points(3)
def test_contrastive_divergence_expected_cd1_update(submission, rng):
    """Averaged over many seeds, the CD-1 update equals its exact expectation on a tiny RBM."""
    _check_expected_update(submission, rng, k=1)


@points(2)
def test_contrastive_divergence_expected_cdk_update(submission, rng):
    """Averaged over many seeds, the CD-3 update equals its exact expectation on a tiny RBM."""
    _check_expected_update(submission, rng, k=3)


#: Least rise of the exact mean log-likelihood (nats per row) over the 30 CD-1 steps of
#: test_contrastive_divergence_raises_log_likelihood. Measured, not derived: correct CD
#: gained 0.13 nats or more over 1,000 seeds for each of seven correct variants (0.2
#: failed one seed in 1,000), a flipped sign loses 9 or more; any rise at all is asked.
LOG_LIKELIHOOD_GAIN = 0.0


@points(2)
def test_contrastive_divergence_raises_log_likelihood(submission, rng):
    """Repeated CD-1 steps raise the exact log-likelihood of a small data set (gradient ascent)."""
    n_visible, n_hidden, n_steps, rate = 4, 3, 30, 0.2
    first = _binary(rng, (n_visible,))
    second = first.copy()
    flipped = rng.choice(n_visible, size=2, replace=False)
    second[flipped] = 1.0 - second[flipped]  # two patterns that share two pixels
    n = int(rng.integers(20, 29))
    data = np.where(rng.random(n)[:, None] < 0.5, first, second)
    data = np.abs(data - _binary(rng, data.shape, p=0.1))  # 10 % of the pixels flipped
    params = (
        rng.normal(scale=0.1, size=(n_visible, n_hidden)),
        np.zeros(n_visible),
        np.zeros(n_hidden),
    )
    before = _log_likelihood(data, *params)
    base = int(rng.integers(2**31 - n_steps))
    call = f"contrastive_divergence(data, W, b_v, b_h, {rate}, k=1, rng=rng)"
    for step in range(n_steps):
        params = _call_cd(submission, call, data, *params, rate, k=1, rng=Generator(base + step))
    gain = _log_likelihood(data, *params) - before
    if not gain >= LOG_LIKELIHOOD_GAIN:
        direction = "fell" if gain < 0 else "rose only"
        fail(
            f"{n_steps} steps of `{call}` on a data set of {n} rows and a "
            f"{n_visible}-visible, {n_hidden}-hidden RBM: the exact mean log-likelihood "
            f"{direction} by {abs(gain):.3g} nats; expected it to rise"
            + (f" by at least {LOG_LIKELIHOOD_GAIN:g} nats" if LOG_LIKELIHOOD_GAIN else "")
            + ". CD is gradient ascent: add learning_rate times "
            "(positive - negative statistics) to each parameter."
        )


# ---------------------------------------------------------------------------
# contrastive_divergence: training on digits
# ---------------------------------------------------------------------------

#: The notebook uses the first 1500 digits of scikit-learn's set; the rest are held out here.
N_NOTEBOOK_DIGITS = 1500
#: Held-out reconstruction error after training, as a fraction of the error before it, at
#: most: correct CD-1 reaches 0.45 to 0.6, a flipped sign about 5.
RECONSTRUCTION_RATIO = 0.8
#: Least held-out accuracy of a logistic regression on the trained hidden probabilities
#: (chance is 0.1; correct CD-1 gives 0.75 or more, a flipped sign about 0.1).
FEATURE_ACCURACY = 0.5


@functools.cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    return (digits.data > 7).astype(float), digits.target


def _train_on_digits(submission, rng):
    """Minibatch CD-1 through the student's function; returns the data and both parameter sets."""
    images, labels = _digits()
    train = rng.choice(N_NOTEBOOK_DIGITS, size=400, replace=False)
    n_hidden, batch, n_epochs, rate = 24, 40, 8, 1.0
    mean = np.clip(images[train].mean(axis=0), 0.01, 0.99)
    start = (
        rng.normal(scale=0.1, size=(images.shape[1], n_hidden)),
        np.log(mean / (1.0 - mean)),
        np.zeros(n_hidden),
    )
    params = start
    base = int(rng.integers(2**31 - 1000))
    call = f"contrastive_divergence(batch, W, b_v, b_h, {rate}, k=1, rng=rng)"
    for epoch in range(n_epochs):
        order = rng.permutation(train)
        for step, first in enumerate(range(0, len(order), batch)):
            what = f"{call} (digits, {batch} per batch, epoch {epoch + 1}, batch {step + 1})"
            seed = base + epoch * 100 + step
            rows = images[order[first : first + batch]]
            params = _call_cd(submission, what, rows, *params, rate, k=1, rng=Generator(seed))
    held_out = np.arange(N_NOTEBOOK_DIGITS, len(images))
    return images, labels, train, held_out, start, params


def _reconstruction_error(images, params) -> float:
    return float(np.mean((_reconstruct(images, *params) - images) ** 2))


@points(2)
def test_contrastive_divergence_training_lowers_reconstruction_error(submission, rng):
    """Minibatch CD-1 on binarised digits lowers the reconstruction error of held-out digits."""
    images, _, _, held_out, start, params = _train_on_digits(submission, rng)
    before = _reconstruction_error(images[held_out], start)
    after = _reconstruction_error(images[held_out], params)
    report_metric(
        submission, "rbm_reconstruction_error_ratio", after / before,
        threshold=RECONSTRUCTION_RATIO, higher_is_better=False,
    )  # fmt: skip
    if not after <= RECONSTRUCTION_RATIO * before:
        fail(
            "Training an RBM with 24 hidden units by calling your contrastive_divergence on "
            "80 minibatches of 40 binarised digits (learning rate 1.0): the mean squared "
            f"reconstruction error of held-out digits went from {before:.3g} to {after:.3g}; "
            f"expected at most {RECONSTRUCTION_RATIO:g} times its start. Check the sign of the "
            "update (gradient ascent) and the statistics of each phase (see the other checks)."
        )


@points(1)
def test_contrastive_divergence_training_gives_features_that_classify_digits(submission, rng):
    """After CD-1 training on digits, hidden probabilities classify held-out digits well."""
    from sklearn.linear_model import LogisticRegression

    images, labels, train, held_out, _, (W, _, b_h) = _train_on_digits(submission, rng)
    # newton-cg: a few iterations here, where lbfgs can crawl under a multithreaded BLAS.
    classifier = LogisticRegression(solver="newton-cg", max_iter=1000)
    classifier.fit(_hidden_probabilities(images[train], W, b_h), labels[train])
    accuracy = float(
        classifier.score(_hidden_probabilities(images[held_out], W, b_h), labels[held_out])
    )
    report_metric(
        submission, "rbm_feature_accuracy", accuracy,
        threshold=FEATURE_ACCURACY, higher_is_better=True,
    )  # fmt: skip
    if not accuracy >= FEATURE_ACCURACY:
        fail(
            "After training an RBM with 24 hidden units by calling your contrastive_divergence "
            "on 80 minibatches of binarised digits, a logistic regression on the hidden "
            f"probabilities classifies held-out digits with accuracy {accuracy:.2f}; expected "
            f"at least {FEATURE_ACCURACY:g} (chance is 0.1). The hidden units did not learn "
            "features of the digits: check the sign and the statistics of the update."
        )


# ---------------------------------------------------------------------------
# reconstruct
# ---------------------------------------------------------------------------


@points(2)
def test_reconstruct_values(submission, rng):
    """reconstruct(v, ...) is visible_probabilities(hidden_probabilities(v, W, b_h), W, b_v)."""
    v, W, b_v, b_h = _problem(rng, scale=1.5)
    call = f"reconstruct(v, W, b_v, b_h) for {_shapes_note(v=v, W=W, b_v=b_v, b_h=b_h)}"
    hint = (
        "reconstruct is deterministic: the visible probabilities of the hidden probabilities, "
        "visible_probabilities(hidden_probabilities(v, W, b_h), W, b_v), with no sampling."
    )
    got = _call(submission, "reconstruct", call, v, W, b_v, b_h, hint=hint)
    got = expect_shape(call, got, v.shape, hint=hint)
    if np.all((got == 0.0) | (got == 1.0)):
        hint = "The result holds only 0s and 1s: return probabilities, not a sample. " + hint
    expect_array(call, got, _reconstruct(v, W, b_v, b_h), hint=hint)


# ---------------------------------------------------------------------------
# Inputs unchanged: one shared check per function (common.unchanged_check)
# ---------------------------------------------------------------------------


def _probabilities_inputs(first: str, bias: str):
    """``inputs(rng)`` for hidden_probabilities(v, W, b_h) or visible_probabilities(h, W, b_v)."""

    def inputs(rng: np.random.Generator) -> Inputs:
        v, W, b_v, b_h = _problem(rng)
        if first == "v":
            args, shape = {"v": v, "W": W, "b_h": b_h}, (len(v), W.shape[1])
        else:
            h = _binary(rng, (len(v), W.shape[1]))
            args, shape = {"h": h, "W": W, "b_v": b_v}, (len(v), W.shape[0])
        assert bias in args
        return Inputs(args, {}, lambda call, answer: expect_finite_array(call, answer, shape))

    return inputs


def _sample_bernoulli_inputs(rng: np.random.Generator) -> Inputs:
    p = rng.uniform(size=(int(rng.integers(3, 8)), int(rng.integers(4, 9))))
    return Inputs(
        {"p": p, "rng": Generator(int(rng.integers(2**31)))},
        {},
        lambda call, answer: expect_finite_array(call, answer, p.shape, hint=_SAMPLE_HINT),
    )


def _free_energy_inputs(rng: np.random.Generator) -> Inputs:
    v, W, b_v, b_h = _problem(rng)
    return Inputs(
        {"v": v, "W": W, "b_v": b_v, "b_h": b_h},
        {},
        lambda call, answer: expect_finite_array(call, answer, (len(v),)),
    )


def _contrastive_divergence_inputs(rng: np.random.Generator) -> Inputs:
    v0, W, b_v, b_h = _problem(rng)
    return Inputs(
        {"v0": v0, "W": W, "b_v": b_v, "b_h": b_h, "learning_rate": 0.1},
        {"k": 1, "rng": Generator(int(rng.integers(2**31)))},
        lambda call, answer: _expect_cd_result(call, answer, W, b_v, b_h),
        call="contrastive_divergence(v0, W, b_v, b_h, 0.1, k=1, rng=rng)",
    )


def _reconstruct_inputs(rng: np.random.Generator) -> Inputs:
    v, W, b_v, b_h = _problem(rng)
    return Inputs(
        {"v": v, "W": W, "b_v": b_v, "b_h": b_h},
        {},
        lambda call, answer: expect_finite_array(call, answer, v.shape),
    )


test_hidden_probabilities_does_not_modify_inputs = unchanged_check(
    "hidden_probabilities", _probabilities_inputs("v", "b_h")
)
test_visible_probabilities_does_not_modify_inputs = unchanged_check(
    "visible_probabilities", _probabilities_inputs("h", "b_v")
)
test_sample_bernoulli_does_not_modify_input = unchanged_check(
    "sample_bernoulli", _sample_bernoulli_inputs
)
test_free_energy_does_not_modify_inputs = unchanged_check("free_energy", _free_energy_inputs)
test_contrastive_divergence_does_not_modify_inputs = unchanged_check(
    "contrastive_divergence",
    _contrastive_divergence_inputs,
    doc="contrastive_divergence leaves v0, W, b_v and b_h unchanged and returns new arrays.",
)
test_reconstruct_does_not_modify_inputs = unchanged_check("reconstruct", _reconstruct_inputs)
