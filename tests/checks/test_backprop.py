"""The hidden checks of ``backprop`` against the reference, the stubs, mistakes and alternatives."""

from __future__ import annotations

import numpy as np
import pytest

from tests.harness import (
    FLOAT_RUN,
    assert_caught_helpfully,
    messages_with_float_arrays,
    reference,
    released,
    score,
)

ASSIGNMENT = "backprop"
FUNCTIONS = ("sigmoid", "init_params", "forward", "mse_loss", "backward", "train")

# Plain sigmoid formulas overflow on purpose in some of the submissions below.
pytestmark = pytest.mark.filterwarnings(
    "ignore:overflow encountered:RuntimeWarning", "ignore:invalid value encountered:RuntimeWarning"
)


# ---------------------------------------------------------------------------
# Common mistakes: (id, function, replacement source).
# ---------------------------------------------------------------------------

MUTANTS = [
    (
        "sigmoid_overflows_to_nan",
        "sigmoid",
        """
def sigmoid(z):
    ez = np.exp(z)
    return ez / (1 + ez)
""",
    ),
    (
        "init_params_nonzero_biases",
        "init_params",
        """
def init_params(n_in, n_hidden, n_out, seed=0):
    rng = np.random.default_rng(seed)
    return {"W1": rng.normal(size=(n_in, n_hidden)), "b1": rng.normal(size=n_hidden),
            "W2": rng.normal(size=(n_hidden, n_out)), "b2": rng.normal(size=n_out)}
""",
    ),
    (
        "init_params_zero_weights",
        "init_params",
        """
def init_params(n_in, n_hidden, n_out, seed=0):
    return {"W1": np.zeros((n_in, n_hidden)), "b1": np.zeros(n_hidden),
            "W2": np.zeros((n_hidden, n_out)), "b2": np.zeros(n_out)}
""",
    ),
    (
        "init_params_global_random_state",
        "init_params",
        """
def init_params(n_in, n_hidden, n_out, seed=0):
    return {"W1": np.random.randn(n_in, n_hidden) * 0.1, "b1": np.zeros(n_hidden),
            "W2": np.random.randn(n_hidden, n_out) * 0.1, "b2": np.zeros(n_out)}
""",
    ),
    (
        "forward_missing_b1",
        "forward",
        """
def forward(X, params):
    Z1 = X @ params["W1"]
    A1 = sigmoid(Z1)
    Z2 = A1 @ params["W2"] + params["b2"]
    Y_hat = sigmoid(Z2)
    return Y_hat, {"Z1": Z1, "A1": A1, "Z2": Z2, "Y_hat": Y_hat}
""",
    ),
    (
        "mse_loss_mean_over_rows_only",
        "mse_loss",
        """
def mse_loss(y_true, y_pred):
    return np.mean(np.sum((y_pred - y_true) ** 2, axis=1))
""",
    ),
    (
        "backward_transposed_weight_gradient",
        "backward",
        """
def backward(X, Y, params, cache):
    A1, Y_hat = cache["A1"], cache["Y_hat"]
    dZ2 = 2.0 * (Y_hat - Y) / Y_hat.size * Y_hat * (1.0 - Y_hat)
    dA1 = dZ2 @ params["W2"].T
    dZ1 = dA1 * A1 * (1.0 - A1)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": dZ2.T @ A1, "b2": dZ2.sum(axis=0)}
""",
    ),
    (
        "backward_bias_summed_over_columns",
        "backward",
        """
def backward(X, Y, params, cache):
    A1, Y_hat = cache["A1"], cache["Y_hat"]
    dZ2 = 2.0 * (Y_hat - Y) / Y_hat.size * Y_hat * (1.0 - Y_hat)
    dA1 = dZ2 @ params["W2"].T
    dZ1 = dA1 * A1 * (1.0 - A1)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=1), "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=1)}
""",
    ),
    (
        "backward_missing_output_sigmoid_derivative",
        "backward",
        """
def backward(X, Y, params, cache):
    A1, Y_hat = cache["A1"], cache["Y_hat"]
    dZ2 = 2.0 * (Y_hat - Y) / Y_hat.size
    dA1 = dZ2 @ params["W2"].T
    dZ1 = dA1 * A1 * (1.0 - A1)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=0)}
""",
    ),
    (
        "backward_hidden_derivative_of_activations",
        "backward",
        """
def backward(X, Y, params, cache):
    A1, Y_hat = cache["A1"], cache["Y_hat"]
    dZ2 = 2.0 * (Y_hat - Y) / Y_hat.size * Y_hat * (1.0 - Y_hat)
    dA1 = dZ2 @ params["W2"].T
    dZ1 = dA1 * sigmoid(A1) * (1.0 - sigmoid(A1))
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=0)}
""",
    ),
    (
        "backward_forgets_the_mean",
        "backward",
        """
def backward(X, Y, params, cache):
    A1, Y_hat = cache["A1"], cache["Y_hat"]
    dZ2 = 2.0 * (Y_hat - Y) * Y_hat * (1.0 - Y_hat)
    dA1 = dZ2 @ params["W2"].T
    dZ1 = dA1 * A1 * (1.0 - A1)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=0)}
""",
    ),
    (
        "backward_divides_by_rows_only",
        "backward",
        """
def backward(X, Y, params, cache):
    A1, Y_hat = cache["A1"], cache["Y_hat"]
    dZ2 = 2.0 * (Y_hat - Y) / X.shape[0] * Y_hat * (1.0 - Y_hat)
    dA1 = dZ2 @ params["W2"].T
    dZ1 = dA1 * A1 * (1.0 - A1)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=0)}
""",
    ),
    (
        "backward_modifies_the_cache",
        "backward",
        """
def backward(X, Y, params, cache):
    A1, Y_hat = cache["A1"], cache["Y_hat"]
    error = Y_hat
    error -= Y
    Y_hat = error + Y
    dZ2 = 2.0 * error / Y_hat.size * Y_hat * (1.0 - Y_hat)
    dA1 = dZ2 @ params["W2"].T
    dZ1 = dA1 * A1 * (1.0 - A1)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=0)}
""",
    ),
    (
        "train_records_loss_after_update",
        "train",
        """
def train(X, Y, n_hidden, learning_rate, n_epochs, seed=0):
    params = init_params(X.shape[1], n_hidden, Y.shape[1], seed=seed)
    losses = []
    for epoch in range(n_epochs):
        Y_hat, cache = forward(X, params)
        grads = backward(X, Y, params, cache)
        params = {k: params[k] - learning_rate * grads[k] for k in params}
        losses.append(mse_loss(Y, forward(X, params)[0]))
    return params, np.array(losses)
""",
    ),
    (
        "train_ignores_seed",
        "train",
        """
def train(X, Y, n_hidden, learning_rate, n_epochs, seed=0):
    params = init_params(X.shape[1], n_hidden, Y.shape[1])
    losses = np.zeros(n_epochs)
    for epoch in range(n_epochs):
        Y_hat, cache = forward(X, params)
        losses[epoch] = mse_loss(Y, Y_hat)
        grads = backward(X, Y, params, cache)
        params = {k: params[k] - learning_rate * grads[k] for k in params}
    return params, losses
""",
    ),
    (
        "train_steps_up_the_gradient",
        "train",
        """
def train(X, Y, n_hidden, learning_rate, n_epochs, seed=0):
    params = init_params(X.shape[1], n_hidden, Y.shape[1], seed=seed)
    losses = np.zeros(n_epochs)
    for epoch in range(n_epochs):
        Y_hat, cache = forward(X, params)
        losses[epoch] = mse_loss(Y, Y_hat)
        grads = backward(X, Y, params, cache)
        params = {k: params[k] + learning_rate * grads[k] for k in params}
    return params, losses
""",
    ),
]

