"""Hidden checks of the ``attention`` assignment: attention in numpy, a Transformer in Keras.

The student implements ``scaled_dot_product_attention``, ``causal_mask``,
``positional_encoding``, the Keras layer ``TransformerBlock`` and
``build_transformer_classifier`` (curriculum.md, section 7).

Attention. The reference computes ``softmax(q @ k^T / sqrt(d_k)) @ v`` with the
softmax over the last axis (the keys) and a boolean mask, True where a query may
attend to a key (the Keras convention). The checks draw ``T_q``, ``T_k``, ``d_k``
and ``d_v`` all different, with one or two leading batch axes, so a transposed
product or a softmax over the wrong axis cannot fit. Masked weights must be
exactly 0. A row of the mask with no True entry (a query that may attend to
nothing) has no defined answer in the contract, so the checks never send one.
To catch a mask written as a finite fill value such as -1e3, some query rows get
all their scores shifted down by 400 (one coordinate of every key is 1 and the
query's is -400 sqrt(d_k)): the softmax of a row does not change when a constant
is added to it, but a fill value of -1e3 then sits only 600 below the allowed
scores, and exp(-600) is not 0 in float64. A correct fill (-inf, -1e9, the
dtype's minimum) still gives exactly 0.

The Transformer. The student's layer class runs only in the student's process,
through the tasks of :mod:`autograder.tasks.attention` (built by name with the
grader's keyword arguments and seed). What it returns is checked against what the
grader computes itself: with weights the grader draws and sets, the block must give
the definition's output, computed here in numpy from those weights (a forged answer
would have to be that very computation). The classifier is exported as data and
judged in the judge sandbox (:mod:`autograder.judge`), which never ran the
submission's code: the child inlines the student's layer classes (the
TransformerBlock, a token-and-position embedding) into the Keras layers and ops
their ``call`` uses, so the judge trains the student's own block. The residual check zeroes every weight of the block except its
layer norms': attention and feed-forward sublayers then output 0, so a block with
both residual connections returns LayerNorm(LayerNorm(x)), each position's input
standardised, while a block without them returns the same constant for every
input. The learning check trains a fresh classifier on a synthetic task that the
grader draws per run: sequences of 8 tokens from a vocabulary of 8 in which
token 0 and token 1 each appear once; the label says whether 0 comes before 1.
Both classes hold the same tokens, so a model that ignores order (a bag of
tokens, or a Transformer without a position embedding) stays at chance.
The classifier is trained on one-hot targets with its own compiled loss.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from autograder.checks._keras import (
    BUILD_TIMEOUT,
    CATEGORICAL,
    TRAIN_TIMEOUT,
    accuracy,
    carried,
    expect_learned,
    expect_learning_credit,
    expect_loss,
    model_facts,
    predictions,
    trained_predictions,
    training_seed,
)
from autograder.checks._reference import sigmoid, softmax
from autograder.checks.common import (
    Inputs,
    describe,
    diagnose,
    expect_array,
    expect_finite,
    expect_finite_array,
    expect_probability_rows,
    expect_shape,
    fail,
    points,
    report_metric,
    trains,
    unchanged_check,
)
from autograder.submission import (
    StudentException,
    SubmissionError,
)

#: The student functions (and class) these checks grade (curriculum order).
FUNCTIONS = (
    "scaled_dot_product_attention",
    "causal_mask",
    "positional_encoding",
    "TransformerBlock",
    "build_transformer_classifier",
)

#: Keras computes in float32: the same layer called twice on the same input, or a
#: copy with the same weights, agrees to float32 rounding (about 1e-7), amplified by
#: the layer norms' division; 1e-5 leaves room for that and catches any real change.
RTOL_FLOAT32 = 1e-5
#: A float64 softmax row sums to 1 within about 1e-15 however it is written; 1e-9 leaves
#: room for any stable formula and still rejects every wrong normalisation.
SUM_TOLERANCE = 1e-9
#: How far below the other rows the shifted query rows' scores lie (see the module doc).
ROW_SHIFT = -400.0

# The learning check, measured with this module's data and budget on 2 CPU cores
# (about 4.5 s per training): the reference classifier reaches held-out accuracy 0.999
# to 1.0 over 16 seeds; the GlobalMaxPooling1D, Flatten and build()-built variants of
# the kit's tests 1.0 (6 seeds each). The same Transformer without a position embedding
# scores 0.492 to 0.500 and a mean-pooled embedding model without attention 0.469 to
# 0.524 (6 seeds each): both classes hold the same tokens, so order-blind models stay at
# chance. The threshold 0.80 sits 0.2 under the reference's worst run and 0.28 over the
# order-blind models' best (on 1000 test sequences, chance accuracy has a standard
# deviation of 0.016).
ORDER_SEQ_LEN = 8
ORDER_VOCAB = 8
ORDER_N_TRAIN = 2000
ORDER_N_TEST = 1000
ORDER_EPOCHS = 10
ORDER_BATCH_SIZE = 32
# Per backend, the order task's accuracy of the reference over the grading seeds 0-4
# (benchmarks/backend_metrics.py, 2 CPU cores): tensorflow 1.000±0.000 (min 1.000), jax
# 1.000±0.000 (min 1.000), torch 1.000±0.000 (min 1.000) over 5 seeds.
ORDER_ACCURACY = 0.80
#: Partial credit of the learning check, linear from ORDER_CHANCE (no points) to
#: ORDER_ACCURACY (full points): the labels are balanced, and nothing but the order tells
#: them apart, so guessing, one answer for all and any order-blind model (the token-count
#: baseline, ``_bag_of_tokens_accuracy``) all reach about a half.
ORDER_CHANCE = 0.5
#: Two orders of the same tokens must change the untrained classifier's probabilities
#: by more than this. Over 10 seeds the reference changes them by 0.04 to 0.11 (its
#: GlobalMaxPooling1D variant by 0.05 to 0.47); a model blind to order (no position
#: embedding, average pooling) by float32 rounding, 6e-8 to 2e-7.
ORDER_MIN_CHANGE = 1e-4
#: Layers a Transformer block is made of: the judge sees the student's block inlined.
BLOCK_LAYERS = ("MultiHeadAttention", "LayerNormalization")

# ---------------------------------------------------------------------------
# Reference implementation (stays in the grader).
# ---------------------------------------------------------------------------


def _attention(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    scale: float | None = None,
    axis: int = -1,
) -> tuple[np.ndarray, np.ndarray]:
    """Scaled dot-product attention; ``scale`` and ``axis`` describe wrong variants for hints."""
    divisor = np.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) / divisor  # (..., T_q, T_k)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = softmax(scores, axis=axis)
    return weights @ v, weights  # (..., T_q, d_v)


def _causal_mask(length: int) -> np.ndarray:
    return np.tril(np.ones((length, length), dtype=bool))


def _positional_encoding(
    length: int, depth: int, *, swap: bool = False, exponent: str = "2i"
) -> np.ndarray:
    """Sinusoidal encoding; ``swap`` and ``exponent`` describe wrong variants for hints."""
    positions = np.arange(length)[:, None]  # (length, 1)
    columns = np.arange(depth)[None, :]  # (1, depth)
    power = {"2i": 2 * (columns // 2), "i": columns // 2, "j": columns}[exponent] / depth
    angles = positions / 10000.0**power  # (length, depth)
    even, odd = (np.cos, np.sin) if swap else (np.sin, np.cos)
    return np.where(columns % 2 == 0, even(angles), odd(angles))


def _layer_norm(x: np.ndarray) -> np.ndarray:
    """Each position's vector standardised (what two default layer norms make of it)."""
    centred = x - x.mean(axis=-1, keepdims=True)
    return centred / centred.std(axis=-1, keepdims=True)


