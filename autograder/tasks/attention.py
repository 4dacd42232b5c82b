"""Tasks on the student's ``TransformerBlock`` layer (the ``attention`` assignment).

The checks cannot import Keras (the grader's process needs numpy only), so these
tasks build the student's class beside their notebook, call it on the grader's
random inputs and return plain arrays. They receive a class name, constructor
keyword arguments and inputs, never an expected answer.
"""

from __future__ import annotations

import numpy as np

TASKS = ("block_outputs", "block_round_trip", "block_structure")


def _block(namespace: dict, class_name: str, kwargs: dict, seed: int):
    """A fresh instance of the student's layer class, built with the grader's seed."""
    cls = namespace.get(class_name)
    if not isinstance(cls, type):
        raise NameError(f"name '{class_name}' is not defined")
    import keras

    keras.utils.set_random_seed(int(seed))
    block = cls(**(kwargs or {}))
    if not isinstance(block, keras.layers.Layer):
        raise TypeError(
            f"{class_name}(...) should be a keras.layers.Layer; got {type(block).__name__}"
        )
    return block


def _run(block, x: np.ndarray) -> np.ndarray:
    """The block's output for ``x`` in inference mode (dropout off), as float64."""
    import keras

    output = block(keras.ops.convert_to_tensor(x), training=False)
    return np.asarray(keras.ops.convert_to_numpy(output), dtype=float)


def _sublayers(block) -> list:
    """Every layer nested in ``block`` (attention, its projections, Dense, norms...)."""
    flatten = getattr(block, "_flatten_layers", None)
    if callable(flatten):
        return list(flatten(include_self=False, recursive=True))
    return []


def _zero_all_but_layer_norms(block) -> int:
    """Set every weight of ``block`` to zero except those of its LayerNormalization layers.

    Returns:
        How many weight tensors were zeroed.
    """
    import keras

    norms = [
        layer for layer in _sublayers(block) if isinstance(layer, keras.layers.LayerNormalization)
    ]
    if norms:
        kept = {id(weight) for layer in norms for weight in layer.weights}
        is_kept = lambda weight: id(weight) in kept  # noqa: E731
    else:  # no sublayer list: recognise a layer norm's weights by their names
        is_kept = lambda weight: weight.name in ("gamma", "beta")  # noqa: E731
    zeroed = 0
    for weight in block.weights:
        if not is_kept(weight):
            weight.assign(np.zeros(tuple(weight.shape), dtype=str(weight.dtype)))
            zeroed += 1
    return zeroed


def block_outputs(
    namespace: dict,
    class_name: str,
    kwargs: dict,
    inputs: list,
    seed: int = 0,
    zero_sublayers: bool = False,
    weights: list | None = None,
) -> dict:
    """One block's outputs (``training=False``) for each input batch, in order.

    Args:
        class_name: the student's layer class, e.g. ``"TransformerBlock"``.
        kwargs: its constructor's keyword arguments.
        inputs: batches of shape ``(N, T, embed_dim)``; the first one builds the block.
        seed: seed of ``keras.utils.set_random_seed`` before the block is made.
        zero_sublayers: set every weight except the layer norms' to zero first
            (attention projections, feed-forward layers, biases included).
        weights: the grader's values of ``block.weights``, in their order, set first.

    Returns:
        ``{"outputs": [array per input], "n_zeroed": int}``.
    """
    block = _block(namespace, class_name, kwargs, seed)
    batches = [np.asarray(x, dtype="float32") for x in inputs]
    _run(block, batches[0])  # builds the weights
    if weights is not None:
        for variable, value in zip(block.weights, weights, strict=True):
            variable.assign(np.asarray(value, dtype=str(variable.dtype)))
    n_zeroed = _zero_all_but_layer_norms(block) if zero_sublayers else 0
    return {"outputs": [_run(block, x) for x in batches], "n_zeroed": n_zeroed}