# ---------------------------------------------------------------------------
# Correct alternatives: (id, replacement sources).
# ---------------------------------------------------------------------------

ALTERNATIVES = [
    (
        "boolean_mask_sigmoid_and_backward_looping_over_samples",
        [
            """
def sigmoid(z):
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    positive = z >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-z[positive]))
    ez = np.exp(z[~positive])
    out[~positive] = ez / (1.0 + ez)
    return out
""",
            """
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
        ],
    ),
    (
        "tanh_sigmoid_glorot_init_and_numpy_scalar_loss",
        [
            """
def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(np.asarray(z) / 2.0))
""",
            """
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
""",
            """
def mse_loss(y_true, y_pred):
    return np.square(np.subtract(y_pred, y_true)).mean()
""",
        ],
    ),
    (
        "plain_sigmoid_overflowing_to_zero",
        [
            """
def sigmoid(z):
    return 1 / (1 + np.exp(-z))
"""
        ],
    ),
    (
        "einsum_gradients_tuple_cache_in_place_updates_and_list_losses",
        [
            """
def forward(X, params):
    A1 = sigmoid(np.einsum("nd,dh->nh", X, params["W1"]) + params["b1"])
    Y_hat = sigmoid(np.einsum("nh,ho->no", A1, params["W2"]) + params["b2"])
    return Y_hat, (A1, Y_hat)
""",
            """
def backward(X, Y, params, cache):
    A1, Y_hat = cache
    dZ2 = 2 * (Y_hat - Y) * Y_hat * (1 - Y_hat) / np.prod(Y_hat.shape)
    dZ1 = np.einsum("no,ho->nh", dZ2, params["W2"]) * A1 * (1 - A1)
    return {
        "W1": np.einsum("nd,nh->dh", X, dZ1), "b1": np.einsum("nh->h", dZ1),
        "W2": np.einsum("nh,no->ho", A1, dZ2), "b2": np.einsum("no->o", dZ2),
    }
""",
            """
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
        ],
    ),
]