# ---------------------------------------------------------------------------
# Inputs and guards.
# ---------------------------------------------------------------------------


def _dims(rng: np.random.Generator, low: int = 2) -> tuple[int, int, int, int]:
    """``(T_q, T_k, d_k, d_v)``, all different and at least ``low``, so no transpose fits."""
    choices = np.arange(low, low + 8)
    t_q, t_k, d_k, d_v = (int(n) for n in rng.choice(choices, size=4, replace=False))
    return t_q, t_k, d_k, d_v


def _qkv(
    rng: np.random.Generator, lead: tuple, t_q: int, t_k: int, d_k: int, d_v: int, scale=1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    q = rng.normal(scale=scale, size=(*lead, t_q, d_k))
    k = rng.normal(scale=scale, size=(*lead, t_k, d_k))
    v = rng.normal(size=(*lead, t_k, d_v))
    return q, k, v


def _shift_some_rows(rng: np.random.Generator, q: np.ndarray, k: np.ndarray) -> None:
    """Shift the scores of about half the query rows by ``ROW_SHIFT`` (in place, grader's copies)."""
    d_k = q.shape[-1]
    k[..., 0] = 1.0
    shifted = rng.random(q.shape[:-1]) < 0.5
    q[..., 0] = np.where(shifted, ROW_SHIFT * np.sqrt(d_k), q[..., 0])


def _shape_text(*arrays: np.ndarray) -> str:
    return "q, k, v of shapes " + ", ".join(str(a.shape) for a in arrays)


def _at(call: str, index: str) -> str:
    """``call`` with an index after the call itself: ``f(x)[1] with ...``."""
    head, sep, tail = call.partition(" with ")
    return f"{head}{index}{sep}{tail}"


def _pair(call: str, result: Any) -> tuple[Any, Any]:
    """``result`` as ``(output, weights)``; fail unless it is a pair."""
    if not isinstance(result, tuple | list) or len(result) != 2:
        fail(
            f"`{call}` returned {describe(result)}; expected a tuple `(output, weights)`. "
            "Return both the attended values and the attention weights."
        )
    return result[0], result[1]


def _call_attention(submission, call: str, q, k, v, mask=None) -> tuple[Any, Any]:
    kwargs = {} if mask is None else {"mask": mask}
    try:
        result = submission.call("scaled_dot_product_attention", q, k, v, **kwargs)
    except StudentException as error:
        if q.ndim <= 2 or error.error_type != "ValueError":
            raise
        raise SubmissionError(
            f"{error} (for {_shape_text(q, k, v)}). Hint: with leading batch axes, transpose "
            "only the last two axes of k, np.swapaxes(k, -1, -2); k.T reverses all of them."
        ) from None
    return _pair(call, result)


#: The hint of a wrong shape of the unmasked weights.
WEIGHTS_SHAPE = "The weights have shape (..., T_q, T_k): one row per query, one column per key."
#: The hint when the weights are right but the output is not.
OUTPUT_HINT = "The weights are right; the output is weights @ v, shape (..., T_q, d_v)."


def _expect_attention_result(call: str, result: Any, q, k, v) -> tuple[np.ndarray, np.ndarray]:
    """Fail unless ``result`` is ``(output, weights)``, finite, of shapes (..., T_q, d_v), (..., T_q, T_k)."""
    output, weights = _pair(call, result)
    output = expect_finite_array(
        _at(call, "[0]"),
        output,
        q.shape[:-1] + v.shape[-1:],
        hint="The output is (..., T_q, d_v): one attended value vector per query.",
    )
    weights = expect_finite_array(
        _at(call, "[1]"), weights, q.shape[:-1] + k.shape[-2:-1], hint=WEIGHTS_SHAPE
    )
    return output, weights


def _expect_weights(call: str, weights: Any, q: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Fail unless the unmasked weights are softmax(q k^T / sqrt(d_k)), naming a known mistake."""
    expected = _attention(q, k, k)[1]
    w = expect_shape(_at(call, "[1]"), weights, expected.shape, hint=WEIGHTS_SHAPE)
    d_k = q.shape[-1]
    hint = diagnose(
        w,
        [
            (
                lambda: _attention(q, k, k, scale=1.0)[1],
                "Your weights are those of unscaled scores: divide q @ k^T by sqrt(d_k).",
            ),
            (
                lambda: _attention(q, k, k, scale=float(d_k))[1],
                "Your scores are divided by d_k; divide them by sqrt(d_k) (np.sqrt(q.shape[-1])).",
            ),
            (
                lambda: _attention(q, k, k, axis=-2)[1],
                "Your weights are normalised over the queries (axis -2): take the softmax over "
                "the last axis, the keys, so that each query's weights sum to 1.",
            ),
        ],
        "weights = softmax(q @ k^T / sqrt(d_k)) over the last axis (the keys); swap the last "
        "two axes of k (np.swapaxes(k, -1, -2)), not all of them, so leading batch axes stay.",
    )
    return expect_array(_at(call, "[1]"), w, expected, hint=hint)


def _expect_masked(
    call: str, output: Any, weights: Any, q, k, v, mask: np.ndarray, what: str
) -> None:
    """Judge attention under ``mask``: masked weights exactly 0, rows sum to 1, values right."""
    expected_out, expected_w = _attention(q, k, v, mask)
    allowed = np.broadcast_to(mask, expected_w.shape)
    w = expect_shape(
        _at(call, "[1]"),
        weights,
        expected_w.shape,
        hint="The weights have shape (..., T_q, T_k): the mask broadcasts against the scores.",
    )
    inverted = (
        "True means the query MAY attend to that key (the Keras convention); fill the scores "
        "where the mask is False."
    )
    bad_rows = ~np.all(np.isfinite(w), axis=-1)
    if np.any(bad_rows) and np.all(np.all(allowed, axis=-1)[bad_rows]):
        hint = (
            "The rows that are NaN are those of queries that may attend to EVERY key: the "
            f"mask is inverted. {inverted}"
        )
    else:
        hint = (
            "Every query here may attend to at least one key. Fill the masked scores before "
            "the softmax and subtract each row's maximum, or use a large negative fill like -1e9."
        )
    expect_finite(_at(call, "[1]"), w, hint=hint)
    leaked = np.abs(w[~allowed])
    if np.any(leaked != 0):
        rows_with_masked = np.any(~allowed, axis=-1)
        on_masked = np.where(~allowed, w, 0.0).sum(axis=-1)[rows_with_masked]
        if np.mean(on_masked) > 0.5:
            hint = (
                f"Most of each row's weight sits on masked keys: the mask is inverted. {inverted}"
            )
        elif leaked.max() < 1e-100:
            hint = (
                "The leaked weights are tiny but not 0: a finite fill such as -1e3 is not "
                "far enough below the allowed scores when a row's scores are all very negative. "
                "Use -np.inf (or -1e9) for the masked scores before the softmax."
            )
        else:
            hint = (
                "Set the masked scores to -np.inf (or -1e9) BEFORE the softmax, e.g. "
                "np.where(mask, scores, -np.inf), so that exp gives exactly 0 there."
            )
        fail(
            f"`{call}` ({what}) gave non-zero weights to {int(np.count_nonzero(leaked))} of "
            f"{leaked.size} masked (query, key) pairs, the largest {leaked.max():.3g}; expected "
            f"exactly 0 where the mask is False. {hint}"
        )
    sums = w.sum(axis=-1)
    if not np.all(np.abs(sums - 1.0) <= SUM_TOLERANCE):
        hint = diagnose(
            w,
            [
                (
                    lambda: np.where(allowed, _attention(q, k, k)[1], 0.0),
                    "Your weights are the unmasked softmax with the masked entries zeroed "
                    "afterwards: the rows no longer sum to 1. Apply the mask to the scores "
                    "before the softmax.",
                )
            ],
            "Mask the scores before the softmax, and normalise over the last axis.",
        )
        fail(
            f"`{call}` ({what}) returned weights whose rows sum to values between "
            f"{sums.min():.10g} and {sums.max():.10g}; expected each query's weights over the "
            f"allowed keys to sum to 1. {hint}"
        )
    hint = "weights = softmax(masked q @ k^T / sqrt(d_k)) over the keys; output = weights @ v."
    expect_array(_at(call, "[1]"), w, expected_w, hint=hint)
    expect_array(_at(call, "[0]"), output, expected_out, hint=OUTPUT_HINT)


# ---------------------------------------------------------------------------
# scaled_dot_product_attention
# ---------------------------------------------------------------------------


@points(2)
def test_scaled_dot_product_attention_matches_reference(submission, rng):
    """scaled_dot_product_attention returns softmax(q k^T / sqrt(d_k)) v and the weights, any batch axes."""
    t_q, t_k, d_k, d_v = _dims(rng)
    for lead in [(), (int(rng.integers(2, 4)),), (2, int(rng.integers(3, 5)))]:
        q, k, v = _qkv(rng, lead, t_q, t_k, d_k, d_v)
        call = f"scaled_dot_product_attention(q, k, v) with {_shape_text(q, k, v)}"
        output, weights = _call_attention(submission, call, q, k, v)
        _expect_weights(call, weights, q, k)
        expect_array(_at(call, "[0]"), output, _attention(q, k, v)[0], hint=OUTPUT_HINT)


@points(1)
def test_scaled_dot_product_attention_weights_sum_to_one(submission, rng):
    """The attention weights are non-negative and each query's weights sum to 1 over the keys."""
    t_q, t_k, d_k, d_v = _dims(rng)
    q, k, v = _qkv(rng, (int(rng.integers(2, 4)),), t_q, t_k, d_k, d_v, scale=1.5)
    call = f"scaled_dot_product_attention(q, k, v) with {_shape_text(q, k, v)}"
    _, weights = _call_attention(submission, call, q, k, v)
    w = expect_shape(_at(call, "[1]"), weights, (q.shape[0], t_q, t_k), hint=WEIGHTS_SHAPE)
    expect_finite(_at(call, "[1]"), w, hint="Subtract each row's maximum score before np.exp.")
    if np.any(w < 0):
        fail(
            f"`{_at(call, '[1]')}` has negative weights; expected a softmax, whose values are >= 0."
        )
    sums = w.sum(axis=-1)
    if not np.all(np.abs(sums - 1.0) <= SUM_TOLERANCE):
        if np.all(np.abs(w.sum(axis=-2) - 1.0) <= SUM_TOLERANCE):
            hint = (
                "Your weights sum to 1 down each column (over the queries, axis -2): take the "
                "softmax over the last axis (axis=-1), the keys."
            )
        else:
            hint = "Divide the exponentials by their sum over the last axis (keepdims=True)."
        fail(
            f"`{_at(call, '[1]')}` has rows summing to values between {sums.min():.10g} and "
            f"{sums.max():.10g}; expected each query's weights to sum to 1 over the keys. {hint}"
        )


@points(1)
def test_scaled_dot_product_attention_scales_scores_by_sqrt_dk(submission, rng):
    """The scores are divided by sqrt(d_k), not by d_k and not left unscaled."""
    d_k = int(rng.choice([9, 16, 25]))
    t_q, t_k, d_v = (int(n) for n in rng.choice(np.arange(3, 9), size=3, replace=False))
    q, k, v = _qkv(rng, (2,), t_q, t_k, d_k, d_v)
    call = f"scaled_dot_product_attention(q, k, v) with {_shape_text(q, k, v)}"
    _, weights = _call_attention(submission, call, q, k, v)
    _expect_weights(call, weights, q, k)


@points(2)
def test_scaled_dot_product_attention_causal_mask(submission, rng):
    """With a causal (T, T) mask broadcast over batch axes, masked weights are exactly 0."""
    length = int(rng.integers(4, 8))
    d_k, d_v = (int(n) for n in rng.choice(np.arange(2, 8), size=2, replace=False))
    q, k, v = _qkv(rng, (2, int(rng.integers(2, 4))), length, length, d_k, d_v)
    _shift_some_rows(rng, q, k)
    mask = _causal_mask(length)
    call = f"scaled_dot_product_attention(q, k, v, mask) with {_shape_text(q, k, v)}"
    output, weights = _call_attention(submission, call, q, k, v, mask=mask)
    _expect_masked(call, output, weights, q, k, v, mask, f"a causal mask of shape {mask.shape}")


@points(2)
def test_scaled_dot_product_attention_padding_masks(submission, rng):
    """Random boolean masks (key padding per sequence, or one (T_q, T_k) mask) zero exactly the masked weights."""
    t_q, t_k, d_k, d_v = _dims(rng, low=3)
    batch = int(rng.integers(2, 4))
    # Key padding: each sequence keeps its first n keys (at least one), as with padded batches.
    q, k, v = _qkv(rng, (batch, 2), t_q, t_k, d_k, d_v)
    _shift_some_rows(rng, q, k)
    lengths = rng.integers(1, t_k + 1, size=batch)
    lengths[0] = max(1, t_k - 2)  # at least one sequence with padding
    padding = (np.arange(t_k)[None, :] < lengths[:, None])[:, None, None, :]
    call = f"scaled_dot_product_attention(q, k, v, mask) with {_shape_text(q, k, v)}"
    output, weights = _call_attention(submission, call, q, k, v, mask=padding)
    _expect_masked(
        call, output, weights, q, k, v, padding, f"a key-padding mask of shape {padding.shape}"
    )
    # One random (T_q, T_k) mask broadcast over the batch; every query keeps a key.
    q, k, v = _qkv(rng, (batch,), t_q, t_k, d_k, d_v)
    _shift_some_rows(rng, q, k)
    mask = rng.random((t_q, t_k)) < 0.5
    mask[np.arange(t_q), rng.integers(0, t_k, size=t_q)] = True
    call = f"scaled_dot_product_attention(q, k, v, mask) with {_shape_text(q, k, v)}"
    output, weights = _call_attention(submission, call, q, k, v, mask=mask)
    _expect_masked(call, output, weights, q, k, v, mask, f"a random mask of shape {mask.shape}")


@points(1)
def test_scaled_dot_product_attention_is_permutation_equivariant(submission, rng):
    """Permuting the queries permutes the outputs; permuting keys and values together changes nothing."""
    t_q, t_k, d_k, d_v = _dims(rng, low=3)
    q, k, v = _qkv(rng, (2,), t_q, t_k, d_k, d_v)
    call = f"scaled_dot_product_attention(q, k, v) with {_shape_text(q, k, v)}"
    out, w = _expect_attention_result(call, _call_attention(submission, call, q, k, v), q, k, v)
    hint = (
        "Attention treats the queries independently and the (key, value) pairs as a set: "
        "compute every score from q and k alone, with no dependence on positions."
    )
    perm = np.roll(np.arange(t_q), 1)
    call_q = "scaled_dot_product_attention(q[:, perm], k, v)"
    output_q, _ = _expect_attention_result(
        call_q, _call_attention(submission, call_q, q[:, perm], k, v), q, k, v
    )
    expect_array(f"{call_q}[0], compared with your output for q, rows permuted", output_q,
                 out[:, perm], hint=hint)  # fmt: skip
    perm = rng.permutation(t_k)
    if np.array_equal(perm, np.arange(t_k)):
        perm = perm[::-1]
    call_kv = "scaled_dot_product_attention(q, k[:, perm], v[:, perm])"
    output_kv, weights_kv = _expect_attention_result(
        call_kv, _call_attention(submission, call_kv, q, k[:, perm], v[:, perm]), q, k, v
    )
    expect_array(f"{call_kv}[0], compared with your output for k and v", output_kv, out,
                 hint=hint)  # fmt: skip
    expect_array(f"{call_kv}[1], compared with your weights for k, columns permuted",
                 weights_kv, w[:, :, perm], hint=hint)  # fmt: skip


# ---------------------------------------------------------------------------
# causal_mask
# ---------------------------------------------------------------------------


@points(1)
def test_causal_mask_values(submission, rng):
    """causal_mask(length) is True on and below the diagonal, False above it."""
    for length in (1, 2, int(rng.integers(3, 8)), int(rng.integers(10, 20))):
        call = f"causal_mask({length})"
        got = expect_finite_array(  # NaN != 0 would count as True
            call,
            submission.call("causal_mask", length),
            (length, length),
            hint="One row per query position, one column per key position.",
        )
        expected = _causal_mask(length)
        if np.array_equal(got != 0, expected):
            continue
        hint = diagnose(
            got != 0,
            [
                (
                    expected.T,
                    "Your mask is the upper triangle: query i may only look at positions "
                    "j <= i, so keep the entries on and BELOW the diagonal (np.tril).",
                ),
                (
                    np.tril(expected, -1),
                    "Your mask misses the diagonal: a position may attend to itself (j <= i).",
                ),
                (~expected, "Your mask is inverted: True means may attend (j <= i)."),
            ],
            "Entry (i, j) is True exactly when j <= i.",
            rtol=0.0,
        )
        fail(f"`{call}` is not the causal mask. {hint}")


@points(1)
def test_causal_mask_is_boolean(submission, rng):
    """causal_mask returns a boolean array."""
    length = int(rng.integers(3, 9))
    got = submission.call("causal_mask", length)
    dtype = np.asarray(got).dtype if isinstance(got, np.ndarray | list | tuple) else None
    if dtype != np.bool_:
        fail(
            f"`causal_mask({length})` returned {describe(got)}; expected a boolean array "
            "(dtype bool), the type of mask np.where and Keras's attention_mask expect. "
            "Hint: np.tril(np.ones((length, length), dtype=bool))."
        )


# ---------------------------------------------------------------------------
# positional_encoding
# ---------------------------------------------------------------------------


_ENCODING_VARIANTS = [
    (
        {"swap": True},
        "Your sines and cosines are swapped: sin goes in the even columns 0, 2, 4, ... and "
        "cos in the odd columns.",
    ),
    (
        {"exponent": "i"},
        "Your exponent is i / depth: the pair of columns (2i, 2i + 1) uses 10000 ** (2i / depth).",
    ),
    (
        {"exponent": "j"},
        "Columns 2i and 2i + 1 share one angle, p / 10000 ** (2i / depth); yours puts the "
        "column index 2i + 1 in the exponent of the odd columns.",
    ),
]


@points(2)
def test_positional_encoding_values(submission, rng):
    """positional_encoding(length, depth) has sin(p / 10000 ** (2i / depth)) at 2i and cos at 2i + 1."""
    cases = [
        (1, 2),
        (int(rng.integers(5, 12)), 2 * int(rng.integers(2, 6))),
        (int(rng.integers(3, 9)), 2 * int(rng.integers(7, 16))),
        (int(rng.integers(30, 60)), 64),
    ]
    for length, depth in cases:
        call = f"positional_encoding({length}, {depth})"
        got = expect_shape(
            call,
            submission.call("positional_encoding", length, depth),
            (length, depth),
            hint="One row per position, one column per dimension.",
        )
        hint = diagnose(
            got,
            [(partial(_positional_encoding, length, depth, **kwargs), hint)
             for kwargs, hint in _ENCODING_VARIANTS],
            "PE[p, 2i] = sin(p / 10000 ** (2i / depth)) and PE[p, 2i + 1] = cos of the same angle.",
            rtol=1e-9,
        )  # fmt: skip
        expect_array(call, got, _positional_encoding(length, depth), hint=hint)


@points(1)
def test_positional_encoding_sine_on_even_cosine_on_odd_columns(submission, rng):
    """Column 0 of the encoding is sin(p) and column 1 is cos(p) (the angle with i = 0)."""
    length, depth = int(rng.integers(6, 15)), 2 * int(rng.integers(2, 6))
    call = f"positional_encoding({length}, {depth})"
    got = expect_shape(call, submission.call("positional_encoding", length, depth), (length, depth))
    p = np.arange(length)
    expect_array(
        f"{call}[:, 0]",
        got[:, 0],
        np.sin(p),
        hint="Column 0 (i = 0, angle p) holds sin(p): sin on the even columns.",
    )
    expect_array(
        f"{call}[:, 1]",
        got[:, 1],
        np.cos(p),
        hint="Column 1 (i = 0, angle p) holds cos(p): cos on the odd columns.",
    )


# ---------------------------------------------------------------------------
# TransformerBlock
# ---------------------------------------------------------------------------


def _block_kwargs(rng: np.random.Generator, dropout_rate: float | None = None) -> dict:
    embed_dim = int(rng.choice([8, 12, 16]))
    ff_dim = int(rng.choice([n for n in range(10, 30) if n != embed_dim]))
    rate = round(float(rng.uniform(0.05, 0.3)), 2) if dropout_rate is None else dropout_rate
    return {
        "embed_dim": embed_dim,
        "num_heads": int(rng.choice([2, 4])),
        "ff_dim": ff_dim,
        "dropout_rate": rate,
    }


def _block_text(kwargs: dict) -> str:
    return "TransformerBlock(" + ", ".join(f"{k}={v}" for k, v in kwargs.items()) + ")"


def _block_input(rng: np.random.Generator, embed_dim: int) -> np.ndarray:
    return rng.normal(size=(3, int(rng.integers(5, 9)), embed_dim)).astype(np.float32)


def _block_task(submission, rng, task: str, kwargs: dict, x, **options) -> Any:
    """What the task ``attention.<task>`` returns for a fresh ``TransformerBlock(**kwargs)``.

    The block is built in the student's process, with a seed drawn from ``rng``, and
    given ``x`` (an input batch, or a list of them).
    """
    return submission.task(
        f"attention.{task}", "TransformerBlock", kwargs, x, seed=training_seed(rng),
        timeout=BUILD_TIMEOUT, student="TransformerBlock", **options,
    )  # fmt: skip


def _block_outputs(
    submission, rng, kwargs: dict, inputs: list, *, call: str = "", **options
) -> list[np.ndarray]:
    """The student's block's outputs for ``inputs``, each checked to be finite, of the input's shape.

    ``options`` go to the task: ``zero_sublayers=True``, or ``weights`` to set.
    """
    result = _block_task(submission, rng, "block_outputs", kwargs, inputs, **options)
    call = call or f"{_block_text(kwargs)}(x, training=False)"
    if not isinstance(result, dict) or not isinstance(result.get("outputs"), list):
        fail(f"`{call}` could not be run by the grader; it returned {describe(result)}.")
    outputs = result["outputs"]
    if len(outputs) != len(inputs):
        fail(f"`{call}` did not return one output per input batch.")
    return [
        expect_finite(
            call,
            expect_shape(
                f"{call} for x of shape {x.shape}",
                out,
                x.shape,
                hint="A Transformer block keeps the shape (N, T, embed_dim): the attention's "
                "output and the second Dense layer of the feed-forward network have "
                "embed_dim units.",
            ),
        )
        for x, out in zip(inputs, outputs, strict=True)
    ]


@points(1)
def test_TransformerBlock_output_shape(submission, rng):
    """TransformerBlock(embed_dim, num_heads, ff_dim, dropout_rate) maps (N, T, embed_dim) to the same shape."""
    for _ in range(2):
        kwargs = _block_kwargs(rng)
        _block_outputs(submission, rng, kwargs, [_block_input(rng, kwargs["embed_dim"])])


@points(1)
def test_TransformerBlock_ends_with_layer_normalization(submission, rng):
    """At initialisation, each position's output vector has mean 0 and standard deviation 1 (a final LayerNormalization)."""
    kwargs = _block_kwargs(rng)
    x = _block_input(rng, kwargs["embed_dim"])
    (out,) = _block_outputs(submission, rng, kwargs, [x])
    means, stds = out.mean(axis=-1), out.std(axis=-1)
    # A fresh LayerNormalization (gamma 1, beta 0, epsilon 1e-3 to 1e-6) gives means at
    # float32 rounding and standard deviations of 0.999 to 1; 0.05 allows any epsilon.
    if not (np.max(np.abs(means)) <= 1e-3 and np.max(np.abs(stds - 1.0)) <= 0.05):
        fail(
            f"`{_block_text(kwargs)}(x, training=False)` gave position vectors with means "
            f"from {means.min():.3g} to {means.max():.3g} and standard deviations from "
            f"{stds.min():.3g} to {stds.max():.3g}; expected means 0 and standard deviations "
            "1 at initialisation. The block ends with a residual connection followed by "
            "LayerNormalization: return norm2(x1 + dropout(ffn(x1))), not the sum itself."
        )


@points(1)
def test_TransformerBlock_is_deterministic_at_inference(submission, rng):
    """With training=False, dropout is off: two calls on the same input agree."""
    kwargs = _block_kwargs(rng, dropout_rate=0.5)
    x = _block_input(rng, kwargs["embed_dim"])
    first, again = _block_outputs(submission, rng, kwargs, [x, x])
    expect_array(
        f"{_block_text(kwargs)}(x, training=False), called twice",
        again,
        first,
        rtol=RTOL_FLOAT32,
        hint="Dropout must only drop units during training: pass the call's `training` "
        "argument on to the Dropout layers (never training=True).",
    )


@points(1)
def test_TransformerBlock_mixes_positions(submission, rng):
    """Self-attention lets each position's output depend on the other positions' inputs."""
    kwargs = _block_kwargs(rng)
    x = _block_input(rng, kwargs["embed_dim"])
    changed = x.copy()
    changed[:, -1, :] = rng.normal(size=changed[:, -1, :].shape)
    out, out_changed = _block_outputs(submission, rng, kwargs, [x, changed])
    difference = np.abs(out_changed[:, :-1] - out[:, :-1]).max()
    if not difference > 1e-4:
        fail(
            f"`{_block_text(kwargs)}(x, training=False)`: changing the input at the last "
            "position left the outputs at all other positions unchanged (largest change "
            f"{difference:.2g}); expected self-attention to mix the positions. Call the "
            "MultiHeadAttention layer on the whole sequence, as query, value and key: "
            "self.attention(inputs, inputs)."
        )


@points(1)
def test_TransformerBlock_has_residual_connections(submission, rng):
    """With the attention and feed-forward weights zeroed, the output still follows the input (residuals)."""
    kwargs = _block_kwargs(rng)
    x = _block_input(rng, kwargs["embed_dim"])
    other = rng.normal(size=x.shape).astype(np.float32)
    out, out_other = _block_outputs(submission, rng, kwargs, [x, other], zero_sublayers=True)
    call = (
        f"{_block_text(kwargs)}(x, training=False) with every weight but the layer norms' set to 0"
    )
    hint = (
        "Each sublayer's output is added to its input before the layer norm: "
        "x1 = norm1(x + dropout(attention(x, x))), out = norm2(x1 + dropout(ffn(x1))). "
        "With the sublayers' weights at 0 they output 0, and only these residual "
        "connections carry x through."
    )
    if not np.abs(out - out_other).max() > 1e-4:
        fail(
            f"`{call}` returned the same output for two different inputs; expected it to "
            f"follow the input. {hint}"
        )
    # Both residuals: LayerNorm(LayerNorm(x)), each position standardised, correlation 1.
    # A pre-norm block (x + sublayers) also correlates 1; without a residual it is constant.
    standard = _layer_norm(x.astype(float))
    centred = out - out.mean(axis=-1, keepdims=True)
    norms = np.linalg.norm(centred, axis=-1) * np.linalg.norm(standard, axis=-1)
    correlation = np.sum(centred * standard, axis=-1) / np.maximum(norms, 1e-12)
    if not np.min(correlation) > 0.99:
        fail(
            f"`{call}` does not follow its input: at some positions the output's correlation "
            f"with the input is only {np.min(correlation):.3g}; expected 1 (the input, "
            f"standardised by the layer norms). {hint}"
        )


# The block as the curriculum defines it, computed here from the weights the grader
# draws: x1 = LayerNorm(x + MHA(x, x)), y = LayerNorm(x1 + Dense(Dense(x1))), dropout off.
#: Feed-forward activations the grader computes (Keras's names).
ACTIVATIONS = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": sigmoid,
    "gelu": lambda z: 0.5 * z * (1.0 + _erf(z / np.sqrt(2.0))),
    "silu": lambda z: z * sigmoid(z),
    "swish": lambda z: z * sigmoid(z),
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0.0))),
}
#: The block's outputs after two layer norms are of order 1, computed by Keras in float32
#: (about 1e-6 relative rounding, amplified a little by the norms' divisions) and here in
#: float64; a wrong wiring (a missing residual, the norms' order swapped, the softmax over
#: the wrong axis) moves them by 1e-1 or more. 1e-3 lies between.
BLOCK_ATOL = 1e-3


