"""Known mistakes and correct alternatives of ``lstm`` (see :mod:`autograder.cases`)."""

import numpy as np

from autograder.cases import Alternative, Mistake

#: Lines of the reference's definitions that several mistakes edit.
_SPLIT = "z_i, z_f, z_g, z_o = np.split"
_Z = "x_t @ kernel + h_prev @ recurrent_kernel"
_RETURN = "return outputs, h, c"
_LSTM = "keras.layers.LSTM(units)"

MISTAKES = [
    Mistake(  # caught by both state checks: tests/checks/test_lstm.py pins each
        "cell_gate_order_ifog",
        "lstm_cell_forward",
        edits=[(_SPLIT, "z_i, z_f, z_o, z_g = np.split")],
        words="another order",
        also={
            "test_lstm_cell_forward_new_cell_state": "another order",
            "test_lstm_cell_forward_new_hidden_state": "another order",
        },
    ),
    Mistake(
        "cell_gate_order_igfo_of_tensorflow_1",
        "lstm_cell_forward",
        edits=[(_SPLIT, "z_i, z_g, z_f, z_o = np.split")],
        words="another order",
        check="test_lstm_cell_forward_new_cell_state",
    ),
    Mistake(
        "cell_hidden_state_without_tanh",
        "lstm_cell_forward",
        edits=[("h_t = o * np.tanh(c_t)", "h_t = o * c_t")],
        words="o * c_t",
        check="test_lstm_cell_forward_new_hidden_state",
    ),
    Mistake(
        "cell_memory_without_input_gate",
        "lstm_cell_forward",
        edits=[("c_t = f * c_prev + i * g", "c_t = f * c_prev + g")],
        words="input gate is missing",
        check="test_lstm_cell_forward_new_cell_state",
    ),
    Mistake(
        "cell_tanh_on_the_forget_gate",
        "lstm_cell_forward",
        edits=[("sigmoid(z_f)", "np.tanh(z_f)")],
        words="activation",
        check="test_lstm_cell_forward_new_cell_state",
    ),
    Mistake(
        "cell_transposed_kernels",
        "lstm_cell_forward",
        edits=[(_Z, "x_t @ kernel.T + h_prev @ recurrent_kernel.T")],
        words=("raised ValueError", "without transposing"),
        check="test_lstm_cell_forward_shapes",
    ),
    Mistake(
        "cell_swapped_kernels",
        "lstm_cell_forward",
        edits=[(_Z, "x_t @ recurrent_kernel + h_prev @ kernel")],
        words="raised ValueError",
        check="test_lstm_cell_forward_shapes",
    ),
    Mistake(
        "cell_updates_c_prev_in_place",
        "lstm_cell_forward",
        edits=[("c_t = f * c_prev + i * g", "c_t = c_prev\n    c_t *= f\n    c_t += i * g")],
        words="c_prev",
        check="test_lstm_cell_forward_does_not_modify_inputs",
    ),
    Mistake(
        "forward_resets_the_state_every_step",
        "lstm_forward",
        edits=[
            (
                "for t in range(steps):\n",
                "for t in range(steps):\n        h, c = np.zeros((n, units)), np.zeros((n, units))\n",
            )
        ],
        words="starts again from the zero state",
        check="test_lstm_forward_outputs",
    ),
    Mistake(
        "forward_returns_the_last_output_only",
        "lstm_forward",
        edits=[(_RETURN, "return h, h, c")],
        words="one step only",
        check="test_lstm_forward_shapes",
    ),
    Mistake(
        "forward_outputs_time_major",
        "lstm_forward",
        edits=[(_RETURN, "return outputs.transpose(1, 0, 2), h, c")],
        words="time axis first",
        check="test_lstm_forward_shapes",
    ),
    Mistake(
        "forward_swaps_the_final_states",
        "lstm_forward",
        edits=[(_RETURN, "return outputs, c, h")],
        words="where h_T belongs",
        check="test_lstm_forward_final_states",
    ),
    Mistake(  # caught by two checks: tests/checks/test_lstm.py pins each phrase to its own
        "forward_starts_from_ones",
        "lstm_forward",
        edits=[("np.zeros((n, units))", "np.ones((n, units))")],
        words=("np.zeros", "first step is wrong"),
        also={
            "test_lstm_forward_starts_from_zero_state": "np.zeros",
            "test_lstm_forward_outputs": "first step is wrong",
        },
    ),
    Mistake(
        "windows_target_is_the_last_value_of_the_window",
        "make_windows",
        edits=[("y = series[window:]", "y = series[window - 1 : -1]")],
        words="last value of window i",
        check="test_make_windows_values",
        sample=True,
    ),
    Mistake(
        "windows_without_the_feature_axis",
        "make_windows",
        edits=[("return X[:, :, None], y", "return X, y")],
        words="trailing axis",
        check="test_make_windows_shapes",
    ),
    Mistake(
        "windows_one_too_few",
        "make_windows",
        edits=[
            ("n = len(series) - window\n", "n = len(series) - window - 1\n"),
            ("y = series[window:]", "y = series[window : window + n]"),
        ],
        words="one window too few",
        check="test_make_windows_shapes",
    ),
    Mistake(
        "build_dense_output_of_window_size",
        "build_lstm_model",
        edits=[("keras.layers.Dense(1)", "keras.layers.Dense(window)")],
        words="Dense(1)",
        check="test_build_lstm_model_input_and_output_shapes",
    ),
    Mistake(
        "build_returns_a_sequence",
        "build_lstm_model",
        edits=[(_LSTM, "keras.layers.LSTM(units, return_sequences=True)")],
        words="return_sequences=False",
        check="test_build_lstm_model_input_and_output_shapes",
    ),
    Mistake(
        "build_mae_loss",
        "build_lstm_model",
        edits=[('loss="mse"', 'loss="mae"')],
        words="'mae'",
        check="test_build_lstm_model_uses_mse_loss",
    ),
    Mistake(
        "build_categorical_crossentropy",
        "build_lstm_model",
        edits=[
            ("keras.layers.Dense(1)", 'keras.layers.Dense(1, activation="softmax")'),
            ('loss="mse"', 'loss="categorical_crossentropy"'),
        ],
        words="class probabilities",
        check="test_build_lstm_model_uses_mse_loss",
    ),
    Mistake(
        "build_dense_layers_only",
        "build_lstm_model",
        edits=[(_LSTM, 'keras.layers.Flatten(), keras.layers.Dense(units, activation="relu")')],
        words="Flatten",
        check="test_build_lstm_model_has_an_lstm_layer",
    ),
    Mistake(
        "build_ignores_units",
        "build_lstm_model",
        edits=[(_LSTM, "keras.layers.LSTM(32)")],
        words="Pass units",
        check="test_build_lstm_model_units_sets_the_size",
    ),
    Mistake(
        "build_far_too_large",
        "build_lstm_model",
        edits=[(_LSTM, "keras.layers.LSTM(units * 16)")],
        words="at most 100,000",
        check="test_build_lstm_model_parameter_budget",
    ),
    Mistake(  # a model that does not learn within the grader's budget
        "build_does_not_learn",
        "build_lstm_model",
        edits=[
            (
                "keras.optimizers.Adam(learning_rate=0.005)",
                "keras.optimizers.SGD(learning_rate=1e-4)",
            )
        ],
        words="times that of the naive forecast",
        check="test_build_lstm_model_beats_naive_forecast",
        slow=True,
    ),
    Mistake(  # cannot learn, and passes every other check of build_lstm_model (test_lstm.py)
        "lstm_model_cannot_learn_learning_rate_0",
        "build_lstm_model",
        edits=[
            (
                "keras.optimizers.Adam(learning_rate=0.005)",
                "keras.optimizers.Adam(learning_rate=0.0)",
            )
        ],
        words="learned nothing",
        check="test_build_lstm_model_beats_naive_forecast",
        slow=True,
        learns=False,
    ),
    Mistake(  # cannot learn: every layer frozen
        "lstm_model_cannot_learn_frozen_layers",
        "build_lstm_model",
        edits=[("    model.compile(", "    model.trainable = False\n    model.compile(")],
        words="learned nothing",
        check="test_build_lstm_model_beats_naive_forecast",
        slow=True,
        learns=False,
    ),
]

