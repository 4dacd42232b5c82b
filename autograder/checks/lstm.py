"""Hidden checks of the ``lstm`` assignment: an LSTM in numpy, then one in Keras.

The student implements ``lstm_cell_forward``, ``lstm_forward``, ``make_windows`` and
``build_lstm_model`` (curriculum.md, section 6).

The numpy LSTM. The reference below uses Keras's weight layout and gate order:
``z = x_t @ kernel + h_prev @ recurrent_kernel + bias`` is split into four equal
parts ``i, f, g, o``. The kit's tests prove that it equals ``keras.layers.LSTM``
given the same random weights, so the grader can trust it without importing Keras.
Every check draws ``N``, ``D``, ``U`` (and ``T``) all different, so a transposed
kernel or a swapped pair of kernels cannot fit, and weights of a moderate size, so
that no gate saturates and every wrong activation or gate order changes the result.

The Keras model. The student's process only builds the model and exports it as
data; the judge (:mod:`autograder.judge`), a sandbox that never ran the submission's
code, rebuilds, describes and trains it. The learning check trains a fresh model from
the student's builder on the yearly sunspot numbers shipped with statsmodels
(1700-2008), which the grader reads itself: the model trains on windows of the
years up to 1958 and forecasts each of the held-out years 1959-2008 one step ahead
from the ``window`` years before it. The judge gets the held-out windows without their
targets, and the grader scores the forecasts against the naive last-value forecast; a
model that already beats it untrained, or that training does not change, gets no
learning points.
"""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path
from typing import Any

import numpy as np

from autograder.checks._keras import (
    MSE,
    TRAIN_TIMEOUT,
    carried,
    expect_learned,
    expect_learning_credit,
    expect_loss,
    expect_param_budget,
    model_facts,
    trained_predictions,
    training_seed,
)
from autograder.checks._reference import sigmoid
from autograder.checks.common import (
    RTOL_ANALYTIC,
    Inputs,
    describe,
    diagnose,
    expect_array,
    expect_finite,
    expect_finite_array,
    expect_shape,
    fail,
    points,
    rel_error,
    report_metric,
    trains,
    unchanged_check,
)
from autograder.submission import StudentException, SubmissionError

#: The student functions these checks grade (curriculum order).
FUNCTIONS = ("lstm_cell_forward", "lstm_forward", "make_windows", "build_lstm_model")
#: The installed data sets the checks read (their held-out rows: autograder.heldout).
DATASETS = ("sunspots",)

GATES = "ifgo"

# ---------------------------------------------------------------------------
# Reference implementation (stays in the grader).
# ---------------------------------------------------------------------------