def _erf(z: np.ndarray) -> np.ndarray:
    import math

    return np.vectorize(math.erf)(z)


def _norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, epsilon: float) -> np.ndarray:
    centred = x - x.mean(axis=-1, keepdims=True)
    return centred / np.sqrt(np.mean(centred**2, axis=-1, keepdims=True) + epsilon) * gamma + beta


def _multi_head_attention(x: np.ndarray, w: dict) -> np.ndarray:
    """Keras's MultiHeadAttention(x, x) with kernels (E, H, K) and output kernel (H, K, E)."""
    q = np.einsum("nte,ehk->nthk", x, w["query/kernel"]) + w.get("query/bias", 0.0)
    k = np.einsum("nte,ehk->nthk", x, w["key/kernel"]) + w.get("key/bias", 0.0)
    v = np.einsum("nte,ehk->nthk", x, w["value/kernel"]) + w.get("value/bias", 0.0)
    scores = np.einsum("nqhk,nshk->nhqs", q, k) / np.sqrt(q.shape[-1])  # (N, H, T, T)
    attended = np.einsum("nhqs,nshk->nqhk", softmax(scores), v)  # (N, T, H, K)
    out = np.einsum("nthk,hke->nte", attended, w["attention_output/kernel"])  # (N, T, E)
    return out + w.get("attention_output/bias", 0.0)


