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


def _all_layers(model) -> list:
    """Every layer inside ``model``, nested models' layers included (not the model itself)."""
    flatten = getattr(model, "_flatten_layers", None)
    if callable(flatten):
        return list(flatten(include_self=False, recursive=True))
    found, stack = [], list(getattr(model, "layers", []))
    while stack:
        layer = stack.pop()
        found.append(layer)
        stack.extend(getattr(layer, "layers", []))
    return found


def _lineage(layer) -> list[str]:
    """The names of a layer's class and of its base classes up to ``Layer``."""
    names = []
    for cls in type(layer).__mro__:
        names.append(cls.__name__)
        if cls.__name__ == "Layer":
            break
    return names


def _from_logits(loss) -> bool | None:
    """Whether the compiled loss expects logits; ``None`` when it cannot tell."""
    if loss is None:
        return None
    if isinstance(loss, str):
        return False  # a loss given by name uses its defaults: probabilities
    value = getattr(loss, "from_logits", None)
    if value is None:
        get_config = getattr(loss, "get_config", None)
        try:
            config = get_config() if callable(get_config) else {}
        except Exception:  # a loss function or a custom object without a config
            config = {}
        value = config.get("from_logits") if isinstance(config, dict) else None
    if value is None and callable(loss):
        return False  # a plain loss function such as keras.losses.categorical_crossentropy
    return None if value is None else bool(value)


def _loss_function(loss) -> str | None:
    """The name of the function a loss object wraps (or of the loss, for a function)."""
    wrapped = getattr(loss, "fn", None)
    if callable(loss) and not callable(wrapped):
        wrapped = loss
    return str(getattr(wrapped, "__name__", ""))[:60] or None


def _attribute(model, name: str):
    try:
        return getattr(model, name)
    except Exception:  # a subclassed or input-less model has no shapes until it is called
        return None


def _batchless(shape) -> list | None:
    """A shape with its batch axis as None: a model first called on a batch records its size."""
    if shape is None:
        return None
    shape = _shape(shape)
    return [None, *shape[1:]] if shape else shape


def describe(model, seen_input=None, seen_output=None) -> dict:
    """What a check needs to know of a model, as plain data.

    A model without declared shapes (a subclassed ``keras.Model``, a ``Sequential``
    without an ``Input``) is described by the shapes of an input it was called on
    and of the output it gave, where given.

    Returns:
        ``{"input_shape", "output_shape", "n_params", "compiled", "loss",
        "loss_class", "loss_function", "from_logits", "layers": [top-level class
        names], "all_layers": [class names, nested models' layers included],
        "lineages": [[class and base class names] per layer of all_layers],
        "output_activation"}``.
    """
    input_shape = _attribute(model, "input_shape")
    output_shape = _attribute(model, "output_shape")
    if input_shape is None and seen_input is not None:
        input_shape = np.shape(seen_input)
    if output_shape is None and seen_output is not None:
        output_shape = np.shape(seen_output)
    try:
        n_params = int(model.count_params())
    except Exception:  # not built yet
        n_params = None
    loss = getattr(model, "loss", None)
    last = model.layers[-1] if model.layers else None
    activation = getattr(last, "activation", None)
    layers = _all_layers(model)
    return {
        "input_shape": _batchless(input_shape),
        "output_shape": _batchless(output_shape),
        "n_params": n_params,
        "compiled": bool(getattr(model, "compiled", False) or getattr(model, "optimizer", None)),
        "loss": _loss_name(model),
        "loss_class": type(loss).__name__[:60] if loss is not None else None,
        "loss_function": _loss_function(loss),
        "from_logits": _from_logits(loss),
        "layers": [type(layer).__name__ for layer in model.layers],
        "all_layers": [type(layer).__name__ for layer in layers],
        "lineages": [_lineage(layer) for layer in layers],
        "output_activation": getattr(activation, "__name__", None) if activation else None,
    }


def model_info(namespace: dict, builder: str, args=(), kwargs=None, pick=None, seed: int = 0):
    """What a check needs to know of a built model, without training it: see :func:`describe`."""
    return describe(_build(namespace, builder, args, kwargs, pick, seed))


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