#: Settings of a sublayer the grader needs to compute what the block must give.
SUBLAYER_SETTINGS = ("activation", "use_bias", "epsilon", "center", "scale", "units",
                     "num_heads", "key_dim", "value_dim", "rate")  # fmt: skip
#: Layer classes the grader can compute; any other weighted layer is reported as it is.
KNOWN_SUBLAYERS = ("MultiHeadAttention", "Dense", "LayerNormalization", "Dropout")


def block_structure(namespace: dict, class_name: str, kwargs: dict, x, seed: int = 0) -> dict:
    """What the block is made of: its weights' shapes, and its sublayers with their settings.

    Returns:
        ``{"shapes": [shape per weight of block.weights], "sublayers": [{"class",
        "settings", "weights": [index into shapes], "names": [weight path's last two
        parts]}]}``: every MultiHeadAttention, Dense, LayerNormalization and Dropout
        inside the block (not inside a MultiHeadAttention), and any other layer with
        weights of its own.
    """
    block = _block(namespace, class_name, kwargs, seed)
    _run(block, np.asarray(x, dtype="float32"))
    index = {id(weight): i for i, weight in enumerate(block.weights)}
    inside_attention: set[int] = set()
    found = []
    for layer in _sublayers(block):
        if id(layer) in inside_attention:
            continue
        name = type(layer).__name__
        if name == "MultiHeadAttention":
            flatten = getattr(layer, "_flatten_layers", None)
            if callable(flatten):
                inside_attention.update(id(inner) for inner in flatten(include_self=False))
        own = getattr(layer, "_trainable_variables", None)
        if name not in KNOWN_SUBLAYERS and not (
            own or getattr(layer, "_non_trainable_variables", None)
        ):
            continue  # a container (a Sequential of Dense layers): its layers are listed
        try:
            config = layer.get_config()
        except Exception:  # a layer of the student's without a config
            config = {}
        settings = {k: _plain(config[k]) for k in SUBLAYER_SETTINGS if k in config}
        weights = layer.weights if name in KNOWN_SUBLAYERS else list(own or [])
        found.append({
            "class": name[:60],
            "settings": settings,
            "weights": [index.get(id(w), -1) for w in weights],
            "names": ["/".join(str(w.path).split("/")[-2:])[:80] for w in weights],
        })  # fmt: skip
    return {"shapes": [[int(d) for d in w.shape] for w in block.weights], "sublayers": found}


def _plain(value):
    """A config value as channel-safe data (numbers and strings as they are)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    return repr(value)[:100]


def block_round_trip(namespace: dict, class_name: str, kwargs: dict, x, seed: int = 0) -> dict:
    """Build a block, rebuild it with ``from_config(get_config())`` and copy its weights.

    Returns:
        ``{"keys": config keys, "values": config values of the constructor arguments,
        "output": the block's output for x, "clone_output": the rebuilt block's output
        after copying the weights (absent on error), "error": "" or what went wrong}``.
    """
    block = _block(namespace, class_name, kwargs, seed)
    x = np.asarray(x, dtype="float32")
    output = _run(block, x)
    config = block.get_config()
    if not isinstance(config, dict):
        return {
            "keys": [],
            "values": {},
            "output": output,
            "error": f"get_config() returned {type(config).__name__}, not a dict",
        }
    result = {
        "keys": sorted(str(key) for key in config),
        "values": {key: _plain(config[key]) for key in kwargs if key in config},
        "output": output,
        "error": "",
    }
    try:
        clone = type(block).from_config(config)
        _run(clone, x)  # builds the weights
        clone.set_weights(block.get_weights())
        result["clone_output"] = _run(clone, x)
    except NotImplementedError:
        raise
    except Exception as error:  # reported to the student by the check
        message = str(error)
        # Keras wraps the constructor's error after a dump of the whole config: keep the cause.
        message = message.split("Exception encountered:", 1)[-1].strip()
        result["error"] = f"{type(error).__name__}: {message}"[:400]
    return result