def _defined_block(x: np.ndarray, parts: dict, weights: list, norms: tuple[int, int]) -> np.ndarray:
    """The curriculum's block on ``x`` with ``weights``, the layer norms in order ``norms``."""
    x = np.asarray(x, dtype=float)
    value = {role: np.asarray(weights[i], dtype=float) for role, i in parts["attention"].items()}
    norm = [parts["norms"][i] for i in norms]

    def apply_norm(z, which):
        gamma = np.asarray(weights[which["gamma"]], dtype=float) if "gamma" in which else 1.0
        beta = np.asarray(weights[which["beta"]], dtype=float) if "beta" in which else 0.0
        return _norm(z, gamma, beta, which["epsilon"])

    def dense(z, which):
        out = z @ np.asarray(weights[which["kernel"]], dtype=float)
        if "bias" in which:
            out = out + np.asarray(weights[which["bias"]], dtype=float)
        return ACTIVATIONS[which["activation"]](out)

    x1 = apply_norm(x + _multi_head_attention(x, value), norm[0])  # (N, T, E)
    hidden = dense(x1, parts["hidden"])  # (N, T, F)
    return apply_norm(x1 + dense(hidden, parts["project"]), norm[1])  # (N, T, E)


_BLOCK_MADE_OF = (
    "The grader computes what your block must give from its weights, so it must be made "
    "of Keras layers: one keras.layers.MultiHeadAttention, two keras.layers.Dense (ff_dim "
    "units, then embed_dim units), two keras.layers.LayerNormalization and Dropout layers "
    "(a keras.Sequential holding the two Dense layers is fine)."
)


