"""What every check of a Keras model does: describe it, judge its loss, train it.

The child only builds and exports the student's model; the judge rebuilds it
where no student code runs (:meth:`autograder.submission.Submission.judge`).
These helpers are the checks' one way to ask the judge, so a check module says
what it checks (a shape, a loss, a parameter budget, that training helps) and
keeps only its properties, thresholds and hint texts.

A learning check weighs at least as much as its builder's other checks together (a model
that cannot learn passes those) and gives partial credit (:func:`expect_learning_credit`):
linear from a floor that a model reaches without learning (chance, the majority class,
predicting the mean, the naive forecast, the mean digit) to its threshold, computed in the
grader from the predictions alone; a model that earned points before training and that
training did not improve gets none.

Example:
    >>> call = "build_cnn((28, 28, 1), 5)"
    >>> expect_loss(call, {"compiled": True, "loss": "categorical_crossentropy"},
    ...             CATEGORICAL, compile_hint="Compile it.")
    'categorical_crossentropy'
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

import numpy as np

from autograder.checks.common import describe, expect_finite, expect_shape, fail, partial

#: Seconds a judge request that builds (and calls) a model may take, Keras's import
#: and the export in the child included.
BUILD_TIMEOUT = 60.0
#: Seconds a judge request that trains a model may take (the checks' trainings take
#: 5 to 30 s on 2 cores; the rest is room for a slow machine).
TRAIN_TIMEOUT = 180.0

#: Loss names (lower case, as the judge reports them) of categorical cross-entropy,
#: of binary cross-entropy and of the mean squared error.
CATEGORICAL = frozenset({"categorical_crossentropy", "categoricalcrossentropy"})
BINARY = frozenset({"binary_crossentropy", "binarycrossentropy"})
MSE = frozenset({"mse", "mean_squared_error", "meansquarederror"})


def training_seed(rng: np.random.Generator) -> int:
    """A seed for one model's initialisation and training, drawn from the check's ``rng``."""
    return int(rng.integers(0, 2**31 - 1))


def model_facts(
    submission,
    builder: str,
    args: list | tuple,
    rng: np.random.Generator,
    *,
    call: str,
    timeout: float = BUILD_TIMEOUT,
    **judge: Any,
) -> dict:
    """What the judge reads off the model ``builder(*args)`` builds (see ``judge.describe``).

    Args:
        builder: the student's builder function.
        args: its arguments.
        rng: the check's generator; it draws the model's seed.
        call: the call as the student would write it, for the messages.
        judge: more keywords for :meth:`~autograder.submission.Submission.judge`
            (``input_shapes``, ``student``, ``kwargs``).

    Returns:
        The facts: ``input_shape``, ``output_shape``, ``n_params``, ``compiled``,
        ``loss``, ``from_logits``, ``layers``, ``all_layers``, ``lineages``, ...
    """
    judge.setdefault("student", builder)
    judge.setdefault("doing", f"built the model of `{call}`")
    info = submission.judge(
        "describe", builder, args=list(args), seed=training_seed(rng), timeout=timeout, **judge
    )
    if not isinstance(info, dict) or not isinstance(info.get("all_layers"), list):
        fail(f"The grader could not inspect the model of `{call}`; it got {describe(info)}.")
    return info


def predictions(
    submission,
    builder: str,
    args: list | tuple,
    x: np.ndarray,
    rng: np.random.Generator,
    *,
    call: str,
    shape: tuple,
    hint: str = "",
    timeout: float = BUILD_TIMEOUT,
    **judge: Any,
) -> np.ndarray:
    """The untrained model's finite predictions for ``x``, of exactly ``shape``.

    The model is built with a seed drawn from ``rng`` and called in the judge.
    """
    judge.setdefault("student", builder)
    got = submission.judge(
        "predict", builder, x=x, args=list(args), seed=training_seed(rng), timeout=timeout,
        **judge,
    )  # fmt: skip
    return expect_finite(call, expect_shape(call, got, shape, hint=hint), hint=hint)


def expect_compiled(call: str, info: Mapping[str, Any], *, compile_hint: str) -> str:
    """Fail unless the described model is compiled with a loss; return its name, lower case.

    Args:
        call: the build call, for the message.
        info: :func:`model_facts` of the model.
        compile_hint: the ``compile`` call to suggest.
    """
    loss = str(info.get("loss") or "").lower()
    if not info.get("compiled") or not loss:
        fail(f"`{call}` returned a model that is not compiled. {compile_hint}".strip())
    return loss


def expect_loss(
    call: str,
    info: Mapping[str, Any],
    accepted: Collection[str],
    *,
    compile_hint: str,
    hints: Mapping[str, str] | None = None,
    default_hint: str = "",
    what: str = "the loss",
) -> str:
    """Fail unless the described model is compiled with a loss named in ``accepted``.

    Args:
        call: the build call, for the messages.
        info: :func:`model_facts` of the model.
        accepted: the lower-case loss names that pass (e.g. :data:`CATEGORICAL`).
        compile_hint: the ``compile`` call to suggest when the model is not compiled.
        hints: for a wrong loss, hint texts by a word its name contains (``"sparse"``),
            tried in order.
        default_hint: the hint for any other wrong loss.
        what: what the loss should be, as the message says it.

    Returns:
        The accepted loss name, lower case.
    """
    loss = expect_compiled(call, info, compile_hint=compile_hint)
    if loss not in accepted:
        hint = next((text for word, text in (hints or {}).items() if word in loss), default_hint)
        fail(
            f"`{call}` is compiled with the loss {str(info.get('loss'))[:60]!r}; expected "
            f"{what}. {hint}".strip()
        )
    return loss


def expect_param_budget(call: str, info: Mapping[str, Any], max_params: int, *, hint: str) -> int:
    """Fail unless the described model has a known number of parameters, at most ``max_params``."""
    n_params = info.get("n_params")
    if not isinstance(n_params, int) or isinstance(n_params, bool):
        fail(f"The grader could not count the parameters of the model of `{call}`.")
    if n_params > max_params:
        fail(f"`{call}` has {n_params:,} parameters; expected at most {max_params:,}. {hint}")
    return n_params


def trained_predictions(
    submission,
    builder: str,
    *,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    epochs: int,
    batch_size: int,
    **judge: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """The model of ``builder``'s predictions for ``x_test``, before and after the grader trains it.

    The model is rebuilt, initialised and trained in the judge (see
    :meth:`autograder.submission.Submission.judge`), never in the submission's
    process; pass the result to :func:`expect_learned`.

    Args:
        builder: the student's builder; ``judge`` holds ``args``, ``seed``, ``timeout``,
            ``student``, ``doing`` and the like for :meth:`~autograder.submission.Submission.judge`.

    Returns:
        ``(before, after)``: float arrays, one row per test input.
    """
    result = submission.judge(
        "fit_predict", builder, x_train=x_train, y_train=y_train, x_test=x_test,
        epochs=int(epochs), batch_size=int(batch_size), **judge,
    )  # fmt: skip
    if not isinstance(result, dict):
        fail(f"The grader could not train the model of `{builder}`; it got {describe(result)}.")
    return result.get("before"), result.get("after")


# Backends. These checks grade on TensorFlow, JAX and PyTorch, which compute the same
# float32 model differently (summation order, matmul and convolution kernels). Measured on
# CPU (Keras 3.15 with TensorFlow 2.21, JAX 0.10.2, PyTorch 2.13), one model with the same
# weights on the same inputs agrees between two backends to a relative difference (norm
# of the difference over the norm) of 1.2e-7 for attention with a layer norm, 4e-7 to
# 5e-7 for dense layers (3e-6 on the worst single output), 5e-7 to 7e-7 for an LSTM and
# 6e-7 to 9e-7 for convolutions (1.5e-6 on the worst output): more than the float32
# rounding of about 1e-7 that one backend shows when it computes a model twice. No check
# compares two backends' numbers. Each float32 tolerance compares two results of the
# backend that grades (a layer called twice, a model and its parts: 1e-5) or a Keras
# result with the grader's float64 computation (a Transformer block 1e-3, softmax sums
# 1e-4), all far above 1.5e-6; the two tests that predictions changed (with training,
# with the capstone's base: atol 1e-7) compare computations that repeat bit for bit on
# each backend when nothing changed (the tables' models with a learning rate of 0 are
# caught so on JAX as on TensorFlow, the head on an inner layer on all three). So each
# holds on every backend as it is. The learning checks' thresholds carry each backend's
# measured spread beside them (benchmarks/backend_metrics.py).

#: How much training must cut a model's error (relative) for an untrained model that
#: already meets a learning check's bar still to count as learning. A random
#: initialisation can meet a loose bar by chance (a regression's 0.8 of the mean's
#: error, seen once in the kit's tests), and training then cuts its error by far more
#: than 5%; a model that carries its answers gains nothing from training.
LEARNED_MARGIN = 0.05


def accuracy(predictions: Any, labels: np.ndarray) -> float:
    """The fraction of rows of ``predictions`` whose largest entry is at the row's label."""
    rows = np.asarray(predictions, dtype=float).reshape(len(labels), -1)
    return float(np.mean(rows.argmax(axis=1) == labels))


