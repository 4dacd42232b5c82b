"""Tasks on the student's Keras model builders: shapes, predictions, training.

Every task takes the builder's name and its arguments, builds a fresh model
with the grader's seed, and returns plain data. A builder that returns several
models (the autoencoder's ``(autoencoder, encoder, decoder)``) is indexed with ``pick``.
"""

from __future__ import annotations

import numpy as np

TASKS = ("model_info", "predict", "fit_predict")


def _build(namespace: dict, builder: str, args, kwargs, pick, seed: int):
    import keras

    if not callable(namespace.get(builder)):
        raise NameError(f"name '{builder}' is not defined")
    keras.utils.set_random_seed(int(seed))
    built = namespace[builder](*(args or ()), **(kwargs or {}))
    if pick is not None:
        if not isinstance(built, tuple | list) or len(built) <= pick:
            raise TypeError(
                f"{builder} should return a tuple of models; got {type(built).__name__}"
            )
        built = built[pick]
    if not isinstance(built, keras.Model):
        raise TypeError(f"{builder} should return a keras Model; got {type(built).__name__}")
    return built


def _shape(shape) -> list:
    if isinstance(shape, list | tuple) and shape and isinstance(shape[0], list | tuple):
        shape = shape[0]
    return [None if d is None else int(d) for d in shape]


def _loss_name(model) -> str | None:
    loss = getattr(model, "loss", None)
    if loss is None:
        return None
    if isinstance(loss, str):
        return loss
    name = getattr(loss, "name", None) or getattr(loss, "__name__", None)
    return str(name or type(loss).__name__)


def model_info(namespace: dict, builder: str, args=(), kwargs=None, pick=None, seed: int = 0):
    """What a check needs to know of a built model, without training it.

    Returns:
        ``{"input_shape", "output_shape", "n_params", "compiled", "loss",
        "layers": [class names], "output_activation"}``.
    """
    model = _build(namespace, builder, args, kwargs, pick, seed)
    last = model.layers[-1] if model.layers else None
    activation = getattr(last, "activation", None)
    return {
        "input_shape": _shape(model.input_shape),
        "output_shape": _shape(model.output_shape),
        "n_params": int(model.count_params()),
        "compiled": bool(getattr(model, "compiled", False) or getattr(model, "optimizer", None)),
        "loss": _loss_name(model),
        "layers": [type(layer).__name__ for layer in model.layers],
        "output_activation": getattr(activation, "__name__", None) if activation else None,
    }


def predict(namespace: dict, builder: str, x, args=(), kwargs=None, pick=None, seed: int = 0):
    """The untrained model's outputs for ``x`` (float32)."""
    model = _build(namespace, builder, args, kwargs, pick, seed)
    return np.asarray(model.predict(np.asarray(x, dtype="float32"), verbose=0), dtype=float)


def fit_predict(
    namespace: dict,
    builder: str,
    x_train,
    y_train,
    x_test,
    epochs: int,
    args=(),
    kwargs=None,
    pick=None,
    batch_size: int = 32,
    seed: int = 0,
):
    """Train a fresh model on the grader's data and budget; its outputs for ``x_test``.

    The model is trained as compiled by the student (their loss and optimizer),
    with the grader's seed, epochs and batch size.
    """
    model = _build(namespace, builder, args, kwargs, pick, seed)
    model.fit(
        np.asarray(x_train, dtype="float32"),
        np.asarray(y_train, dtype="float32"),
        epochs=int(epochs),
        batch_size=int(batch_size),
        verbose=0,
        shuffle=True,
    )
    return np.asarray(model.predict(np.asarray(x_test, dtype="float32"), verbose=0), dtype=float)
