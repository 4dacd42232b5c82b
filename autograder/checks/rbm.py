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
one accepted variant, every entry lies within ``Z_MAX`` standard errors (plus a
slack of ``EVENT_SLACK`` rare events) of that variant's exact expectation. The
standard errors come from the spread of the student's own updates, never taken
below the reference's exact spread: a unit that is almost always off may not turn
on once in all the calls, and a spread of 0 would make any difference fatal. The tiny
RBM is the one of 16 random candidates whose chain is still moving after one Gibbs
step, so that the statistics of the chain's end, and ``k``, make a clear difference.

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
    describe,
    diagnose,
    expect_array,
    expect_finite,
    expect_shape,
    fail,
    points,
    report_metric,
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
#: The installed data sets the checks read (their held-out rows: autograder.heldout).
DATASETS = ("digits",)

#: Calls (one seed each) over which a CD update is averaged in the statistical checks.
N_CALLS = 200
#: Largest accepted distance, in standard errors, between a mean of random results and
#: its exact expectation. A correct submission exceeds it on one of 19 entries with
#: probability below 1e-7 (normal tails, t with 199 degrees of freedom). Over 200 runs,
#: the mistakes the checks look for sat further away: CD-1 in place of CD-3 at 11
#: standard errors or more, the generating hidden sample at 30 or more, the others at
#: 60 or more.
Z_MAX = 6.0
#: Smallest standard error used: only a deterministic (and wrong) entry gets near it.
SE_FLOOR = 1e-12
#: Slack, in single-row events, added to the ``Z_MAX`` standard errors. A visible unit
#: that is almost always off turns on a handful of times in all the calls, a count
#: whose Poisson tails are heavier than the normal's; one such event moves the mean
#: update by about ``learning_rate / (N_CALLS * N)``. Four of them are a tenth of a
#: standard error of a typical entry, so the slack costs the checks nothing.
EVENT_SLACK = 4
#: Relative error allowed between two updates that differ only in the learning rate:
#: ``new - old`` loses the digits of ``old`` (around 1e-16 / 1e-3 relative), nothing more.
RTOL_UPDATE = 1e-6

CD_VARIANTS = ("sampled", "mean_field", "mixed")

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
    """Each entry of sample_bernoulli(p, rng) is 1 with probability p, independently."""
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
    if not worst <= 5.0:
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
    W, b_v, b_h = _rbm(rng, n_visible, n_hidden, scale=0.3)  # no unit is almost sure
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


def _tiny_cd_problem(rng: np.random.Generator):
    """A 4-visible, 3-hidden RBM and a batch of 24 to 32 binary rows.

    Of 16 random candidates it keeps the one whose Gibbs chain is still moving after
    one step, measured by how far the expected CD-1 and CD-3 updates are apart (in
    standard errors of a mean over ``N_CALLS`` calls): on such an RBM the statistics
    of the chain's end matter, so a wrong one shows.
    """
    best, best_score = None, -1.0
    for _ in range(16):
        n = int(rng.integers(24, 33))
        W, b_v, b_h = _rbm(rng, 4, 3, scale=2.0)
        v0 = _binary(rng, (n, 4))
        spread = np.maximum(_cd_spread(v0, W, b_v, b_h, 3), SE_FLOOR)
        one = [_cd_expectation(v0, W, b_v, b_h, 1, variant) for variant in CD_VARIANTS]
        three = [_cd_expectation(v0, W, b_v, b_h, 3, variant) for variant in CD_VARIANTS]
        score = min(float(np.max(np.abs(a - b) / spread)) for a in one for b in three)
        if score > best_score:
            best, best_score = (v0, W, b_v, b_h), score
    return best