def carried(
    before: float,
    after: float,
    threshold: float,
    *,
    higher_is_better: bool,
    floor: float | None = None,
) -> bool:
    """Whether a model carried its answers: it earned points untrained, and training did not help.

    ``before`` and ``after`` are the check's measure (an accuracy, an error ratio) of
    the untrained and the trained model. Untrained, it earned points when it met
    ``threshold`` or, for a check with partial credit (:func:`learning_credit`), when
    it was better than that check's ``floor``. An error is the ratio itself, or 1 minus
    the accuracy; training helps when it cuts that error by :data:`LEARNED_MARGIN`.

    Example:
        >>> carried(0.97, 0.97, 0.9, higher_is_better=True)
        True
        >>> carried(0.78, 0.45, 0.8, higher_is_better=False)
        False
        >>> carried(0.6, 0.6, 0.9, higher_is_better=True, floor=0.1)  # a lookup at 60%
        True
    """
    if floor is None:
        met = before >= threshold if higher_is_better else before <= threshold
    else:
        met = learning_credit(before, floor=floor, threshold=threshold,
                              higher_is_better=higher_is_better) > 0  # fmt: skip
    error_before = 1.0 - before if higher_is_better else before
    error_after = 1.0 - after if higher_is_better else after
    return bool(met and not error_after <= (1.0 - LEARNED_MARGIN) * error_before)


