"""What holds for the hidden checks of ``lstm`` only (the rest: test_every_assignment.py).

Keras is imported here (in the kit's tests), never in the grader's process: the first
tests prove that the grader's numpy reference equals ``keras.layers.LSTM`` given the
same random weights, which is what lets the checks trust it.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from autograder.checks import lstm as checks
from autograder.checks.common import rel_error
from tests.checks.test_every_assignment import mistake_results
from tests.harness import (
    FLOAT_RUN,
    SyntheticTraining,
    assert_learning_outcome,
    reference,
    reference_training_run,
    score,
)

ASSIGNMENT = "lstm"
LEARNING_CHECK = "test_build_lstm_model_beats_naive_forecast"


def _keras_lstm(units: int, steps: int, features: int, weights: tuple):
    import keras

    layer = keras.layers.LSTM(units, return_sequences=True, return_state=True, dtype="float64")
    layer.build((None, steps, features))
    layer.set_weights([np.asarray(w) for w in weights])
    return layer


def _numpy(values) -> list[np.ndarray]:
    import keras

    return [keras.ops.convert_to_numpy(v) for v in values]


#: How closely a float64 Keras LSTM agrees with the grader's float64 numpy reference.
#: TensorFlow and PyTorch compute it in float64. JAX computes it in float32 whatever the
#: layer's dtype, since 64-bit floats are off by default (jax_enable_x64, which a test
#: must not turn on: it changes every later JAX computation of the process); there the
#: two agree to float32 rounding, compounded over the time steps (measured: 2e-7 to 3e-6
#: elementwise, up to 7e-5 on an output near 0), so the norm of the difference must stay
#: under 1e-5 of the outputs' (a gate order other than i, f, g, o differs by over 1e-3).
FLOAT64_AGREEMENT = 1e-10
FLOAT32_AGREEMENT = 1e-5


def _agree(got: np.ndarray, ours: np.ndarray) -> bool:
    """Keras's output ``got`` equals the reference's ``ours`` to its precision's rounding."""
    if got.dtype == np.float64:
        return rel_error(got, ours) < FLOAT64_AGREEMENT
    assert got.dtype == np.float32, got.dtype
    return np.linalg.norm(got - ours) <= FLOAT32_AGREEMENT * np.linalg.norm(ours)


# ---------------------------------------------------------------------------
# The grader's reference equals Keras, so the checks need no Keras.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("scale", [0.6, 2.0])
def test_reference_lstm_forward_equals_keras_lstm(seed, scale):
    rng = np.random.default_rng(seed)
    n, d, u, t = checks._sizes(rng)
    assert len({n, d, u, t}) == 4
    x = rng.normal(size=(n, t, d))
    weights = tuple(w * scale / 0.6 for w in checks._weights(rng, d, u))
    outputs, h_last, c_last = _numpy(_keras_lstm(u, t, d, weights)(x))
    expected = checks._forward(x, *weights)
    for got, ours in zip((outputs, h_last, c_last), expected, strict=True):
        assert got.shape == ours.shape
        assert _agree(got, ours)
    # The notebook's solution agrees too.
    solution = reference(ASSIGNMENT)["lstm_forward"](x, *weights)
    for got, ours in zip((outputs, h_last, c_last), solution, strict=True):
        assert _agree(got, ours)


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_reference_lstm_cell_equals_one_keras_step_from_any_state(seed):
    rng = np.random.default_rng(seed)
    x_t, h_prev, c_prev, *weights = checks._cell_problem(rng)
    layer = _keras_lstm(h_prev.shape[1], 1, x_t.shape[1], tuple(weights))
    outputs, h_t, c_t = _numpy(layer(x_t[:, None, :], initial_state=[h_prev, c_prev]))
    h_ours, c_ours = checks._cell(x_t, h_prev, c_prev, *weights)
    assert _agree(h_t, h_ours) and _agree(c_t, c_ours)
    assert _agree(outputs[:, 0], h_ours)
    # A gate order other than i, f, g, o is a different network.
    h_wrong, _ = checks._cell(x_t, h_prev, c_prev, *weights, order="ifog")
    assert rel_error(h_t, h_wrong) > 1e-3