def _block_parts(structure: Any, kwargs: dict) -> dict:
    """Which of the block's weights plays which part, from its sublayers; fails if unreadable."""
    call = _block_text(kwargs)
    if not isinstance(structure, dict) or not isinstance(structure.get("sublayers"), list):
        fail(f"The grader could not read what `{call}` is made of; got {describe(structure)}.")
    shapes = structure.get("shapes")
    if not isinstance(shapes, list):
        fail(f"The grader could not read the weights of `{call}`.")
    by_class: dict[str, list] = {}
    for layer in structure["sublayers"]:
        if isinstance(layer, dict):
            by_class.setdefault(str(layer.get("class")), []).append(layer)
    counts = {name: len(by_class.get(name, [])) for name in ("MultiHeadAttention", "Dense",
              "LayerNormalization")}  # fmt: skip
    others = sorted(set(by_class) - {"MultiHeadAttention", "Dense", "LayerNormalization",
                                      "Dropout"})  # fmt: skip
    if others or counts != {"MultiHeadAttention": 1, "Dense": 2, "LayerNormalization": 2}:
        found = ", ".join(f"{len(v)} {k}" for k, v in sorted(by_class.items())) or "no layers"
        fail(f"`{call}` is made of {found}. {_BLOCK_MADE_OF}")

    def roles(layer: dict) -> dict:
        names = layer.get("names") if isinstance(layer.get("names"), list) else []
        indices = layer.get("weights") if isinstance(layer.get("weights"), list) else []
        found = {}
        for name, index in zip(names, indices, strict=False):
            if isinstance(index, int) and 0 <= index < len(shapes) and isinstance(name, str):
                found[name if "/" in name and layer["class"] == "MultiHeadAttention"
                      else name.split("/")[-1]] = index  # fmt: skip
        return found

    settings = [layer.get("settings") if isinstance(layer.get("settings"), dict) else {}
                for layer in by_class["Dense"]]  # fmt: skip
    attention = roles(by_class["MultiHeadAttention"][0])
    dense = [roles(layer) for layer in by_class["Dense"]]
    embed, ff = kwargs["embed_dim"], kwargs["ff_dim"]
    hidden = [i for i, d in enumerate(dense) if shapes[d.get("kernel", -1)] == [embed, ff]]
    project = [i for i, d in enumerate(dense) if shapes[d.get("kernel", -1)] == [ff, embed]]
    needed = {"query/kernel", "key/kernel", "value/kernel", "attention_output/kernel"}
    if not (hidden and project) or not needed <= set(attention):
        fail(
            f"`{call}`: the grader expected Dense kernels of shapes ({embed}, {ff}) and "
            f"({ff}, {embed}) and an attention with query, key, value and output kernels; got "
            f"kernels of shapes {[shapes[d['kernel']] for d in dense if 'kernel' in d]}. "
            f"{_BLOCK_MADE_OF}"
        )
    parts = {"attention": attention, "norms": []}
    for name, i in (("hidden", hidden[0]), ("project", project[0])):
        activation = settings[i].get("activation") or "linear"
        if activation not in ACTIVATIONS:
            fail(f"`{call}`: the grader does not compute the activation {activation!r}; use one "
                 f"of {', '.join(sorted(ACTIVATIONS))}.")  # fmt: skip
        parts[name] = {**dense[i], "activation": activation}
    for layer in by_class["LayerNormalization"]:
        epsilon = (layer.get("settings") or {}).get("epsilon", 1e-3)
        parts["norms"].append({**roles(layer), "epsilon": float(epsilon)})
    return parts