def expect_learned(call: str, before: Any, after: Any, *, met_before: bool) -> None:
    """Learning must be learned: fail unless training, not the model's build, met the bar.

    A model whose predictions before the grader's training already meet the
    threshold, and whom training does not improve, carries its answers (see
    :func:`carried`), and one whose predictions do not change with training
    learns nothing; neither gets the points of a learning check.

    Args:
        call: what was trained, as the messages say it.
        before, after: its predictions before and after the grader trained it.
        met_before: whether the untrained model met the bar and training did not help
            (:func:`carried`).
    """
    if met_before:
        fail(
            f"{call}: before the grader trained it, the freshly initialised model already "
            "met the bar, and training did not improve it. A model must learn its answers "
            "from the grader's training data; "
            "build it from trainable layers with the usual random initialisation."
        )
    before, after = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    if before.shape == after.shape and np.allclose(before, after, rtol=0, atol=1e-7):
        fail(
            f"{call}: its predictions did not change when the grader trained it, so it "
            "learned nothing. Hint: make its layers trainable and compile it with a loss "
            "and an optimizer whose learning rate is not 0."
        )


def learning_credit(
    value: float, *, floor: float, threshold: float, higher_is_better: bool
) -> float:
    """The fraction of a learning check's points that the measure ``value`` earns.

    1 at or beyond ``threshold``, 0 at or short of ``floor`` (what a model reaches
    without learning: chance, the majority class, a naive forecast), linear in
    between, rounded down to a hundredth so that a fraction shown as a percentage is
    never more than was earned. NaN earns 0. The rule is monotone in ``value`` and
    depends on nothing else, so it gives the same fraction for the same predictions.

    Args:
        value: the measure of the trained model (an accuracy, an error ratio).
        floor: the measure that earns nothing; short of ``threshold``.
        threshold: the measure that earns full points (the check's bar).
        higher_is_better: whether a larger ``value`` is better (an accuracy) or worse
            (an error).

    Example:
        >>> learning_credit(0.515, floor=0.1, threshold=0.93, higher_is_better=True)
        0.5
        >>> learning_credit(0.9, floor=1.0, threshold=0.6, higher_is_better=False)
        0.25
    """
    value, floor, threshold = float(value), float(floor), float(threshold)
    if not (floor < threshold if higher_is_better else floor > threshold):
        raise ValueError(f"a floor ({floor:g}) must lie short of the threshold ({threshold:g})")
    if not value == value:  # NaN
        return 0.0
    fraction = (value - floor) / (threshold - floor)
    if fraction >= 1.0:
        return 1.0
    return max(0.0, math.floor(fraction * 100 + 1e-9) / 100)


def expect_learning_credit(
    measured: str,
    value: float,
    *,
    floor: float,
    threshold: float,
    higher_is_better: bool,
    fmt: str,
    floor_reason: str,
    hint: str,
    untrained: float | None = None,
) -> float:
    """Give a learning check the share of its points that ``value`` earns (:func:`learning_credit`).

    Full points at the threshold pass silently; otherwise the check ends with
    partial credit, or fails at the floor, and the message says the measured figure,
    the threshold, the floor and why it earns nothing, and the fraction given. A model
    that carried its answers (:func:`carried`: its ``untrained`` figure already earned
    points and training did not help) gets nothing, and the message says why.

    Args:
        measured: what the trained model did, as a sentence without its full stop
            (``"... classified 52.0% of 1,000 held-out digits correctly"``).
        value: that figure.
        fmt: the format of the figures (``".1%"``, ``".2f"``).
        floor_reason: what earns the floor without learning, as a noun phrase
            (``"chance, one guess in ten"``).
        hint: what to try, for the student.
        untrained: the same figure for the model before the grader trained it.

    Returns:
        The fraction earned, when it is 1.
    """
    fraction = learning_credit(
        value, floor=floor, threshold=threshold, higher_is_better=higher_is_better
    )
    better, worse = ("at least", "at most") if higher_is_better else ("at most", "at least")
    scale = (
        f"Full points need {better} {threshold:{fmt}}; {worse} {floor:{fmt}} ({floor_reason}) "
        "earns none, and the points grow linearly in between"
    )
    if untrained is not None and carried(
        untrained, value, threshold, higher_is_better=higher_is_better, floor=floor
    ):
        fail(
            f"{measured}. {scale}. But before the grader trained it, the freshly initialised "
            f"model already scored {float(untrained):{fmt}}, and training did not improve "
            "it: it did not learn that, so it earns none of these points. A model must learn "
            "its answers from the grader's training data. "
            f"{hint}".strip()
        )
    if fraction >= 1.0:
        return fraction
    partial(fraction, f"{measured}. {scale}: {fraction:.0%} of this check's points. {hint}".strip())
    return fraction
