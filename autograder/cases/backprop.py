"""Known mistakes and correct alternatives of ``backprop`` (see :mod:`autograder.cases`)."""

import numpy as np

from autograder.cases import Alternative, Mistake

_DZ2 = "dZ2 = 2.0 * (Y_hat - Y) / Y_hat.size"
_STEP = "params[name] - learning_rate * grads[name] for name in params}\n"

MISTAKES = [
    Mistake(
        "sigmoid_overflows_to_nan",
        "sigmoid",
        edits=[
            (
                "    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows\n"
                "    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
                "    ez = np.exp(z)\n    return ez / (1 + ez)",
            )
        ],
        check="test_sigmoid_finite_for_large_inputs",
    ),
    Mistake(
        "init_params_nonzero_biases",
        "init_params",
        edits=[
            ('"b1": np.zeros(n_hidden)', '"b1": rng.normal(size=n_hidden)'),
            ('"b2": np.zeros(n_out)', '"b2": rng.normal(size=n_out)'),
        ],
        check="test_init_params_zero_biases",
    ),
    Mistake(
        "init_params_zero_weights",
        "init_params",
        edits=[
            ("rng.normal(size=(n_in, n_hidden)) / np.sqrt(n_in)", "np.zeros((n_in, n_hidden))"),
            (
                "rng.normal(size=(n_hidden, n_out)) / np.sqrt(n_hidden)",
                "np.zeros((n_hidden, n_out))",
            ),
        ],
        check="test_init_params_random_weights",
    ),
    Mistake(
        "init_params_global_random_state",
        "init_params",
        edits=[("rng.normal(", "np.random.normal(")],
        check="test_init_params_seed_reproducible",
    ),
    Mistake(
        "forward_missing_b1",
        "forward",
        edits=[('Z1 = X @ params["W1"] + params["b1"]', 'Z1 = X @ params["W1"]')],
        words="without b1",
        check="test_forward_matches_reference",
        sample=True,
    ),
    Mistake(
        "mse_loss_mean_over_rows_only",
        "mse_loss",
        edits=[("np.mean(diff**2)", "np.mean(np.sum(diff**2, axis=1))")],
        check="test_mse_loss_averages_over_all_entries",
    ),
    Mistake(
        "backward_transposed_weight_gradient",
        "backward",
        edits=[("dW2 = A1.T @ dZ2", "dW2 = dZ2.T @ A1")],
        check="test_backward_gradient_shapes",
    ),
    Mistake(
        "backward_bias_summed_over_columns",
        "backward",
        edits=[("sum(axis=0)", "sum(axis=1)")],
        check="test_backward_gradient_shapes",
    ),
    Mistake(
        "backward_missing_output_sigmoid_derivative",
        "backward",
        edits=[(_DZ2 + " * Y_hat * (1.0 - Y_hat)", _DZ2)],
        check="test_backward_output_layer_gradients",
    ),
    Mistake(
        "backward_hidden_derivative_of_activations",
        "backward",
        edits=[("dZ1 = dA1 * A1 * (1.0 - A1)", "dZ1 = dA1 * sigmoid(A1) * (1.0 - sigmoid(A1))")],
        words="hidden layer",
        check="test_backward_hidden_layer_gradients",
    ),
    Mistake(  # caught by three checks: tests/checks/test_backprop.py pins the phrase to the others
        "backward_forgets_the_mean",
        "backward",
        edits=[("(Y_hat - Y) / Y_hat.size *", "(Y_hat - Y) *")],
        words="constant multiple",
        check="test_backward_gradients_match_finite_differences",
        also={
            "test_backward_output_layer_gradients": "constant multiple",
            "test_backward_hidden_layer_gradients": "constant multiple",
        },
    ),
    Mistake(
        "backward_divides_by_rows_only",
        "backward",
        edits=[("/ Y_hat.size", "/ X.shape[0]")],
    ),
    Mistake(
        "backward_modifies_the_cache",
        "backward",
        edits=[
            (
                "    " + _DZ2,
                "    error = Y_hat\n    error -= Y\n    Y_hat = error + Y\n"
                "    dZ2 = 2.0 * error / Y_hat.size",
            )
        ],
        check="test_backward_does_not_modify_inputs",
    ),
    Mistake(
        "train_records_loss_after_update",
        "train",
        edits=[
            ("        losses[epoch] = mse_loss(Y, Y_hat)\n", ""),
            (_STEP, _STEP + "        losses[epoch] = mse_loss(Y, forward(X, params)[0])\n"),
        ],
        words="after the first step",
        check="test_train_first_loss_is_initial_loss",
    ),
    Mistake(
        "train_ignores_seed",
        "train",
        edits=[("Y.shape[1], seed=seed)", "Y.shape[1])")],
        words="seed",
        check="test_train_first_loss_is_initial_loss",
    ),
    Mistake(
        "train_steps_up_the_gradient",
        "train",
        edits=[("params[name] - learning_rate", "params[name] + learning_rate")],
        check="test_train_loss_decreases",
    ),
]