def _draw_weights(rng: np.random.Generator, shapes: list) -> list[np.ndarray]:
    """Weights of the block's shapes: kernels scaled like Glorot, biases, gains and shifts."""
    weights = []
    for shape in shapes:
        shape = tuple(int(d) for d in shape)
        if len(shape) >= 2:
            fan_in = int(np.prod(shape[:-1])) if len(shape) == 2 else shape[0]
            weights.append(rng.normal(size=shape) / np.sqrt(fan_in))
        else:
            weights.append(0.3 * rng.normal(size=shape))
    return [w.astype(np.float32) for w in weights]


def _verified_block(submission, rng, kwargs: dict) -> None:
    """Fail unless the student's block, with weights the grader draws, computes the definition."""
    x = _block_input(rng, kwargs["embed_dim"])
    structure = _block_task(submission, rng, "block_structure", kwargs, x)
    parts = _block_parts(structure, kwargs)
    weights = _draw_weights(rng, structure["shapes"])
    for norm in parts["norms"]:  # gains near 1, so that no position is squashed
        if "gamma" in norm:
            weights[norm["gamma"]] = (1.0 + weights[norm["gamma"]]).astype(np.float32)
    inputs = [x, rng.normal(size=x.shape).astype(np.float32)]
    call = f"{_block_text(kwargs)}(x, training=False) with weights the grader drew"
    got = _block_outputs(submission, rng, kwargs, inputs, call=call, weights=weights)
    errors = {}
    for norms in ((0, 1), (1, 0)):
        expected = [_defined_block(xi, parts, weights, norms) for xi in inputs]
        errors[norms] = max(float(np.max(np.abs(g - e))) for g, e in zip(got, expected,
                            strict=True))  # fmt: skip
        if errors[norms] <= BLOCK_ATOL:
            return
    fail(
        f"`{call}` differs from the block of the definition by up to {min(errors.values()):.3g} "
        f"(expected within {BLOCK_ATOL:g}): x1 = LayerNorm(x + Dropout(MultiHeadAttention(x, "
        "x))), y = LayerNorm(x1 + Dropout(Dense(embed_dim)(Dense(ff_dim, relu)(x1)))). Check "
        "that each residual adds the sublayer's input, that each layer norm comes after its "
        "residual, and that the feed-forward network takes x1."
    )