ALTERNATIVES = [
    Alternative(
        "inlined_forward_with_sliced_gates_and_exp_sigmoid",
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
    ),
    Alternative(
        "per_gate_weight_blocks_and_time_major_then_transposed",
        """
def lstm_cell_forward(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    W = np.hsplit(kernel, 4)
    U = np.hsplit(recurrent_kernel, 4)
    b = np.split(bias, 4)
    pre = [x_t @ W[k] + h_prev @ U[k] + b[k] for k in range(4)]
    i, f, o = (np.exp(-np.logaddexp(0, -pre[k])) for k in (0, 1, 3))
    c_t = f * c_prev + i * np.tanh(pre[2])
    return o * np.tanh(c_t), c_t


def lstm_forward(x, kernel, recurrent_kernel, bias):
    x_time_major = np.transpose(x, (1, 0, 2))
    state = (np.zeros((x.shape[0], recurrent_kernel.shape[0])),) * 2
    outputs = []
    for x_t in x_time_major:
        state = lstm_cell_forward(x_t, state[0], state[1], kernel, recurrent_kernel, bias)
        outputs.append(state[0])
    return np.transpose(np.array(outputs), (1, 0, 2)), state[0], state[1]
""",
    ),
    Alternative(
        "windows_with_sliding_window_view",
        """
def make_windows(series, window):
    views = np.lib.stride_tricks.sliding_window_view(np.asarray(series, dtype=float), window)
    return views[:-1, :, np.newaxis].copy(), series[window:]
""",
    ),
    Alternative(
        "windows_with_lists_and_reshape",
        """
def make_windows(series, window):
    X, y = [], []
    for i in range(len(series) - window):
        X.append(list(series[i : i + window]))
        y.append(series[i + window])
    return np.array(X).reshape(-1, window, 1), np.array(y)
""",
    ),
    Alternative(  # builders: only the check that trains them tells
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
        slow=True,
    ),
    Alternative(
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
        slow=True,
    ),
]

_KERNELS = (np.zeros((2, 12)), np.zeros((3, 12)), np.zeros(12))
CALLS = {
    "lstm_cell_forward": (np.zeros((1, 2)), np.zeros((1, 3)), np.zeros((1, 3)), *_KERNELS),
    "lstm_forward": (np.zeros((1, 4, 2)), *_KERNELS),
    "make_windows": (np.arange(6.0), 3),
    "build_lstm_model": (12,),
}
