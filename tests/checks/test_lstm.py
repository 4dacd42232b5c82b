"""The hidden checks of ``lstm`` against Keras, the reference, the stubs, mistakes and alternatives.

Keras is imported here (in the kit's tests), never in the grader's process: the first
tests prove that the grader's numpy reference equals ``keras.layers.LSTM`` given the
same random weights, which is what lets the checks trust it. Scoring a submission
runs only the checks that concern it: a mistake in a numpy function is scored on the
checks of that function, so that no model is trained for it; only the reference, the
alternative model builders and the builder that does not learn are trained.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from autograder.checks import lstm as checks
from autograder.checks.common import rel_error
from autograder.scoring import function_of, run_checks
from autograder.submission import LocalSubmission
from tests.harness import (
    FLOAT_RUN,
    GRADER_FAULT,
    assert_caught_helpfully,
    messages_with_float_arrays,
    reference,
    released,
    score,
)

ASSIGNMENT = "lstm"
FUNCTIONS = checks.FUNCTIONS
LEARNING_CHECK = "test_build_lstm_model_beats_naive_forecast"


def _of(function: str, *, learning: bool = False):
    """Select the checks of ``function``; the learning check only when ``learning``."""
    return lambda name: (
        function_of(name, list(FUNCTIONS)) == function and (name == LEARNING_CHECK) == learning
    )


def _keras_lstm(units: int, steps: int, features: int, weights: tuple):
    import keras

    layer = keras.layers.LSTM(units, return_sequences=True, return_state=True, dtype="float64")
    layer.build((None, steps, features))
    layer.set_weights([np.asarray(w) for w in weights])
    return layer


def _numpy(values) -> list[np.ndarray]:
    import keras

    return [keras.ops.convert_to_numpy(v) for v in values]


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
        assert rel_error(got, ours) < 1e-10
    # The notebook's solution agrees too.
    solution = reference(ASSIGNMENT)["lstm_forward"](x, *weights)
    for got, ours in zip((outputs, h_last, c_last), solution, strict=True):
        assert rel_error(got, ours) < 1e-10


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_reference_lstm_cell_equals_one_keras_step_from_any_state(seed):
    rng = np.random.default_rng(seed)
    x_t, h_prev, c_prev, *weights = checks._cell_problem(rng)
    layer = _keras_lstm(h_prev.shape[1], 1, x_t.shape[1], tuple(weights))
    outputs, h_t, c_t = _numpy(layer(x_t[:, None, :], initial_state=[h_prev, c_prev]))
    h_ours, c_ours = checks._cell(x_t, h_prev, c_prev, *weights)
    assert rel_error(h_t, h_ours) < 1e-10 and rel_error(c_t, c_ours) < 1e-10
    assert rel_error(outputs[:, 0], h_ours) < 1e-10
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
# The reference and the stubs.
# ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_gets_full_marks(seed):
    submission = LocalSubmission(reference(ASSIGNMENT), seed=seed)
    results = {r.name: r for r in run_checks(ASSIGNMENT, submission)}
    failed = {name: r.output for name, r in results.items() if not r.passed}
    assert not failed
    total = sum(r.max_score for r in results.values())
    assert 15 <= total <= 30
    for name in results:
        assert function_of(name, list(FUNCTIONS)) is not None, name
    # The learning check records its measure; the reference is far inside the threshold.
    metric = submission.metrics["lstm_mse_ratio_to_naive"]
    assert metric["passed"] and metric["value"] < 0.75 * checks.MAX_RATIO_TO_NAIVE


def test_stub_functions_raise_not_implemented():
    stub = released(ASSIGNMENT)
    arguments = {
        "lstm_cell_forward": (
            np.zeros((1, 2)),
            np.zeros((1, 3)),
            np.zeros((1, 3)),
            np.zeros((2, 12)),
            np.zeros((3, 12)),
            np.zeros(12),
        ),
        "lstm_forward": (np.zeros((1, 4, 2)), np.zeros((2, 12)), np.zeros((3, 12)), np.zeros(12)),
        "make_windows": (np.arange(6.0), 3),
        "build_lstm_model": (12,),
    }
    for function in FUNCTIONS:
        with pytest.raises(NotImplementedError):
            stub[function](*arguments[function])


# ---------------------------------------------------------------------------
# Common mistakes: (id, function, replacement source).
# ---------------------------------------------------------------------------

_CELL = """
def lstm_cell_forward(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    z = {z}
    {gates} = np.split(z, 4, axis=1)
    i, f, g, o = {activations}
    c_t = {c_t}
    h_t = {h_t}
    return h_t, c_t
"""


def _cell(
    z="x_t @ kernel + h_prev @ recurrent_kernel + bias",
    gates="z_i, z_f, z_g, z_o",
    activations="sigmoid(z_i), sigmoid(z_f), np.tanh(z_g), sigmoid(z_o)",
    c_t="f * c_prev + i * g",
    h_t="o * np.tanh(c_t)",
) -> str:
    return _CELL.format(z=z, gates=gates, activations=activations, c_t=c_t, h_t=h_t)


_BUILD = """
import keras

def build_lstm_model(window, units=32):
    model = keras.Sequential([keras.Input(shape=(window, 1)), {layers}])
    model.compile(optimizer={optimizer}, loss={loss})
    return model
"""


def _build(
    layers="keras.layers.LSTM(units), keras.layers.Dense(1)", optimizer='"adam"', loss='"mse"'
):
    return _BUILD.format(layers=layers, optimizer=optimizer, loss=loss)


MUTANTS = [
    ("cell_gate_order_ifog", "lstm_cell_forward", _cell(gates="z_i, z_f, z_o, z_g")),
    (
        "cell_gate_order_igfo_of_tensorflow_1",
        "lstm_cell_forward",
        _cell(gates="z_i, z_g, z_f, z_o"),
    ),
    ("cell_hidden_state_without_tanh", "lstm_cell_forward", _cell(h_t="o * c_t")),
    ("cell_memory_without_input_gate", "lstm_cell_forward", _cell(c_t="f * c_prev + g")),
    (
        "cell_tanh_on_the_forget_gate",
        "lstm_cell_forward",
        _cell(activations="sigmoid(z_i), np.tanh(z_f), np.tanh(z_g), sigmoid(z_o)"),
    ),
    (
        "cell_transposed_kernels",
        "lstm_cell_forward",
        _cell(z="x_t @ kernel.T + h_prev @ recurrent_kernel.T + bias"),
    ),
    (
        "cell_swapped_kernels",
        "lstm_cell_forward",
        _cell(z="x_t @ recurrent_kernel + h_prev @ kernel + bias"),
    ),
    (
        "cell_updates_c_prev_in_place",
        "lstm_cell_forward",
        """
def lstm_cell_forward(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    z = x_t @ kernel + h_prev @ recurrent_kernel + bias
    z_i, z_f, z_g, z_o = np.split(z, 4, axis=1)
    c_t = c_prev
    c_t *= sigmoid(z_f)
    c_t += sigmoid(z_i) * np.tanh(z_g)
    return sigmoid(z_o) * np.tanh(c_t), c_t
""",
    ),
    (
        "forward_resets_the_state_every_step",
        "lstm_forward",
        """
def lstm_forward(x, kernel, recurrent_kernel, bias):
    n, steps, _ = x.shape
    units = recurrent_kernel.shape[0]
    outputs = np.zeros((n, steps, units))
    for t in range(steps):
        h, c = np.zeros((n, units)), np.zeros((n, units))
        h, c = lstm_cell_forward(x[:, t], h, c, kernel, recurrent_kernel, bias)
        outputs[:, t] = h
    return outputs, h, c
""",
    ),
    (
        "forward_returns_the_last_output_only",
        "lstm_forward",
        """
def lstm_forward(x, kernel, recurrent_kernel, bias):
    units = recurrent_kernel.shape[0]
    h = c = np.zeros((x.shape[0], units))
    for t in range(x.shape[1]):
        h, c = lstm_cell_forward(x[:, t], h, c, kernel, recurrent_kernel, bias)
    return h, h, c
""",
    ),
    (
        "forward_outputs_time_major",
        "lstm_forward",
        """
def lstm_forward(x, kernel, recurrent_kernel, bias):
    units = recurrent_kernel.shape[0]
    h = c = np.zeros((x.shape[0], units))
    outputs = []
    for t in range(x.shape[1]):
        h, c = lstm_cell_forward(x[:, t], h, c, kernel, recurrent_kernel, bias)
        outputs.append(h)
    return np.array(outputs), h, c
""",
    ),
    (
        "forward_swaps_the_final_states",
        "lstm_forward",
        """
def lstm_forward(x, kernel, recurrent_kernel, bias):
    n, steps, _ = x.shape
    units = recurrent_kernel.shape[0]
    h = c = np.zeros((n, units))
    outputs = np.zeros((n, steps, units))
    for t in range(steps):
        h, c = lstm_cell_forward(x[:, t], h, c, kernel, recurrent_kernel, bias)
        outputs[:, t] = h
    return outputs, c, h
""",
    ),
    (
        "forward_starts_from_ones",
        "lstm_forward",
        """
def lstm_forward(x, kernel, recurrent_kernel, bias):
    n, steps, _ = x.shape
    units = recurrent_kernel.shape[0]
    h = c = np.ones((n, units))
    outputs = np.zeros((n, steps, units))
    for t in range(steps):
        h, c = lstm_cell_forward(x[:, t], h, c, kernel, recurrent_kernel, bias)
        outputs[:, t] = h
    return outputs, h, c
""",
    ),
    (
        "windows_target_is_the_last_value_of_the_window",
        "make_windows",
        """
def make_windows(series, window):
    n = len(series) - window
    X = np.array([series[i : i + window] for i in range(n)])
    y = np.array([series[i + window - 1] for i in range(n)])
    return X[:, :, None], y
""",
    ),
    (
        "windows_without_the_feature_axis",
        "make_windows",
        """
def make_windows(series, window):
    n = len(series) - window
    X = np.array([series[i : i + window] for i in range(n)])
    return X, np.array(series[window:])
""",
    ),
    (
        "windows_one_too_few",
        "make_windows",
        """
def make_windows(series, window):
    n = len(series) - window - 1
    X = np.array([series[i : i + window] for i in range(n)])
    y = np.array([series[i + window] for i in range(n)])
    return X[:, :, None], y
""",
    ),
    (
        "build_dense_output_of_window_size",
        "build_lstm_model",
        _build(layers="keras.layers.LSTM(units), keras.layers.Dense(window)"),
    ),
    (
        "build_returns_a_sequence",
        "build_lstm_model",
        _build(layers="keras.layers.LSTM(units, return_sequences=True), keras.layers.Dense(1)"),
    ),
    ("build_mae_loss", "build_lstm_model", _build(loss='"mae"')),
    (
        "build_categorical_crossentropy",
        "build_lstm_model",
        _build(
            layers='keras.layers.LSTM(units), keras.layers.Dense(1, activation="softmax")',
            loss='"categorical_crossentropy"',
        ),
    ),
    (
        "build_dense_layers_only",
        "build_lstm_model",
        _build(
            layers='keras.layers.Flatten(), keras.layers.Dense(units, activation="relu"), '
            "keras.layers.Dense(1)"
        ),
    ),
    (
        "build_ignores_units",
        "build_lstm_model",
        _build(layers="keras.layers.LSTM(32), keras.layers.Dense(1)"),
    ),
    (
        "build_far_too_large",
        "build_lstm_model",
        _build(layers="keras.layers.LSTM(units * 16), keras.layers.Dense(1)"),
    ),
]

#: A builder whose model does not learn within the grader's budget: only the learning check.
LEARNING_MUTANT = (
    "build_does_not_learn",
    _build(optimizer="keras.optimizers.SGD(learning_rate=1e-4)"),
)


@pytest.fixture(scope="module")
def mutant_results() -> dict:
    return {
        mutant_id: score(ASSIGNMENT, reference(ASSIGNMENT, source), seed=7, only=_of(function))
        for mutant_id, function, source in MUTANTS
    }


@pytest.fixture(scope="module")
def learning_mutant_result():
    mutant_id, source = LEARNING_MUTANT
    results = score(
        ASSIGNMENT,
        reference(ASSIGNMENT, source),
        seed=7,
        only=_of("build_lstm_model", learning=True),
    )
    return results[LEARNING_CHECK]


@pytest.mark.parametrize(
    ("mutant_id", "function"),
    [(mutant_id, function) for mutant_id, function, _ in MUTANTS],
    ids=[mutant_id for mutant_id, _, _ in MUTANTS],
)
def test_mutant_fails_a_check_of_its_function(mutant_results, mutant_id, function):
    results = mutant_results[mutant_id]
    assert results and all(function_of(name, list(FUNCTIONS)) == function for name in results)
    assert_caught_helpfully(results, function, FUNCTIONS, mutant_id)


@pytest.mark.parametrize(
    ("mutant_id", "check", "words"),
    [
        ("cell_gate_order_ifog", "test_lstm_cell_forward_new_cell_state", "another order"),
        ("cell_gate_order_ifog", "test_lstm_cell_forward_new_hidden_state", "another order"),
        (
            "cell_gate_order_igfo_of_tensorflow_1",
            "test_lstm_cell_forward_new_cell_state",
            "another order",
        ),
        ("cell_hidden_state_without_tanh", "test_lstm_cell_forward_new_hidden_state", "o * c_t"),
        (
            "cell_memory_without_input_gate",
            "test_lstm_cell_forward_new_cell_state",
            "input gate is missing",
        ),
        ("cell_tanh_on_the_forget_gate", "test_lstm_cell_forward_new_cell_state", "activation"),
        ("cell_transposed_kernels", "test_lstm_cell_forward_shapes", "raised ValueError"),
        ("cell_transposed_kernels", "test_lstm_cell_forward_shapes", "without transposing"),
        ("cell_swapped_kernels", "test_lstm_cell_forward_shapes", "raised ValueError"),
        ("cell_updates_c_prev_in_place", "test_lstm_cell_forward_does_not_modify_inputs", "c_prev"),
        (
            "forward_resets_the_state_every_step",
            "test_lstm_forward_outputs",
            "starts again from the zero state",
        ),
        ("forward_returns_the_last_output_only", "test_lstm_forward_shapes", "one step only"),
        ("forward_outputs_time_major", "test_lstm_forward_shapes", "time axis first"),
        ("forward_swaps_the_final_states", "test_lstm_forward_final_states", "where h_T belongs"),
        ("forward_starts_from_ones", "test_lstm_forward_starts_from_zero_state", "np.zeros"),
        ("forward_starts_from_ones", "test_lstm_forward_outputs", "first step is wrong"),
        (
            "windows_target_is_the_last_value_of_the_window",
            "test_make_windows_values",
            "last value of window i",
        ),
        ("windows_without_the_feature_axis", "test_make_windows_shapes", "trailing axis"),
        ("windows_one_too_few", "test_make_windows_shapes", "one window too few"),
        (
            "build_dense_output_of_window_size",
            "test_build_lstm_model_input_and_output_shapes",
            "Dense(1)",
        ),
        (
            "build_returns_a_sequence",
            "test_build_lstm_model_input_and_output_shapes",
            "return_sequences=False",
        ),
        ("build_mae_loss", "test_build_lstm_model_uses_mse_loss", "'mae'"),
        (
            "build_categorical_crossentropy",
            "test_build_lstm_model_uses_mse_loss",
            "class probabilities",
        ),
        ("build_dense_layers_only", "test_build_lstm_model_has_an_lstm_layer", "Flatten"),
        ("build_ignores_units", "test_build_lstm_model_units_sets_the_size", "Pass units"),
        ("build_far_too_large", "test_build_lstm_model_parameter_budget", "at most 100,000"),
    ],
)
def test_mutant_is_caught_by_the_check_meant_for_it(mutant_results, mutant_id, check, words):
    result = mutant_results[mutant_id][check]
    assert not result.passed
    assert words in result.output, result.output


@pytest.mark.slow
def test_builder_that_does_not_learn_fails_the_learning_check(learning_mutant_result):
    result = learning_mutant_result
    assert not result.passed
    assert "times that of the naive forecast" in result.output, result.output
    assert GRADER_FAULT not in result.output


# ---------------------------------------------------------------------------
# Correct alternatives: (id, function-selection, replacement sources).
# ---------------------------------------------------------------------------

ALTERNATIVES = [
    (
        "inlined_forward_with_sliced_gates_and_exp_sigmoid",
        [
            """
def lstm_cell_forward(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    units = h_prev.shape[1]
    z = np.dot(x_t, kernel) + np.dot(h_prev, recurrent_kernel) + bias
    i = 1 / (1 + np.exp(-z[:, :units]))
    f = 1 / (1 + np.exp(-z[:, units : 2 * units]))
    g = np.tanh(z[:, 2 * units : 3 * units])
    o = 1 / (1 + np.exp(-z[:, 3 * units :]))
    c_t = f * c_prev + i * g
    return o * np.tanh(c_t), c_t
""",
            """
def lstm_forward(x, kernel, recurrent_kernel, bias):
    units = recurrent_kernel.shape[0]
    h = np.zeros((x.shape[0], units))
    c = np.zeros((x.shape[0], units))
    steps = []
    for t in range(x.shape[1]):
        z = x[:, t, :] @ kernel + h @ recurrent_kernel + bias
        i, f, g, o = (z[:, k * units : (k + 1) * units] for k in range(4))
        c = c / (1 + np.exp(-f)) + np.tanh(g) / (1 + np.exp(-i))
        h = np.tanh(c) / (1 + np.exp(-o))
        steps.append(h)
    return np.stack(steps, axis=1), h, c
""",
        ],
    ),
    (
        "per_gate_weight_blocks_and_time_major_then_transposed",
        [
            """
def lstm_cell_forward(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    W = np.hsplit(kernel, 4)
    U = np.hsplit(recurrent_kernel, 4)
    b = np.split(bias, 4)
    pre = [x_t @ W[k] + h_prev @ U[k] + b[k] for k in range(4)]
    i, f, o = (np.exp(-np.logaddexp(0, -pre[k])) for k in (0, 1, 3))
    c_t = f * c_prev + i * np.tanh(pre[2])
    return o * np.tanh(c_t), c_t
""",
            """
def lstm_forward(x, kernel, recurrent_kernel, bias):
    x_time_major = np.transpose(x, (1, 0, 2))
    state = (np.zeros((x.shape[0], recurrent_kernel.shape[0])),) * 2
    outputs = []
    for x_t in x_time_major:
        state = lstm_cell_forward(x_t, state[0], state[1], kernel, recurrent_kernel, bias)
        outputs.append(state[0])
    return np.transpose(np.array(outputs), (1, 0, 2)), state[0], state[1]
""",
        ],
    ),
    (
        "windows_with_sliding_window_view",
        [
            """
def make_windows(series, window):
    views = np.lib.stride_tricks.sliding_window_view(np.asarray(series, dtype=float), window)
    return views[:-1, :, np.newaxis].copy(), series[window:]
"""
        ],
    ),
    (
        "windows_with_lists_and_reshape",
        [
            """
def make_windows(series, window):
    X, y = [], []
    for i in range(len(series) - window):
        X.append(list(series[i : i + window]))
        y.append(series[i + window])
    return np.array(X).reshape(-1, window, 1), np.array(y)
"""
        ],
    ),
]

#: Builders written differently; these are trained by the learning check.
BUILDER_ALTERNATIVES = [
    (
        "functional_two_stacked_lstms_default_adam",
        """
import keras

def build_lstm_model(window, units=32):
    inputs = keras.Input(shape=(window, 1))
    hidden = keras.layers.LSTM(units, return_sequences=True)(inputs)
    hidden = keras.layers.LSTM(units)(hidden)
    outputs = keras.layers.Dense(1)(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mean_squared_error")
    return model
""",
    ),
    (
        "sequential_dense_hidden_layer_loss_object",
        """
import keras

def build_lstm_model(window, units=32):
    model = keras.Sequential()
    model.add(keras.layers.Input((window, 1)))
    model.add(keras.layers.LSTM(units))
    model.add(keras.layers.Dense(16, activation="relu"))
    model.add(keras.layers.Dense(1))
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=keras.losses.MeanSquaredError())
    return model
""",
    ),
]


@pytest.mark.parametrize(
    "sources", [sources for _, sources in ALTERNATIVES], ids=[alt for alt, _ in ALTERNATIVES]
)
def test_correct_alternative_gets_full_marks(sources):
    """All checks but the learning one (which trains the unchanged reference builder)."""
    results = score(
        ASSIGNMENT, reference(ASSIGNMENT, *sources), seed=5, only=lambda n: n != LEARNING_CHECK
    )
    failed = {name: r.output for name, r in results.items() if not r.passed}
    assert not failed
    assert len(results) == len([name for name in vars(checks) if name.startswith("test_")]) - 1


@pytest.mark.slow
@pytest.mark.parametrize(
    "source",
    [source for _, source in BUILDER_ALTERNATIVES],
    ids=[a for a, _ in BUILDER_ALTERNATIVES],
)
def test_correct_alternative_builder_gets_full_marks(source):
    results = score(ASSIGNMENT, reference(ASSIGNMENT, source), seed=5, only=_of_builder_all)
    failed = {name: r.output for name, r in results.items() if not r.passed}
    assert not failed
    assert LEARNING_CHECK in results


def _of_builder_all(name: str) -> bool:
    return function_of(name, list(FUNCTIONS)) == "build_lstm_model"


# ---------------------------------------------------------------------------
# Messages reveal no hidden values.
# ---------------------------------------------------------------------------


def test_messages_contain_no_float_arrays(mutant_results):
    assert FLOAT_RUN.search(str(np.linspace(0.1, 0.9, 5)))  # the pattern does find arrays
    assert not messages_with_float_arrays(mutant_results)


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
    output = score(ASSIGNMENT, namespace, seed=11, only=_of("lstm_cell_forward"))[
        "test_lstm_cell_forward_new_hidden_state"
    ].output
    assert seen and "not correct" in output
    h_expected, _ = checks._cell(*seen[-1])
    for value in h_expected.ravel():
        for text in (f"{value:.6g}", f"{value:.4f}", f"{value:.3f}"):
            assert text not in output, (text, output)


@pytest.mark.slow
def test_learning_message_reveals_no_forecast_targets(learning_mutant_result):
    output = learning_mutant_result.output
    assert not FLOAT_RUN.search(output), output
    # One number only: the ratio of the two errors, with two decimals.
    numbers = re.findall(r"\d+\.\d+", output)
    assert numbers and all(len(n.split(".")[1]) <= 3 for n in numbers), output