@points(2)
def test_TransformerBlock_computes_the_definition(submission, rng):
    """With weights the grader draws, the block computes LayerNorm(x1 + FFN(x1)), x1 = LayerNorm(x + MultiHeadAttention(x, x))."""
    _verified_block(submission, rng, _block_kwargs(rng))


@points(1)
def test_TransformerBlock_get_config_round_trips(submission, rng):
    """get_config() holds the constructor arguments, and from_config(config) with the same weights gives the same output."""
    kwargs = _block_kwargs(rng)
    x = _block_input(rng, kwargs["embed_dim"])
    result = _block_task(submission, rng, "block_round_trip", kwargs, x)
    call = f"{_block_text(kwargs)}.get_config()"
    if not isinstance(result, dict) or not isinstance(result.get("values"), dict):
        fail(f"`{call}` could not be read by the grader; got {describe(result)}.")
    hint = (
        "get_config() should return super().get_config() updated with embed_dim, num_heads, "
        "ff_dim and dropout_rate, and __init__ should accept **kwargs and pass them to "
        "super().__init__(**kwargs)."
    )
    values = result["values"]
    missing = [key for key in kwargs if key not in values]
    if missing:
        fail(f"`{call}` has no key(s) {', '.join(missing)}; expected every constructor "
             f"argument. {hint}")  # fmt: skip
    for key, value in kwargs.items():
        got = values[key]
        if not isinstance(got, int | float) or not np.isclose(float(got), value):
            fail(f"`{call}['{key}']` is {got!r}; expected the constructor's {key}={value}. {hint}")
    error = str(result.get("error", ""))
    if error:
        fail(f"`TransformerBlock.from_config({call})` failed: {error}. {hint}")
    clone = "the output of TransformerBlock.from_config(config) given the original's weights"
    expect_array(
        f"{clone}, compared with the original's",
        expect_finite_array(clone, result.get("clone_output"), x.shape),
        expect_finite_array(f"{_block_text(kwargs)}(x)", result.get("output"), x.shape),
        rtol=RTOL_FLOAT32,
        hint="The rebuilt block should be the same layer: every setting that changes the "
        "computation must come from the config.",
    )


# ---------------------------------------------------------------------------
# build_transformer_classifier
# ---------------------------------------------------------------------------


def _classifier_args(rng: np.random.Generator) -> tuple[int, int, int]:
    return int(rng.integers(6, 12)), int(rng.integers(12, 30)), int(rng.integers(3, 6))


def _classifier_text(args) -> str:
    seq_len, vocab_size, n_classes = args
    return f"build_transformer_classifier({seq_len}, {vocab_size}, {n_classes})"


def _facts(submission, rng, args) -> dict:
    """What the judge reads off the untrained classifier of ``args``."""
    return model_facts(
        submission, "build_transformer_classifier", args, rng, call=_classifier_text(args),
        input_shapes=[[args[0]]],
    )  # fmt: skip


def _predict(submission, rng, args, x: np.ndarray) -> np.ndarray:
    """The untrained classifier's finite class probabilities for the token ids ``x``."""
    return predictions(
        submission, "build_transformer_classifier", args, x, rng,
        call=f"{_classifier_text(args)}.predict(tokens)", shape=(len(x), args[2]),
        hint="One row per sequence, one column per class.",
    )  # fmt: skip


@points(1)
def test_build_transformer_classifier_output_shape(submission, rng):
    """The classifier takes (None, seq_len) token ids and outputs (None, n_classes)."""
    args = _classifier_args(rng)
    info = _facts(submission, rng, args)
    call = _classifier_text(args)
    if info.get("input_shape") not in ([None, args[0]], [None, None]):
        fail(
            f"`{call}` has input shape {info.get('input_shape')}; expected [None, {args[0]}]: "
            "a batch of sequences of seq_len token ids, keras.Input(shape=(seq_len,))."
        )
    if info.get("output_shape") != [None, args[2]]:
        fail(
            f"`{call}` has output shape {info.get('output_shape')}; expected [None, {args[2]}]: "
            "pool over the positions, then Dense(n_classes, activation='softmax')."
        )


@points(1)
def test_build_transformer_classifier_outputs_probabilities(submission, rng):
    """The classifier's outputs are class probabilities: non-negative, summing to 1 (softmax)."""
    args = _classifier_args(rng)
    x = rng.integers(0, args[1], size=(12, args[0])).astype(float)
    probabilities = _predict(submission, rng, args, x)
    expect_probability_rows(
        f"{_classifier_text(args)}.predict(tokens)",
        probabilities,
        hint="Give the last Dense layer activation='softmax'.",
    )