def _cell(
    x_t: np.ndarray,
    h_prev: np.ndarray,
    c_prev: np.ndarray,
    kernel: np.ndarray,
    recurrent_kernel: np.ndarray,
    bias: np.ndarray,
    *,
    order: str = GATES,
    activations: str = "ssts",
    use_input_gate: bool = True,
    tanh_of_cell: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """One LSTM step; the keyword arguments describe wrong variants, used only for hints.

    ``order`` names the gate each quarter of ``z`` is taken for, ``activations`` gives
    the activation of the gates i, f, g, o in that order (``s`` sigmoid, ``t`` tanh).
    """
    z = x_t @ kernel + h_prev @ recurrent_kernel + bias
    parts = dict(zip(order, np.split(z, 4, axis=-1), strict=True))
    act = {"s": sigmoid, "t": np.tanh}
    i, f, g, o = (act[a](parts[gate]) for a, gate in zip(activations, GATES, strict=True))
    c_t = f * c_prev + (i * g if use_input_gate else g)
    h_t = o * (np.tanh(c_t) if tanh_of_cell else c_t)
    return h_t, c_t


def _forward(
    x: np.ndarray,
    kernel: np.ndarray,
    recurrent_kernel: np.ndarray,
    bias: np.ndarray,
    *,
    carry_state: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The LSTM over ``x (N, T, D)`` from zero state; ``carry_state=False`` is a wrong variant."""
    n, steps, _ = x.shape
    units = recurrent_kernel.shape[0]
    h = c = np.zeros((n, units))
    outputs = np.zeros((n, steps, units))
    for t in range(steps):
        if not carry_state:
            h = c = np.zeros((n, units))
        h, c = _cell(x[:, t], h, c, kernel, recurrent_kernel, bias)
        outputs[:, t] = h
    return outputs, h, c


def _make_windows(series: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    n = len(series) - window
    X = np.stack([series[i : i + window] for i in range(n)])[:, :, None]
    return X, np.array(series[window:], dtype=float)


#: Every wrong cell the hints can name: (keyword arguments of ``_cell``, hint).
_CELL_VARIANTS: list[tuple[dict, str]] = [
    (
        {"use_input_gate": False},
        "Your new cell state is f * c_prev + g: the input gate is missing. Use "
        "c_t = f * c_prev + i * g, so that i decides how much of the candidate g is written.",
    ),
    (
        {"tanh_of_cell": False},
        "Your h_t is o * c_t: squash the cell state first, h_t = o * tanh(c_t).",
    ),
    *(
        (
            {"activations": acts},
            "One of your gates has the wrong activation: i, f and o go through the sigmoid "
            "(they are gates between 0 and 1), only the candidate g goes through tanh.",
        )
        for acts in ("ssss", "tsts", "stts", "sstt", "tttt")
    ),
    *(
        (
            {"order": "".join(order)},
            "Your gates are in another order than Keras's. Split z into four equal parts "
            "along the last axis and take them as i, f, g, o, in that order "
            "(z[:, :U] is i, z[:, U:2U] is f, z[:, 2U:3U] is g, z[:, 3U:] is o).",
        )
        for order in itertools.permutations(GATES)
        if "".join(order) != GATES
    ),
]

_CELL_HINT = (
    "Compute z = x_t @ kernel + h_prev @ recurrent_kernel + bias (N, 4U), split it into "
    "i, f, g, o, apply sigmoid to i, f, o and tanh to g, then c_t = f * c_prev + i * g and "
    "h_t = o * tanh(c_t)."
)

# ---------------------------------------------------------------------------
# Inputs and guards.
# ---------------------------------------------------------------------------


def _sizes(rng: np.random.Generator) -> tuple[int, int, int, int]:
    """``(N, D, U, T)``, all different and D != 4U, so no transpose and no swapped kernel fits."""
    while True:
        n, d, u, t = (int(v) for v in rng.choice(np.arange(2, 9), size=4, replace=False))
        if d != 4 * u:
            return n, d, u, t


def _weights(rng: np.random.Generator, d: int, u: int) -> tuple[np.ndarray, ...]:
    """``kernel (D, 4U)``, ``recurrent_kernel (U, 4U)``, ``bias (4U,)``: no gate saturates."""
    kernel = rng.normal(scale=0.6, size=(d, 4 * u))
    recurrent_kernel = rng.normal(scale=0.6, size=(u, 4 * u))
    bias = rng.normal(scale=0.5, size=4 * u)
    return kernel, recurrent_kernel, bias


def _cell_problem(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    n, d, u, _ = _sizes(rng)
    x_t = rng.normal(size=(n, d))
    h_prev = np.tanh(rng.normal(size=(n, u)))
    c_prev = rng.normal(size=(n, u))
    return (x_t, h_prev, c_prev, *_weights(rng, d, u))


def _forward_problem(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    n, d, u, t = _sizes(rng)
    x = rng.normal(size=(n, t, d))
    return (x, *_weights(rng, d, u))


_LAYOUT_HINT = (
    "Hint: kernel (D, 4U) multiplies x_t (N, D) and recurrent_kernel (U, 4U) multiplies "
    "h_prev (N, U), both from the right and without transposing: "
    "z = x_t @ kernel + h_prev @ recurrent_kernel + bias."
)


def _call(submission, function: str, *args: Any) -> Any:
    """Call ``function``; a shape error gets a hint on Keras's weight layout."""
    try:
        return submission.call(function, *args)
    except StudentException as error:
        if error.error_type != "ValueError":
            raise
        raise SubmissionError(f"{error} {_LAYOUT_HINT}") from None


def _pair(call: str, value: Any, names: str, length: int) -> tuple:
    if not isinstance(value, tuple | list) or len(value) != length:
        fail(f"`{call}` returned {describe(value)}; expected a tuple `({names})`.")
    return tuple(value)


def _call_cell(submission, args: tuple) -> tuple[np.ndarray, np.ndarray, str]:
    h_prev = args[1]
    call = _cell_call(args)
    h_t, c_t = _expect_cell_result(call, _call(submission, "lstm_cell_forward", *args), h_prev)
    return h_t, c_t, call


def _cell_call(args: tuple) -> str:
    x_t, h_prev, _, kernel, _, _ = args
    return (
        f"lstm_cell_forward(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias) with "
        f"x_t {x_t.shape}, h_prev and c_prev {h_prev.shape}, kernel {kernel.shape}"
    )


def _expect_cell_result(call: str, result: Any, h_prev: np.ndarray) -> tuple[np.ndarray, ...]:
    """Fail unless ``result`` is ``(h_t, c_t)``, both finite of shape (N, U); return them."""
    h_t, c_t = _pair(call, result, "h_t, c_t", 2)
    hint = "h_t and c_t have the shape of h_prev and c_prev: (N, U)."
    h_t = expect_finite_array(call + ", its h_t", h_t, h_prev.shape, hint=hint)
    c_t = expect_finite_array(call + ", its c_t", c_t, h_prev.shape, hint=hint)
    return h_t, c_t


def _cell_hint(received: np.ndarray, args: tuple, which: int) -> str:
    """The hint of the first wrong variant whose h_t (which=0) or c_t (which=1) matches."""
    variants = [
        (lambda kwargs=kwargs: _cell(*args, **kwargs)[which], hint)
        for kwargs, hint in _CELL_VARIANTS
    ]
    return diagnose(received, variants, _CELL_HINT, rtol=RTOL_ANALYTIC)


def _call_forward(submission, args: tuple) -> tuple[Any, Any, Any, str]:
    call = _forward_call(args)
    result = _call(submission, "lstm_forward", *args)
    outputs, h_last, c_last = _pair(call, result, "outputs, h_T, c_T", 3)
    return outputs, h_last, c_last, call


def _shape_of(value: Any) -> tuple | None:
    """The shape of an array or a regular nested list; None for anything else."""
    if not isinstance(value, np.ndarray | list | tuple):
        return None
    try:
        return np.shape(value)
    except ValueError:  # a ragged list
        return None


def _expect_outputs(call: str, outputs: Any, x: np.ndarray, units: int) -> np.ndarray:
    n, steps, _ = x.shape
    received = _shape_of(outputs)
    if received == (steps, n, units):
        hint = (
            "Your outputs have the time axis first, (T, N, U): Keras puts the batch first. "
            "Stack the steps along axis 1 (np.stack(steps, axis=1)) or fill outputs[:, t]."
        )
    elif received == (n, units):
        hint = (
            "Your outputs hold one step only: return the hidden state of every step, "
            "outputs[:, t] = h_t for t = 0 .. T-1 (return_sequences=True in Keras)."
        )
    else:
        hint = "outputs holds h_t for every step: shape (N, T, U), batch first."
    return expect_finite_array(call + ", its outputs", outputs, (n, steps, units), hint=hint)


def _forward_call(args: tuple) -> str:
    x, kernel, _, _ = args
    return (
        f"lstm_forward(x, kernel, recurrent_kernel, bias) with x of shape {x.shape} "
        f"(N, T, D) and kernel {kernel.shape}"
    )


def _expect_forward_result(call: str, result: Any, x: np.ndarray, units: int) -> tuple:
    """Fail unless ``result`` is ``(outputs, h_T, c_T)``, finite, of shapes (N, T, U), (N, U), (N, U)."""
    outputs, h_last, c_last = _pair(call, result, "outputs, h_T, c_T", 3)
    outputs = _expect_outputs(call, outputs, x, units)
    hint = "h_T and c_T are the states after the last step, each of shape (N, U)."
    h_last = expect_finite_array(call + ", its h_T", h_last, (x.shape[0], units), hint=hint)
    c_last = expect_finite_array(call + ", its c_T", c_last, (x.shape[0], units), hint=hint)
    return outputs, h_last, c_last


# ---------------------------------------------------------------------------
# lstm_cell_forward
# ---------------------------------------------------------------------------


@points(1)
def test_lstm_cell_forward_shapes(submission, rng):
    """lstm_cell_forward returns a tuple (h_t, c_t), both finite of shape (N, U)."""
    for _ in range(2):
        _call_cell(submission, _cell_problem(rng))


@points(2)
def test_lstm_cell_forward_new_cell_state(submission, rng):
    """lstm_cell_forward's c_t equals f * c_prev + i * g, with Keras's gate order i, f, g, o."""
    args = _cell_problem(rng)
    _, c_t, call = _call_cell(submission, args)
    expect_array(call + ", its c_t", c_t, _cell(*args)[1], hint=_cell_hint(c_t, args, 1))


@points(2)
def test_lstm_cell_forward_new_hidden_state(submission, rng):
    """lstm_cell_forward's h_t equals o * tanh(c_t), with Keras's gate order i, f, g, o."""
    args = _cell_problem(rng)
    h_t, _, call = _call_cell(submission, args)
    expect_array(call + ", its h_t", h_t, _cell(*args)[0], hint=_cell_hint(h_t, args, 0))


# ---------------------------------------------------------------------------
# lstm_forward
# ---------------------------------------------------------------------------


@points(1)
def test_lstm_forward_shapes(submission, rng):
    """lstm_forward returns finite (outputs, h_T, c_T) of shapes (N, T, U), (N, U), (N, U)."""
    args = _forward_problem(rng)
    x, _, recurrent_kernel, _ = args
    call = _forward_call(args)
    result = _call(submission, "lstm_forward", *args)
    _expect_forward_result(call, result, x, recurrent_kernel.shape[0])


@points(3)
def test_lstm_forward_outputs(submission, rng):
    """lstm_forward's outputs[:, t] is the hidden state after step t, the state carried along."""
    args = _forward_problem(rng)
    x, _, recurrent_kernel, _ = args
    outputs, _, _, call = _call_forward(submission, args)
    got = _expect_outputs(call, outputs, x, recurrent_kernel.shape[0])
    expected = _forward(*args)[0]
    if rel_error(got, expected) <= RTOL_ANALYTIC:
        return
    if rel_error(got[:, 0], expected[:, 0]) > RTOL_ANALYTIC:
        hint = (
            "Already the first step is wrong: start from h = c = zeros (N, U) and make "
            "lstm_cell_forward pass its checks first."
        )
    else:
        resets = (
            lambda: _forward(*args, carry_state=False)[0],
            "Every step starts again from the zero state: set h and c to zeros once, before "
            "the loop, and feed each step the h and c of the step before.",
        )
        hint = diagnose(
            got, [resets],
            "The first step is right but later ones are not: pass the h and c returned by "
            "step t - 1 to step t, and store h_t at outputs[:, t].",
            rtol=RTOL_ANALYTIC,
        )  # fmt: skip
    expect_array(call + ", its outputs", got, expected, hint=hint)


@points(1)
def test_lstm_forward_final_states(submission, rng):
    """lstm_forward's h_T and c_T are the states after the last step, and h_T == outputs[:, -1]."""
    args = _forward_problem(rng)
    x, _, recurrent_kernel, _ = args
    units = recurrent_kernel.shape[0]
    outputs, h_last, c_last, call = _call_forward(submission, args)
    got = _expect_outputs(call, outputs, x, units)
    shape = (x.shape[0], units)
    h_got = expect_finite_array(call + ", its h_T", h_last, shape)
    c_got = expect_finite_array(call + ", its c_T", c_last, shape)
    _, h_expected, c_expected = _forward(*args)
    if (
        rel_error(h_got, c_expected) <= RTOL_ANALYTIC
        and rel_error(c_got, h_expected) <= RTOL_ANALYTIC
    ):
        fail(
            f"`{call}` returned c_T where h_T belongs and h_T where c_T belongs. Return (outputs, h, c)."
        )
    if not rel_error(got[:, -1], h_got) <= RTOL_ANALYTIC:
        fail(
            f"`{call}`: outputs[:, -1] differs from h_T; expected the last output to be the "
            "final hidden state. Return the h of the last step as h_T."
        )
    hint = "Return the h and c of the last step, t = T - 1, after the loop."
    expect_array(call + ", its h_T", h_got, h_expected, hint=hint)
    expect_array(call + ", its c_T", c_got, c_expected, hint=hint)


@points(1)
def test_lstm_forward_starts_from_zero_state(submission, rng):
    """lstm_forward on a single step (T = 1) equals one cell step from h = c = 0."""
    x, kernel, recurrent_kernel, bias = _forward_problem(rng)
    args = (x[:, :1], kernel, recurrent_kernel, bias)
    outputs, h_last, c_last, call = _call_forward(submission, args)
    units = recurrent_kernel.shape[0]
    got = _expect_outputs(call, outputs, args[0], units)
    zeros = np.zeros((x.shape[0], units))
    h_expected, c_expected = _cell(x[:, 0], zeros, zeros, kernel, recurrent_kernel, bias)
    hint = (
        "With T = 1 the result is one lstm_cell_forward step from h_prev = c_prev = "
        "np.zeros((N, U)): start from zeros, not ones nor random numbers."
    )
    expect_array(call + ", its outputs[:, 0]", got[:, 0], h_expected, hint=hint)
    expect_array(call + ", its c_T", c_last, c_expected, hint=hint)
    expect_array(call + ", its h_T", h_last, h_expected, hint=hint)


# ---------------------------------------------------------------------------
# make_windows
# ---------------------------------------------------------------------------


def _call_windows(submission, series: np.ndarray, window: int) -> tuple[Any, Any, str]:
    call = f"make_windows(series, window={window}) for a series of length {len(series)}"
    result = submission.call("make_windows", series, window)
    X, y = _pair(call, result, "X, y", 2)
    return X, y, call


def _expect_windows(call: str, X: Any, y: Any, length: int, window: int) -> tuple:
    n = length - window
    shape = _shape_of(X)
    if shape == (n, window):
        hint = (
            "Keras's LSTM wants one feature per step: add a trailing axis, "
            "X[..., None] or X.reshape(-1, window, 1)."
        )
    elif shape is not None and len(shape) >= 1 and shape[0] == n - 1:
        hint = (
            f"You made one window too few: there are len(series) - window = {n} windows, the "
            "last one ends just before the last value, which is its target."
        )
    elif shape is not None and len(shape) >= 1 and shape[0] == n + 1:
        hint = (
            "You made one window too many: the last window must leave one value after it "
            "for its target y."
        )
    else:
        hint = f"X holds one window of {window} values per row: shape (len(series) - window, window, 1)."
    X = expect_finite_array(call + ", its X", X, (n, window, 1), hint=hint)
    y = expect_finite_array(
        call + ", its y",
        y,
        (n,),
        hint="y holds one target per window, the value right after it: shape (len(series) - window,).",
    )
    return X, y


@points(1)
def test_make_windows_shapes(submission, rng):
    """make_windows returns finite X (len - window, window, 1) and y (len - window,), also for one window."""
    window = int(rng.integers(3, 8))
    for length in (int(rng.integers(window + 12, window + 30)), window + 1):
        series = rng.normal(size=length)
        X, y, call = _call_windows(submission, series, window)
        _expect_windows(call, X, y, length, window)


@points(2)
def test_make_windows_values(submission, rng):
    """make_windows gives X[i] = series[i : i + window] and y[i] = series[i + window]."""
    window = int(rng.integers(3, 8))
    length = int(rng.integers(window + 12, window + 30))
    series = rng.normal(size=length)
    X, y, call = _call_windows(submission, series, window)
    X, y = _expect_windows(call, X, y, length, window)
    X_expected, y_expected = _make_windows(series, window)
    expect_array(
        call + ", its X",
        X,
        X_expected,
        hint="Row i of X is the window series[i : i + window], in the order of the series.",
    )
    last_value = (
        series[window - 1 : -1],
        "Your y[i] is the last value of window i, series[i + window - 1]: the target is the "
        "value right after the window, series[i + window].",
    )
    hint = diagnose(y, [last_value], "y[i] is the value right after window i: series[i + window].",
                    rtol=RTOL_ANALYTIC)  # fmt: skip
    expect_array(call + ", its y", y, y_expected, hint=hint)


# ---------------------------------------------------------------------------
# build_lstm_model
# ---------------------------------------------------------------------------

#: Largest model build_lstm_model(window) may return: 20 times the reference's 4,385
#: parameters, which leaves room for stacked layers but keeps the grader's training fast.
MAX_PARAMS = 100_000

#: The learning check. Held-out stretch: the last 50 years (1959-2008), so the model trains
#: on windows of 1700-1958 only. Scaling: min-max with the training years' extremes. Each
#: run adds Gaussian noise of standard deviation 0.01 (about 2 sunspots) to the whole scaled
#: series and draws the window from WINDOWS; the grader's budget is 40 epochs, batch 16.
N_HELD_OUT = 50
NOISE = 0.01
WINDOWS = (10, 12, 15)
EPOCHS = 40
BATCH_SIZE = 16
#: Measured MSE of the forecasts divided by the naive forecast's, over the grading seeds
#: 0-9 (noise, window and training seed drawn as in the check): the reference (LSTM(32),
#: Dense(1), Adam(0.005)) 0.25 ± 0.02 (worst 0.29); the same model with Keras's default
#: Adam 0.34 ± 0.02 (worst 0.38); two stacked LSTM(32) with the default Adam 0.35 ± 0.05
#: (worst 0.46); LSTM(32), Dense(16, relu), Dense(1) with Adam(0.01) 0.27 ± 0.06 (worst
#: 0.41); a model that does not learn (SGD, learning rate 1e-4) 5.7 ± 1.5 (best 3.7).
#: Threshold: beat naive by 40%, more than twice the reference's worst margin.
#: Per backend, the MSE ratio to the naive forecast of the reference over the grading seeds
#: 0-4 (benchmarks/backend_metrics.py, 2 CPU cores): tensorflow 0.249±0.033 (max 0.283),
#: jax 0.268±0.022 (max 0.302), torch 0.245±0.027 (max 0.277) over 5 seeds.
MAX_RATIO_TO_NAIVE = 0.6
#: Partial credit of the learning check, linear from NAIVE_RATIO (no points) to
#: MAX_RATIO_TO_NAIVE (full points): the naive forecast (next value = last value), which
#: needs no learning and which the notebook's model is compared with, has a ratio of 1 by
#: definition.
NAIVE_RATIO = 1.0


def _sunspots() -> np.ndarray:
    """Yearly sunspot numbers 1700-2008 from statsmodels' data file (statsmodels not imported)."""
    spec = importlib.util.find_spec("statsmodels")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the lstm checks need statsmodels' sunspots data file")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "sunspots" / "sunspots.csv"
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    return data[:, 1]


def _call_text(window: int, units: int | None = None) -> str:
    return f"build_lstm_model({window}{'' if units is None else f', units={units}'})"


def _facts(submission, rng, window: int, units: int | None = None) -> tuple[dict, str]:
    """What the judge reads off the model of ``build_lstm_model(window[, units])``, and that call."""
    call = _call_text(window, units)
    kwargs = {} if units is None else {"units": units}
    info = model_facts(submission, "build_lstm_model", [window], rng, call=call, kwargs=kwargs,
                       input_shapes=[[window, 1]])  # fmt: skip
    return info, call


@points(1)
def test_build_lstm_model_input_and_output_shapes(submission, rng):
    """build_lstm_model(window) takes inputs (None, window, 1) and returns outputs (None, 1)."""
    window = int(rng.integers(5, 25))
    info, call = _facts(submission, rng, window)
    if list(info.get("input_shape") or []) != [None, window, 1]:
        fail(
            f"`{call}` built a model with input shape {tuple(info.get('input_shape') or ())}; "
            f"expected (None, {window}, 1): a batch of windows of {window} steps with one "
            f"feature each. Start with keras.Input(shape=(window, 1))."
        )
    output = list(info.get("output_shape") or [])
    if output != [None, 1]:
        if output == [None, window, 1]:
            hint = (
                "Your LSTM returns a sequence: leave return_sequences=False on the last LSTM "
                "layer, so that only its final hidden state reaches the output layer."
            )
        elif len(output) == 2 and output[1] != 1:
            hint = "The model forecasts one number, the next value: end with Dense(1)."
        else:
            hint = "End with Dense(1) after an LSTM layer that returns its last state only."
        fail(
            f"`{call}` built a model with output shape {tuple(output)}; expected (None, 1), "
            f"one forecast per window. {hint}"
        )


@points(1)
def test_build_lstm_model_uses_mse_loss(submission, rng):
    """build_lstm_model returns a model compiled with the mean squared error loss."""
    info, call = _facts(submission, rng, int(rng.integers(5, 25)))
    expect_loss(
        call, info, MSE,
        compile_hint="Call model.compile(optimizer=..., loss='mse') before returning it.",
        hints={"crossentropy": "Cross-entropy compares class probabilities; the forecast is a number."},
        default_hint="The forecasts are scored by their squared error, so train on it.",
        what="the mean squared error, loss='mse', the loss of a regression",
    )  # fmt: skip


@points(1)
def test_build_lstm_model_has_an_lstm_layer(submission, rng):
    """build_lstm_model's model contains a keras.layers.LSTM layer."""
    info, call = _facts(submission, rng, int(rng.integers(5, 25)))
    layers = [str(name) for name in info.get("layers") or []]
    if "LSTM" not in layers:
        fail(
            f"`{call}` built a model of the layers {', '.join(layers[:8]) or 'none'}; "
            "expected at least one keras.layers.LSTM: this assignment is about recurrent "
            "networks, which read the window step by step."
        )


@points(1)
def test_build_lstm_model_units_sets_the_size(submission, rng):
    """build_lstm_model(window, units) builds a larger model for more units."""
    window = int(rng.integers(5, 25))
    small, large = int(rng.integers(4, 8)), int(rng.integers(16, 24))
    n_small = _facts(submission, rng, window, small)[0].get("n_params")
    n_large = _facts(submission, rng, window, large)[0].get("n_params")
    if not isinstance(n_small, int) or not isinstance(n_large, int) or n_small >= n_large:
        fail(
            f"`{_call_text(window, small)}` and `{_call_text(window, large)}` built models with "
            f"{n_small} and {n_large} parameters; expected more parameters for more units. "
            "Pass units to the LSTM layer: keras.layers.LSTM(units)."
        )


@points(1)
def test_build_lstm_model_parameter_budget(submission, rng):
    """build_lstm_model(window) with the default units has at most 100,000 parameters."""
    info, call = _facts(submission, rng, int(rng.integers(5, 25)))
    expect_param_budget(
        call, info, MAX_PARAMS,
        hint="A single LSTM(32) and Dense(1) have about 4,400: a small model suits a series of "
        "300 values and trains within the grader's time.",
    )  # fmt: skip


@points(5)
@trains
def test_build_lstm_model_beats_naive_forecast(submission, rng):
    """A model from build_lstm_model, trained by the grader, forecasts held-out sunspots better than naive (partial credit from naive's error)."""
    series = _sunspots()
    split = len(series) - N_HELD_OUT
    low, high = series[:split].min(), series[:split].max()
    scaled = (series - low) / (high - low) + NOISE * rng.normal(size=series.shape)
    window = int(rng.choice(WINDOWS))
    x_train, y_train = _make_windows(scaled[:split], window)
    x_all, y_all = _make_windows(scaled, window)
    x_test, y_test = x_all[-N_HELD_OUT:], y_all[-N_HELD_OUT:]
    call = (
        f"a model from build_lstm_model({window}), trained for {EPOCHS} epochs with batch size "
        f"{BATCH_SIZE} on the sunspot years 1700-1958 (scaled to [0, 1])"
    )
    before, predictions = trained_predictions(
        submission, "build_lstm_model", x_train=x_train, y_train=y_train, x_test=x_test,
        epochs=EPOCHS, batch_size=BATCH_SIZE, args=[window], seed=training_seed(rng),
        timeout=TRAIN_TIMEOUT, student="build_lstm_model", doing=f"trained {call}",
    )  # fmt: skip
    predictions = expect_shape(
        call + ", its forecasts of the years 1959-2008",
        predictions,
        (N_HELD_OUT, 1),
        hint="The model outputs one forecast per window, shape (None, 1).",
    )
    expect_finite(
        call,
        predictions,
        hint="Training diverged: use the mean squared error and Adam with a moderate learning rate.",
    )
    naive_mse = float(np.mean((x_test[:, -1, 0] - y_test) ** 2))
    ratio = float(np.mean((predictions[:, 0] - y_test) ** 2)) / naive_mse
    report_metric(
        submission, "lstm_mse_ratio_to_naive", ratio,
        threshold=MAX_RATIO_TO_NAIVE, higher_is_better=False,
    )  # fmt: skip
    untrained = np.asarray(before, dtype=float).reshape(N_HELD_OUT, -1)[:, 0]
    untrained_ratio = float(np.mean((untrained - y_test) ** 2)) / naive_mse
    expect_learned(
        call, before, predictions,
        met_before=carried(untrained_ratio, ratio, MAX_RATIO_TO_NAIVE, higher_is_better=False),
    )  # fmt: skip
    expect_learning_credit(
        f"{call} forecast the held-out years 1959-2008 one step ahead with a mean squared "
        f"error {ratio:.2f} times that of the naive forecast (next value = last value)",
        ratio, floor=NAIVE_RATIO, threshold=MAX_RATIO_TO_NAIVE, higher_is_better=False,
        untrained=untrained_ratio,
        fmt=".2f", floor_reason="the naive forecast itself, which learns nothing",
        hint=f"Hint: the model must learn within {EPOCHS} epochs: compile with loss='mse' "
        "and an optimizer such as keras.optimizers.Adam(learning_rate=0.005), end with a "
        "linear Dense(1), and keep the model small (one LSTM of a few dozen units).",
    )  # fmt: skip


# ---------------------------------------------------------------------------
# Inputs unchanged: one shared check per function (common.unchanged_check)
# ---------------------------------------------------------------------------


def _cell_inputs(rng: np.random.Generator) -> Inputs:
    args = _cell_problem(rng)
    names = ("x_t", "h_prev", "c_prev", "kernel", "recurrent_kernel", "bias")
    return Inputs(
        dict(zip(names, args, strict=True)),
        {},
        lambda call, answer: _expect_cell_result(call, answer, args[1]),
        call=_cell_call(args),
    )


def _forward_inputs(rng: np.random.Generator) -> Inputs:
    args = _forward_problem(rng)
    names = ("x", "kernel", "recurrent_kernel", "bias")
    return Inputs(
        dict(zip(names, args, strict=True)),
        {},
        lambda call, answer: _expect_forward_result(call, answer, args[0], args[2].shape[0]),
        call=_forward_call(args),
    )


def _windows_inputs(rng: np.random.Generator) -> Inputs:
    window = int(rng.integers(3, 8))
    series = rng.normal(size=int(rng.integers(window + 12, window + 30)))

    def well_formed(call: str, answer: Any) -> None:
        X, y = _pair(call, answer, "X, y", 2)
        _expect_windows(call, X, y, len(series), window)

    return Inputs(
        {"series": series, "window": window},
        {},
        well_formed,
        call=f"make_windows(series, window={window}) for a series of length {len(series)}",
    )


test_lstm_cell_forward_does_not_modify_inputs = unchanged_check(
    "lstm_cell_forward",
    _cell_inputs,
    doc="lstm_cell_forward leaves x_t, h_prev, c_prev and the weights unchanged.",
)
test_lstm_forward_does_not_modify_inputs = unchanged_check(
    "lstm_forward", _forward_inputs, doc="lstm_forward leaves x and the weights unchanged."
)
test_make_windows_does_not_modify_input = unchanged_check("make_windows", _windows_inputs)