@pytest.fixture(scope="module")
def mutant_results() -> dict:
    return {
        mutant_id: score(ASSIGNMENT, reference(ASSIGNMENT, source), seed=7)
        for mutant_id, _, source in MUTANTS
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_gets_full_marks(seed):
    results = score(ASSIGNMENT, reference(ASSIGNMENT), seed=seed)
    failed = {name: r.output for name, r in results.items() if not r.passed}
    assert not failed
    total = sum(r.max_score for r in results.values())
    assert 15 <= total <= 30
    for name in results:
        assert any(name.startswith(f"test_{function}_") for function in FUNCTIONS), name


def test_stub_functions_raise_not_implemented():
    stub = released(ASSIGNMENT)
    for function in FUNCTIONS:
        with pytest.raises(NotImplementedError):
            _raise_from(stub, function)


def _raise_from(namespace: dict, function: str) -> None:
    arguments = {
        "sigmoid": (np.zeros(2),),
        "init_params": (2, 3, 1),
        "forward": (np.zeros((1, 2)), {}),
        "mse_loss": (np.zeros(2), np.zeros(2)),
        "backward": (np.zeros((1, 2)), np.zeros((1, 1)), {}, {}),
        "train": (np.zeros((1, 2)), np.zeros((1, 1)), 2, 0.1, 1),
    }
    namespace[function](*arguments[function])


@pytest.mark.parametrize(
    ("mutant_id", "function"),
    [(mutant_id, function) for mutant_id, function, _ in MUTANTS],
    ids=[mutant_id for mutant_id, _, _ in MUTANTS],
)
def test_mutant_fails_a_check_of_its_function(mutant_results, mutant_id, function):
    assert_caught_helpfully(mutant_results[mutant_id], function, FUNCTIONS, mutant_id)


@pytest.mark.parametrize(
    ("mutant_id", "check"),
    [
        ("sigmoid_overflows_to_nan", "test_sigmoid_finite_for_large_inputs"),
        ("init_params_nonzero_biases", "test_init_params_zero_biases"),
        ("init_params_zero_weights", "test_init_params_random_weights"),
        ("init_params_global_random_state", "test_init_params_seed_reproducible"),
        ("forward_missing_b1", "test_forward_matches_reference"),
        ("mse_loss_mean_over_rows_only", "test_mse_loss_averages_over_all_entries"),
        ("backward_transposed_weight_gradient", "test_backward_gradient_shapes"),
        ("backward_bias_summed_over_columns", "test_backward_gradient_shapes"),
        ("backward_missing_output_sigmoid_derivative", "test_backward_output_layer_gradients"),
        ("backward_hidden_derivative_of_activations", "test_backward_hidden_layer_gradients"),
        ("backward_forgets_the_mean", "test_backward_gradients_match_finite_differences"),
        ("backward_modifies_the_cache", "test_backward_does_not_modify_inputs"),
        ("train_records_loss_after_update", "test_train_first_loss_is_initial_loss"),
        ("train_ignores_seed", "test_train_first_loss_is_initial_loss"),
        ("train_steps_up_the_gradient", "test_train_loss_decreases"),
    ],
)
def test_mutant_is_caught_by_the_check_meant_for_it(mutant_results, mutant_id, check):
    assert not mutant_results[mutant_id][check].passed


@pytest.mark.parametrize(
    ("mutant_id", "check", "words"),
    [
        ("forward_missing_b1", "test_forward_matches_reference", "without b1"),
        ("backward_forgets_the_mean", "test_backward_output_layer_gradients", "constant multiple"),
        ("backward_forgets_the_mean", "test_backward_hidden_layer_gradients", "constant multiple"),
        (
            "backward_hidden_derivative_of_activations",
            "test_backward_hidden_layer_gradients",
            "hidden layer",
        ),
        (
            "train_records_loss_after_update",
            "test_train_first_loss_is_initial_loss",
            "after the first step",
        ),
        ("train_ignores_seed", "test_train_first_loss_is_initial_loss", "seed"),
    ],
)
def test_mutant_message_points_at_the_mistake(mutant_results, mutant_id, check, words):
    assert words in mutant_results[mutant_id][check].output


@pytest.mark.parametrize(
    "sources", [sources for _, sources in ALTERNATIVES], ids=[alt for alt, _ in ALTERNATIVES]
)
def test_correct_alternative_gets_full_marks(sources):
    results = score(ASSIGNMENT, reference(ASSIGNMENT, *sources), seed=5)
    failed = {name: r.output for name, r in results.items() if not r.passed}
    assert not failed


def test_messages_contain_no_float_arrays(mutant_results):
    assert FLOAT_RUN.search(str(np.linspace(0.1, 0.9, 5)))  # the pattern does find arrays
    assert not messages_with_float_arrays(mutant_results)


def _formats(value: float) -> list[str]:
    # The messages print numbers with 6 significant digits; 5 still pins the value down.
    return [f"{value:{spec}}" for spec in (".6g", ".5g")] + [repr(value)]


def test_messages_do_not_reveal_the_expected_loss():
    seen: list = []
    spy = """
def mse_loss(y_true, y_pred):
    _seen.append((np.array(y_true, dtype=float), np.array(y_pred, dtype=float)))
    return float(np.mean(np.sum((np.asarray(y_pred) - np.asarray(y_true)) ** 2, axis=1)))
"""
    namespace = reference(ASSIGNMENT)
    namespace["_seen"] = seen
    exec(spy, namespace)
    output = score(ASSIGNMENT, namespace, seed=11)["test_mse_loss_averages_over_all_entries"].output
    assert seen and "not correct" in output
    y_true, y_pred = seen[0]
    expected = float(np.mean((y_pred - y_true) ** 2))
    for text in _formats(expected):
        assert text not in output, (text, output)


def test_messages_do_not_reveal_the_expected_first_loss():
    seen: list = []
    spy = """
def train(X, Y, n_hidden, learning_rate, n_epochs, seed=0):
    _seen.append((np.array(X), np.array(Y), n_hidden, seed))
    params = init_params(X.shape[1], n_hidden, Y.shape[1], seed=seed + 1)
    losses = np.zeros(n_epochs)
    for epoch in range(n_epochs):
        Y_hat, cache = forward(X, params)
        losses[epoch] = mse_loss(Y, Y_hat)
        grads = backward(X, Y, params, cache)
        params = {k: params[k] - learning_rate * grads[k] for k in params}
    return params, losses
"""
    namespace = reference(ASSIGNMENT)
    namespace["_seen"] = seen
    exec(spy, namespace)
    output = score(ASSIGNMENT, namespace, seed=13)["test_train_first_loss_is_initial_loss"].output
    assert seen and "not correct" in output
    X, Y, n_hidden, seed = seen[0]
    start = namespace["init_params"](X.shape[1], n_hidden, Y.shape[1], seed=seed)
    expected = namespace["mse_loss"](Y, namespace["forward"](X, start)[0])
    for text in _formats(expected):
        assert text not in output, (text, output)