@points(1)
def test_build_transformer_classifier_compiled_with_categorical_crossentropy(submission, rng):
    """The classifier is compiled with categorical cross-entropy (one-hot targets)."""
    args = _classifier_args(rng)
    expect_loss(
        _classifier_text(args),
        _facts(submission, rng, args),
        CATEGORICAL,
        compile_hint="Compile it: model.compile(optimizer='adam', "
        "loss='categorical_crossentropy', metrics=['accuracy']).",
        hints={
            "sparse": "The targets are one-hot vectors (keras.utils.to_categorical), as in this "
            "course's other classifiers: sparse_categorical_crossentropy expects integer labels."
        },
        default_hint="Use loss='categorical_crossentropy' on one-hot targets.",
        what="categorical cross-entropy",
    )


@points(1)
def test_build_transformer_classifier_uses_transformer_block(submission, rng):
    """The classifier contains a Transformer block: multi-head attention and layer norms."""
    args = _classifier_args(rng)
    info = _facts(submission, rng, args)
    layers = info.get("all_layers")
    missing = [name for name in BLOCK_LAYERS if name not in (layers or [])]
    if not isinstance(layers, list) or missing:
        fail(
            f"`{_classifier_text(args)}` has no Transformer block: the grader found no "
            f"{' and no '.join(missing)} among its layers ({', '.join(map(str, layers or []))}). "
            "Pass the embeddings through your TransformerBlock before the pooling."
        )


@points(1)
def test_build_transformer_classifier_is_order_sensitive(submission, rng):
    """Reversing a sequence changes the classifier's output: the model sees positions."""
    args = _classifier_args(rng)
    x = rng.integers(0, args[1], size=(16, args[0]))
    x = x[np.any(x != x[:, ::-1], axis=1)]  # no palindromes
    probabilities = _predict(submission, rng, args, np.concatenate([x, x[:, ::-1]]).astype(float))
    change = np.abs(probabilities[: len(x)] - probabilities[len(x) :]).max()
    if not change > ORDER_MIN_CHANGE:
        fail(
            f"`{_classifier_text(args)}` (untrained) gives the same probabilities for a "
            f"sequence and its reverse (largest difference {change:.2g}); expected the order "
            "of the tokens to matter. Self-attention and average pooling ignore order: add "
            "a position embedding, keras.layers.Embedding(seq_len, embed_dim) of the "
            "positions 0..seq_len-1, to the token embedding."
        )


def _order_task(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic sequences with tokens 0 and 1 once each; label 1 when 0 comes before 1."""
    x = rng.integers(2, ORDER_VOCAB, size=(n, ORDER_SEQ_LEN))
    labels = rng.permutation(np.arange(n) % 2)  # balanced classes
    first = rng.integers(0, ORDER_SEQ_LEN - 1, size=n)
    second = first + 1 + (rng.random(n) * (ORDER_SEQ_LEN - 1 - first)).astype(int)
    rows = np.arange(n)
    x[rows, np.where(labels == 1, first, second)] = 0
    x[rows, np.where(labels == 1, second, first)] = 1
    return x, labels


def _bag_of_tokens_accuracy(x_train, y_train, x_test, y_test) -> float:
    """Held-out accuracy of a least-squares classifier on token counts (order-blind)."""

    def counts(x):
        return np.column_stack([np.ones(len(x))] + [(x == t).sum(1) for t in range(ORDER_VOCAB)])

    coef, *_ = np.linalg.lstsq(counts(x_train), 2.0 * y_train - 1.0, rcond=None)
    return float(np.mean((counts(x_test) @ coef > 0) == (y_test == 1)))


@points(5)
@trains
def test_build_transformer_classifier_learns_token_order(submission, rng):
    """Trained on a synthetic order task ("does token 0 come before token 1?"), the classifier beats chance on held-out data (partial credit from 50%)."""
    x_train, y_train = _order_task(rng, ORDER_N_TRAIN)
    x_test, y_test = _order_task(rng, ORDER_N_TEST)
    one_hot = np.eye(2)[y_train]
    args = [ORDER_SEQ_LEN, ORDER_VOCAB, 2]
    call = f"{_classifier_text(args)} trained on the order task"
    before, after = trained_predictions(
        submission, "build_transformer_classifier", x_train=x_train.astype(float),
        y_train=one_hot, x_test=x_test.astype(float), epochs=ORDER_EPOCHS,
        batch_size=ORDER_BATCH_SIZE, args=args, seed=training_seed(rng),
        timeout=TRAIN_TIMEOUT, student="build_transformer_classifier", doing=f"trained {call}",
    )  # fmt: skip
    after = expect_finite(
        call, expect_shape(call, after, (ORDER_N_TEST, 2), hint="(n_sequences, 2)")
    )
    score = accuracy(after, y_test)
    report_metric(
        submission, "attention_order_task_accuracy", score,
        threshold=ORDER_ACCURACY, higher_is_better=True,
    )  # fmt: skip
    expect_learned(
        call, before, after,
        met_before=carried(accuracy(before, y_test), score, ORDER_ACCURACY, higher_is_better=True),
    )  # fmt: skip
    if not score >= ORDER_ACCURACY:
        baseline = _bag_of_tokens_accuracy(x_train, y_train, x_test, y_test)
        expect_learning_credit(
            f"`{_classifier_text(args)}`, trained for {ORDER_EPOCHS} epochs on "
            f"{ORDER_N_TRAIN} synthetic sequences of {ORDER_SEQ_LEN} tokens (label: does "
            "token 0 come before token 1?) with one-hot targets, classified "
            f"{score:.1%} of {ORDER_N_TEST} held-out sequences correctly",
            score, floor=ORDER_CHANCE, threshold=ORDER_ACCURACY, higher_is_better=True,
            untrained=accuracy(before, y_test),
            fmt=".0%", floor_reason="chance: the two labels are equally common",
            hint=f"A model that only counts tokens gets {baseline:.0%} here. Make sure the "
            "model sees positions (a position embedding added to the token embedding) and "
            "that the TransformerBlock's attention, residuals and layer norms work (see its "
            "checks).",
        )  # fmt: skip


# ---------------------------------------------------------------------------
# Inputs unchanged: one shared check per function (common.unchanged_check)
# ---------------------------------------------------------------------------


#: Graded functions without an inputs-unchanged check, and why (the Keras layer and the
#: builder are judged as models and take sizes only).
UNCHANGED_EXEMPT = {
    "causal_mask": "takes only a length, no array",
    "positional_encoding": "takes only a length and a depth, no array",
}


def _attention_inputs(rng: np.random.Generator) -> Inputs:
    t_q, t_k, d_k, d_v = _dims(rng)
    q, k, v = _qkv(rng, (2,), t_q, t_k, d_k, d_v)
    mask = rng.random((t_q, t_k)) < 0.6
    mask[:, 0] = True
    return Inputs(
        {"q": q, "k": k, "v": v},
        {"mask": mask},
        lambda call, answer: _expect_attention_result(call, answer, q, k, v),
        call=f"scaled_dot_product_attention(q, k, v, mask) with {_shape_text(q, k, v)}",
    )


test_scaled_dot_product_attention_does_not_modify_inputs = unchanged_check(
    "scaled_dot_product_attention",
    _attention_inputs,
    doc="scaled_dot_product_attention leaves q, k, v and mask unchanged.",
)