def test_grader_reads_the_sunspots_of_statsmodels():
    import statsmodels.api as sm

    data = sm.datasets.sunspots.load_pandas().data
    series = checks._sunspots()
    assert np.array_equal(series, data["SUNACTIVITY"].to_numpy(dtype=float))
    held_out_years = data["YEAR"].to_numpy()[-checks.N_HELD_OUT :]
    assert held_out_years[0] == 1959 and held_out_years[-1] == 2008


def test_reference_windows_equal_the_notebooks():
    series = np.random.default_rng(0).normal(size=23)
    X, y = reference(ASSIGNMENT)["make_windows"](series, 5)
    X_ref, y_ref = checks._make_windows(series, 5)
    assert np.array_equal(X, X_ref) and np.array_equal(y, y_ref)


# ---------------------------------------------------------------------------
# What the generic suite does not say.
# ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_forecasts_far_inside_the_threshold(seed):
    """The learning check records its measure; the reference is far inside the threshold."""
    _, submission = reference_training_run(ASSIGNMENT, seed)
    metric = submission.metrics["lstm_mse_ratio_to_naive"]
    assert metric["passed"] and metric["value"] < 0.75 * checks.MAX_RATIO_TO_NAIVE


def test_messages_do_not_reveal_the_expected_states():
    seen: list = []
    spy = """
def lstm_cell_forward(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    _seen.append(tuple(np.array(a, dtype=float) for a in (x_t, h_prev, c_prev, kernel, recurrent_kernel, bias)))
    z = x_t @ kernel + h_prev @ recurrent_kernel + bias
    z_i, z_f, z_g, z_o = np.split(z, 4, axis=1)
    c_t = sigmoid(z_f) * c_prev + sigmoid(z_i) * np.tanh(z_g)
    return sigmoid(z_o) * c_t, c_t
"""
    namespace = reference(ASSIGNMENT, spy)
    namespace["_seen"] = seen
    results = score(ASSIGNMENT, namespace, seed=11, only="lstm_cell_forward")
    output = results["test_lstm_cell_forward_new_hidden_state"].output
    assert seen and "not correct" in output
    h_expected, _ = checks._cell(*seen[-1])
    for value in h_expected.ravel():
        for text in (f"{value:.6g}", f"{value:.4f}", f"{value:.3f}"):
            assert text not in output, (text, output)


@pytest.mark.slow
def test_learning_message_reveals_no_forecast_targets():
    output = mistake_results(ASSIGNMENT, "build_does_not_learn")[LEARNING_CHECK].output
    assert not FLOAT_RUN.search(output), output
    # One number only: the ratio of the two errors, with two decimals.
    numbers = re.findall(r"\d+\.\d+", output)
    assert numbers and all(len(n.split(".")[1]) <= 3 for n in numbers), output


# ---------------------------------------------------------------------------
# Partial credit: a model that does not learn keeps at most half of build_lstm_model's.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ratio", "fraction"), [(2.0, 0.0), (1.0, 0.0), (0.9, 0.25), (0.8, 0.5), (0.6, 1.0), (0.3, 1.0)]
)
def test_learning_check_gives_partial_credit_from_the_naive_forecast(monkeypatch, ratio, fraction):
    """On made-up forecasts (no Keras): full points at 0.6 of naive's error, none at naive's."""
    windows: list = []
    original = checks._make_windows
    monkeypatch.setattr(
        checks, "_make_windows", lambda *args: windows.append(original(*args)) or windows[-1]
    )

    def answer(payload):  # y + s (last - y) has s^2 times the naive forecast's error
        x_test = payload["x_test"]
        y_test = windows[-1][1][-checks.N_HELD_OUT :]
        forecast = y_test + np.sqrt(ratio) * (x_test[:, -1, 0] - y_test)
        return np.full((len(y_test), 1), 5.0), forecast[:, None]

    assert_learning_outcome(
        checks.test_build_lstm_model_beats_naive_forecast, SyntheticTraining(answer), fraction,
        f"error {ratio:.2f} times that of the naive forecast", "at most 0.60",
        "at least 1.00 (the naive forecast",
    )  # fmt: skip
