"""Known mistakes and correct alternatives of ``gradient_descent`` (see :mod:`autograder.cases`)."""

import numpy as np

from autograder.cases import Alternative, Mistake

_LOSS_LINE = "        losses[epoch] = mse_loss(y, predict(X, w, b))\n"
_GRADIENT_LINE = "        dw, db = mse_gradients(X, y, w, b)\n"
_BIAS_STEP = "        b = b - learning_rate * db\n"

MISTAKES = [
    Mistake(
        "predict_without_bias",
        "predict",
        edits=[("return X @ w + b", "return X @ w")],
        words="add the bias b",
        sample=True,
    ),
    Mistake(
        "predict_squeezes_to_scalar",
        "predict",
        edits=[("return X @ w + b", "return np.squeeze(X @ w.reshape(-1, 1)) + b")],
    ),
    Mistake(
        "mse_loss_sum_not_mean",
        "mse_loss",
        edits=[("np.mean(err**2)", "np.sum(err**2)")],
        words="sum of the squared errors",
    ),
    Mistake(
        "mse_loss_absolute_error",
        "mse_loss",
        edits=[("np.mean(err**2)", "np.mean(np.abs(err))")],
        words="mean absolute error",
    ),
    Mistake(
        "mse_loss_per_example",
        "mse_loss",
        edits=[("return float(np.mean(err**2))", "return err**2")],
        words="one squared error per example",
    ),
    Mistake(
        "mse_loss_in_place",
        "mse_loss",
        edits=[("err = y_pred - y_true", "y_pred -= y_true\n    err = y_pred")],
    ),
    Mistake(  # both gradients without the 2 of the square
        "gradients_missing_factor_2",
        "mse_gradients",
        edits=[("2.0 / n", "1.0 / n")],
        words="factor 2",
    ),
    Mistake(  # 2 times the plain sums
        "gradients_sum_not_mean",
        "mse_gradients",
        edits=[("2.0 / n", "2.0")],
        words="n times too large",
    ),
    Mistake(
        "gradients_wrong_sign",
        "mse_gradients",
        edits=[("err = predict(X, w, b) - y", "err = y - predict(X, w, b)")],
        words="wrong sign",
    ),
    Mistake(
        "gradients_dw_divided_by_d",
        "mse_gradients",
        edits=[("dw = 2.0 / n", "dw = 2.0 / X.shape[1]")],
        words="number of features d",
    ),
    Mistake(  # a single number for dw
        "gradients_dw_mean_over_everything",
        "mse_gradients",
        edits=[("dw = 2.0 / n * (X.T @ err)", "dw = 2.0 * np.mean(X * err[:, None])")],
    ),
    Mistake(
        "gradients_db_without_factor_2",
        "mse_gradients",
        edits=[("db = 2.0 / n", "db = 1.0 / n")],
    ),
    Mistake(
        "descent_records_loss_after_step",
        "gradient_descent",
        edits=[(_LOSS_LINE, ""), (_BIAS_STEP, _BIAS_STEP + _LOSS_LINE)],
        words="before stepping",
    ),
    Mistake(
        "descent_starts_at_ones",
        "gradient_descent",
        edits=[("w = np.zeros(X.shape[1])", "w = np.ones(X.shape[1])"), ("b = 0.0", "b = 1.0")],
    ),
    Mistake(
        "descent_steps_uphill",
        "gradient_descent",
        edits=[("- learning_rate *", "+ learning_rate *")],
        words="uphill",
    ),
    Mistake(
        "descent_never_updates_bias",
        "gradient_descent",
        edits=[(_BIAS_STEP, "")],
        words="b did not move",
    ),
    Mistake(
        "descent_uses_gradient_at_start_every_epoch",
        "gradient_descent",
        edits=[
            (_GRADIENT_LINE, ""),
            (
                "    for epoch in range(n_epochs):\n",
                _GRADIENT_LINE[4:] + "    for epoch in range(n_epochs):\n",
            ),
        ],
    ),
    Mistake(  # n_epochs + 1 losses: the loss after the last step too
        "descent_records_final_loss_too",
        "gradient_descent",
        edits=[
            ("losses = np.zeros(n_epochs)", "losses = np.zeros(n_epochs + 1)"),
            (
                "    return w, b, losses",
                "    losses[n_epochs] = mse_loss(y, predict(X, w, b))\n    return w, b, losses",
            ),
        ],
    ),
    Mistake(
        "descent_centres_X_in_place",
        "gradient_descent",
        edits=[
            (
                "    w = np.zeros(X.shape[1])",
                "    X -= X.mean(axis=0)\n    w = np.zeros(X.shape[1])",
            )
        ],
        words="modified its argument `X`",
    ),
]

ALTERNATIVES = [
    Alternative(
        "loops_over_examples",
        """
def predict(X, w, b):
    out = np.zeros(len(X))
    for i in range(len(X)):
        for j in range(len(w)):
            out[i] += X[i, j] * w[j]
        out[i] += b
    return out

def mse_loss(y_true, y_pred):
    total = 0.0
    for t, p in zip(y_true, y_pred):
        total += (p - t) ** 2
    return total / len(y_true)

def mse_gradients(X, y, w, b):
    n, d = X.shape
    dw, db = [0.0] * d, 0.0
    for i in range(n):
        e = sum(X[i, j] * w[j] for j in range(d)) + b - y[i]
        for j in range(d):
            dw[j] += 2 * e * X[i, j] / n
        db += 2 * e / n
    return np.array(dw), db
""",
    ),
    Alternative(
        "broadcast_mean_and_numpy_scalars",
        """
def mse_loss(y_true, y_pred):
    return np.mean(np.square(y_true - y_pred))

def mse_gradients(X, y, w, b):
    err = predict(X, w, b) - y
    return np.mean(2 * err[:, None] * X, axis=0), np.mean(2 * err)
""",
    ),
    Alternative(
        "dot_and_einsum",
        """
def predict(X, w, b):
    return np.einsum("nd,d->n", X, w) + b

def mse_loss(y_true, y_pred):
    err = np.asarray(y_pred) - np.asarray(y_true)
    return np.dot(err, err) / err.size

def mse_gradients(X, y, w, b):
    err = predict(X, w, b) - y
    return 2 * np.dot(err, X) / len(y), np.array(2 * err.sum() / len(y))
""",
    ),
    Alternative(
        "descent_in_place_with_list_and_list_result",
        """
def gradient_descent(X, y, learning_rate, n_epochs):
    w = np.zeros(X.shape[1])
    b = np.float64(0)
    losses = []
    for _ in range(n_epochs):
        losses.append(mse_loss(y, predict(X, w, b)))
        dw, db = mse_gradients(X, y, w, b)
        w -= learning_rate * dw
        b -= learning_rate * db
    return [w, np.array([b]), losses]
""",
    ),
    Alternative(
        "descent_with_inline_gradients",
        """
def gradient_descent(X, y, learning_rate, n_epochs):
    n, d = X.shape
    params = np.zeros(d + 1)
    A = np.hstack([X, np.ones((n, 1))])
    losses = np.empty(n_epochs)
    for k in range(n_epochs):
        err = A @ params - y
        losses[k] = err @ err / n
        params = params - learning_rate * (2 / n) * (A.T @ err)
    return params[:d], float(params[d]), losses.tolist()
""",
    ),
]

_X, _y = np.zeros((2, 3)), np.zeros(2)
CALLS = {
    "predict": (_X, np.zeros(3), 0.0),
    "mse_loss": (_y, _y),
    "mse_gradients": (_X, _y, np.zeros(3), 0.0),
    "gradient_descent": (_X, _y, 0.1, 1),
}