def _mean_and_error(updates: np.ndarray, least_spread: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the per-call updates and its standard error (spread at least ``least_spread``)."""
    spread = np.maximum(updates.std(axis=0, ddof=1), least_spread)
    return updates.mean(axis=0), np.maximum(spread / np.sqrt(len(updates)), SE_FLOOR)


def _distance(mean, standard_error, expected, slack: float) -> float:
    """Largest |mean - expected| over the entries, less ``slack``, in standard errors."""
    return float(np.max((np.abs(mean - expected) - slack) / standard_error))


def _worst_parameter(mean, standard_error, expected, n_visible, n_hidden) -> str:
    index = int(np.argmax(np.abs(mean - expected) / standard_error))
    if index < n_visible * n_hidden:
        return "W"
    return "b_v" if index < n_visible * n_hidden + n_visible else "b_h"


def _check_expected_update(submission, rng, k: int) -> None:
    v0, W, b_v, b_h = _tiny_cd_problem(rng)
    n, (n_visible, n_hidden) = v0.shape[0], W.shape
    rate = float(rng.uniform(0.05, 0.5))
    base = int(rng.integers(2**31 - N_CALLS))
    call = (
        f"contrastive_divergence(v0, W, b_v, b_h, {rate:.3g}, k={k}, "
        "rng=np.random.default_rng(seed))"
    )
    what = f"{call} for {_shapes_note(v0=v0, W=W)}"
    updates = np.array(
        [
            _update(
                _call_cd(submission, what, v0, W, b_v, b_h, rate, k=k, rng=Generator(base + i)),
                (W, b_v, b_h),
            )
            for i in range(N_CALLS)
        ]
    )
    # The spread of the student's updates, but never below the exact spread of the
    # reference's: a visible unit that is almost always off may never turn on in all the
    # calls, and the sample spread of that entry is then 0.
    least_spread = rate * _cd_spread(v0, W, b_v, b_h, k)
    slack = EVENT_SLACK * rate / (N_CALLS * n)

    def distance(expected: np.ndarray, scale: float = 1.0) -> float:
        """Distance of the mean of ``updates / scale`` from ``expected``, in standard errors."""
        mean, standard_error = _mean_and_error(updates / scale, least_spread)
        return _distance(mean, standard_error, expected, slack)

    accepted = {
        variant: rate * _cd_expectation(v0, W, b_v, b_h, k, variant) for variant in CD_VARIANTS
    }
    distances = {variant: distance(e) for variant, e in accepted.items()}
    closest = min(distances, key=distances.get)
    if distances[closest] <= Z_MAX:
        return
    mistakes = [
        (
            [-e for e in accepted.values()],
            1.0,
            "The update has the opposite sign: CD is gradient ascent on the log-likelihood, "
            "W + learning_rate * (v0.T @ ph0 - vk.T @ phk) / N (positive minus negative "
            "statistics), and the same for the biases.",
        ),
        (
            list(accepted.values()),
            float(n),  # a sum over the rows is N times the mean
            f"The update is N = {n} times too large: average the statistics over the batch "
            "(divide by N, or use a mean over the rows), do not sum them.",
        ),
        (
            [rate * _cd_expectation(v0, W, b_v, b_h, k, "data_hidden")],
            1.0,
            "The negative statistics use the hidden probabilities of the data, p(h | v0); "
            "they use those of the chain's end: phk = hidden_probabilities(vk, W, b_h).",
        ),
        (
            [rate * _cd_expectation(v0, W, b_v, b_h, k, "generating_hidden")],
            1.0,
            "The negative statistics pair vk with the hidden sample that generated it; "
            "compute the hidden probabilities of vk itself, "
            "phk = hidden_probabilities(vk, W, b_h).",
        ),
    ]
    if k > 1:
        mistakes.append(
            (
                [rate * _cd_expectation(v0, W, b_v, b_h, 1, variant) for variant in CD_VARIANTS],
                1.0,
                f"The update is that of CD-1 although k = {k}: run k Gibbs steps "
                "(h -> v -> h, k times) before taking the negative statistics.",
            )
        )
    hint = (
        "Follow the notebook's recipe: ph0 = p(h | v0); sample h0; then k times: vk from "
        "p(v | h) (a sample, or the probabilities), phk = p(h | vk), sample the next h; "
        "dW = (v0.T @ ph0 - vk.T @ phk) / N, db_v = mean(v0 - vk), db_h = mean(ph0 - phk)."
    )
    for candidates, scale, mistake_hint in mistakes:
        if min(distance(e, scale) for e in candidates) <= Z_MAX:
            hint = mistake_hint
            break
    mean, standard_error = _mean_and_error(updates, least_spread)
    parameter = _worst_parameter(mean, standard_error, accepted[closest], n_visible, n_hidden)
    fail(
        f"`{what}`, called with {N_CALLS} seeds: the average change of {parameter} is "
        f"{distances[closest]:.1f} standard errors away from the expected CD-{k} update "
        f"(allowed {Z_MAX:g}). {hint}"
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
#: test_contrastive_divergence_raises_log_likelihood: correct CD gains 0.4 to 1.4 there,
#: a flipped sign loses 9 or more.
LOG_LIKELIHOOD_GAIN = 0.2


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
            f"{direction} by {abs(gain):.3g} nats; expected a rise of at least "
            f"{LOG_LIKELIHOOD_GAIN}. CD is gradient ascent: add learning_rate times "
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

from autograder.checks.common import Inputs, expect_finite_array, unchanged_check  # noqa: E402


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