ALTERNATIVES = [
    Alternative(
        "boolean_mask_sigmoid_and_backward_looping_over_samples",
        """
def sigmoid(z):
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    positive = z >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-z[positive]))
    ez = np.exp(z[~positive])
    out[~positive] = ez / (1.0 + ez)
    return out


def backward(X, Y, params, cache):
    A1, Y_hat = cache["A1"], cache["Y_hat"]
    n, n_out = Y_hat.shape
    grads = {name: np.zeros_like(value, dtype=float) for name, value in params.items()}
    for i in range(n):
        dz2 = 2.0 / (n * n_out) * (Y_hat[i] - Y[i]) * Y_hat[i] * (1.0 - Y_hat[i])
        grads["W2"] += np.outer(A1[i], dz2)
        grads["b2"] += dz2
        dz1 = (params["W2"] @ dz2) * A1[i] * (1.0 - A1[i])
        grads["W1"] += np.outer(X[i], dz1)
        grads["b1"] += dz1
    return grads
""",
    ),
    Alternative(
        "tanh_sigmoid_glorot_init_and_numpy_scalar_loss",
        """
def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(np.asarray(z) / 2.0))


def init_params(n_in, n_hidden, n_out, seed=0):
    rng = np.random.default_rng(seed)
    limit1 = np.sqrt(6.0 / (n_in + n_hidden))
    limit2 = np.sqrt(6.0 / (n_hidden + n_out))
    return {
        "W1": rng.uniform(-limit1, limit1, size=(n_in, n_hidden)),
        "b1": np.zeros((n_hidden,)),
        "W2": rng.uniform(-limit2, limit2, size=(n_hidden, n_out)),
        "b2": np.zeros((n_out,)),
    }


def mse_loss(y_true, y_pred):
    return np.square(np.subtract(y_pred, y_true)).mean()
""",
    ),
    Alternative(
        "plain_sigmoid_overflowing_to_zero",
        """
def sigmoid(z):
    return 1 / (1 + np.exp(-z))
""",
    ),
    Alternative(
        "einsum_gradients_tuple_cache_in_place_updates_and_list_losses",
        """
def forward(X, params):
    A1 = sigmoid(np.einsum("nd,dh->nh", X, params["W1"]) + params["b1"])
    Y_hat = sigmoid(np.einsum("nh,ho->no", A1, params["W2"]) + params["b2"])
    return Y_hat, (A1, Y_hat)


def backward(X, Y, params, cache):
    A1, Y_hat = cache
    dZ2 = 2 * (Y_hat - Y) * Y_hat * (1 - Y_hat) / np.prod(Y_hat.shape)
    dZ1 = np.einsum("no,ho->nh", dZ2, params["W2"]) * A1 * (1 - A1)
    return {
        "W1": np.einsum("nd,nh->dh", X, dZ1), "b1": np.einsum("nh->h", dZ1),
        "W2": np.einsum("nh,no->ho", A1, dZ2), "b2": np.einsum("no->o", dZ2),
    }


def train(X, Y, n_hidden, learning_rate, n_epochs, seed=0):
    params = init_params(X.shape[1], n_hidden, Y.shape[1], seed)
    losses = []
    for _ in range(n_epochs):
        Y_hat, cache = forward(X, params)
        losses.append(mse_loss(Y, Y_hat))
        grads = backward(X, Y, params, cache)
        for name in params:
            params[name] -= learning_rate * grads[name]
    return params, losses
""",
    ),
]

_X, _Y = np.zeros((1, 2)), np.zeros((1, 1))
CALLS = {
    "sigmoid": (np.zeros(2),),
    "init_params": (2, 3, 1),
    "forward": (_X, {}),
    "mse_loss": (np.zeros(2), np.zeros(2)),
    "backward": (_X, _Y, {}, {}),
    "train": (_X, _Y, 2, 0.1, 1),
}
