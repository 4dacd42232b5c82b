"""The judge: a sandbox that loads a student's exported Keras model and measures it.

A check must not believe what the submission's process says about a model: any
code of the kit that runs there after a student cell can be replaced, and a model
object can lie about its shapes, its layers and its loss. So the child only
*exports* what the student's builder made, in Keras's own format (the
architecture as JSON config and the compile settings; see
:mod:`autograder.tasks.keras_models`), and the grader hands that data to this
program, which runs in a fresh sandbox of its own that never ran a cell of the
submission. Here the model is rebuilt with Keras's safe deserialisation (no
lambdas, no classes outside Keras), initialised with the grader's seed, and
every fact a check needs comes from the rebuilt model: its layers and
activations, its shapes and size, its loss, its untrained outputs, and its
predictions before and after the grader trains it on the grader's data.

The student's own layer classes arrive inlined (the child ran their ``call`` on
symbolic inputs, so the graph holds the Keras layers and ops they use); a class
outside Keras that is still in a configuration is refused.

Started by :mod:`autograder.sandbox` as ``python judge.py`` with
``AUTOGRADER_FDS``; only this file and ``channel.py`` are in its sandbox.
Requests ``{"op": "judge", "action": name, "payload": {...}}`` get
``{"ok": True, "result": ...}`` or ``{"ok": False, "error": "refused" |
"exception", "message": str}``. :func:`handle` answers one request, so that the
kit's tests can judge in-process.
"""

from __future__ import annotations

import json
import os
import signal
import sys

import numpy as np

if __package__:  # imported by the grader (in-process judging, the kit's tests)
    from autograder import backend, channel
else:  # the judge's jail: the copies of channel.py and backend.py beside this file
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import backend
    import channel


class Refused(Exception):
    """The export cannot be rebuilt safely; ``str(error)`` speaks to the student."""


# -- loading -----------------------------------------------------------------
def _load(export: dict, seed: int):
    """Rebuild one exported model, safely, initialised with ``seed``, compiled as exported."""
    import keras

    if not isinstance(export, dict) or not isinstance(export.get("config"), str):
        raise Refused("the export holds no model configuration")
    try:
        config = json.loads(export["config"])
    except ValueError as error:
        raise Refused(f"its configuration is not JSON ({error})") from None
    keras.utils.set_random_seed(int(seed))
    try:
        model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    except Exception as error:
        raise Refused(_refusal(error)) from None
    if not isinstance(model, keras.Model):
        raise Refused(f"its configuration describes a {type(model).__name__}, not a model")
    # A layer rebuilt from its config builds its own sublayers (MultiHeadAttention's
    # projections) trainable even where the layer is frozen; freezing it again freezes them,
    # so a frozen model stays frozen in the judge, as it was in the notebook.
    frozen = [layer for layer in model._flatten_layers(include_self=False) if not layer.trainable]
    for layer in frozen:
        for sublayer in layer._flatten_layers(include_self=False):
            sublayer.trainable = False
    compile_config = export.get("compile")
    if isinstance(compile_config, str):
        try:
            model.compile_from_config(json.loads(compile_config))
        except Exception as error:
            raise Refused(f"its compile settings could not be restored ({_short(error)})") from None
    return model


def _short(error: BaseException, limit: int = 300) -> str:
    message = str(error).split("Exception encountered:", 1)[-1].strip()
    return f"{type(error).__name__}: {message}"[:limit]


def _refusal(error: BaseException) -> str:
    text = str(error)
    if "lambda" in text.lower() or "safe_mode" in text:
        return (
            "it uses a Lambda layer (or another piece of Python code stored as bytecode), "
            "which the grader does not load; use keras layers and keras.ops instead"
        )
    if "Could not locate" in text or "custom_objects" in text:
        name = text.split("class '", 1)[-1].split("'", 1)[0] if "class '" in text else ""
        which = f"`{name}`" if name and len(name) < 60 else "a class"
        return (
            f"it uses {which} that is not part of Keras, which the grader cannot rebuild "
            "outside your notebook; build the model from keras layers (Sequential or the "
            "functional API)"
        )
    return f"Keras could not rebuild it from its configuration ({_short(error)})"


# -- what a check needs to know ---------------------------------------------------
def _shape(shape) -> list | None:
    if shape is None:
        return None
    if isinstance(shape, list | tuple) and shape and isinstance(shape[0], list | tuple):
        shape = shape[0]
    shape = [None if d is None else int(d) for d in shape]
    return [None, *shape[1:]] if shape else shape


def _attribute(model, name: str):
    try:
        return getattr(model, name)
    except Exception:  # a model without an input has no shapes until it is called
        return None


def _all_layers(model) -> list:
    return list(model._flatten_layers(include_self=False, recursive=True))


def _lineage(layer) -> list[str]:
    names = []
    for cls in type(layer).__mro__:
        names.append(cls.__name__)
        if cls.__name__ == "Layer":
            break
    return names


def _loss_facts(loss) -> dict:
    """The compiled loss: its name, class, wrapped function and ``from_logits``."""
    if loss is None:
        return {"loss": None, "loss_class": None, "loss_function": None, "from_logits": None}
    if isinstance(loss, str):
        return {"loss": loss, "loss_class": "str", "loss_function": loss, "from_logits": False}
    wrapped = getattr(loss, "fn", None)
    if callable(loss) and not callable(wrapped):
        wrapped = loss
    config = {}
    try:
        config = loss.get_config() if hasattr(loss, "get_config") else {}
    except Exception:  # a plain loss function has no config
        config = {}
    logits = getattr(loss, "from_logits", None)
    if logits is None and isinstance(config, dict):
        logits = config.get("from_logits")
    if logits is None and callable(loss):
        logits = False
    name = getattr(loss, "name", None) or getattr(loss, "__name__", None)
    return {
        "loss": str(name or type(loss).__name__)[:60],
        "loss_class": type(loss).__name__[:60],
        "loss_function": str(getattr(wrapped, "__name__", ""))[:60] or None,
        "from_logits": None if logits is None else bool(logits),
    }


def describe(model, seen_input=None, seen_output=None) -> dict:
    """What a check needs to know of a rebuilt model, as plain data.

    Returns:
        ``{"input_shape", "output_shape", "n_params", "n_trainable", "compiled",
        "loss", "loss_class", "loss_function", "from_logits", "layers": [top-level
        class names], "all_layers": [class names, nested models' layers included],
        "lineages": [[class and base class names] per layer of all_layers],
        "activations": [activation name or None per layer of all_layers],
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
        n_trainable = int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))
    except Exception:  # not built: no input shape anywhere in its configuration
        n_params = n_trainable = None
    layers = _all_layers(model)
    last = model.layers[-1] if model.layers else None
    activation = getattr(last, "activation", None)
    return {
        "input_shape": _shape(input_shape),
        "output_shape": _shape(output_shape),
        "n_params": n_params,
        "n_trainable": n_trainable,
        "compiled": bool(getattr(model, "compiled", False)),
        **_loss_facts(getattr(model, "loss", None)),
        "layers": [type(layer).__name__ for layer in model.layers],
        "all_layers": [type(layer).__name__ for layer in layers],
        "lineages": [_lineage(layer) for layer in layers],
        "activations": [
            getattr(getattr(layer, "activation", None), "__name__", None) for layer in layers
        ],
        "output_activation": getattr(activation, "__name__", None) if activation else None,
    }


def _run(model, x) -> np.ndarray:
    """The model's outputs for ``x`` in inference mode, as float64."""
    import keras

    output = model(keras.ops.convert_to_tensor(np.asarray(x, dtype="float32")), training=False)
    return np.asarray(keras.ops.convert_to_numpy(output), dtype=float)


def _predict(model, x) -> np.ndarray:
    return np.asarray(model.predict(np.asarray(x, dtype="float32"), verbose=0), dtype=float)


# -- actions ------------------------------------------------------------------------
def act_describe(payload: dict) -> dict:
    """``{"export", "seed"}`` → :func:`describe` of the rebuilt model."""
    model = _load(payload.get("export"), payload.get("seed", 0))
    return describe(model)


def act_predict(payload: dict) -> np.ndarray:
    """``{"export", "x", "seed"}`` → the untrained rebuilt model's outputs for ``x``."""
    model = _load(payload.get("export"), payload.get("seed", 0))
    return _predict(model, payload["x"])


def act_fit_predict(payload: dict) -> dict:
    """Train the rebuilt model on the grader's data and budget.

    ``{"export", "x_train", "y_train", "x_test", "epochs", "batch_size", "seed"}`` →
    ``{"before": outputs for x_test before training, "after": after training}``.
    The model trains as the student compiled it (loss, optimizer and its settings),
    from the grader's initialisation, with the grader's epochs, batch size and shuffling.
    """
    import keras

    model = _load(payload.get("export"), payload.get("seed", 0))
    if not getattr(model, "compiled", False):
        raise Refused("it is not compiled (call model.compile(...) before returning it)")
    x_test = payload["x_test"]
    before = _predict(model, x_test)
    keras.utils.set_random_seed(int(payload.get("seed", 0)) + 1)
    model.fit(
        np.asarray(payload["x_train"], dtype="float32"),
        np.asarray(payload["y_train"], dtype="float32"),
        epochs=int(payload["epochs"]),
        batch_size=int(payload.get("batch_size", 32)),
        verbose=0,
        shuffle=True,
    )
    return {"before": before, "after": _predict(model, x_test)}


#: The three models of ``build_autoencoder``, in the order it returns them.
AUTOENCODER_NAMES = ("autoencoder", "encoder", "decoder")


def act_autoencoder(payload: dict) -> dict:
    """The three models of one ``build_autoencoder`` call, rebuilt and run together.

    ``{"exports": [autoencoder, encoder, decoder], "x", "codes", "seed"}``. The
    autoencoder is rebuilt with the grader's seed; the encoder and the decoder
    take the weights of its layers of the same name (layers the student's models
    share have one name), so that ``decoder(encoder(x))`` equals ``autoencoder(x)``
    exactly when the three share their layers.

    Returns:
        ``{"models": {name: describe()}, "outputs": {call: array}, "errors": {call:
        message}, "shared": {"encoder": n, "decoder": n}}`` where ``shared`` counts
        the weighted layers of each that the autoencoder holds.
    """
    exports = payload.get("exports")
    if not isinstance(exports, list) or len(exports) != 3:
        raise Refused("three models are needed")
    seed = int(payload.get("seed", 0))
    models = {name: _load(e, seed) for name, e in zip(AUTOENCODER_NAMES, exports, strict=True)}
    by_name = {layer.name: layer for layer in _all_layers(models["autoencoder"])}
    shared = {}
    for name in ("encoder", "decoder"):
        shared[name] = 0
        for layer in _all_layers(models[name]):
            twin = by_name.get(layer.name)
            if twin is None or not layer.weights or type(twin) is not type(layer):
                continue
            try:
                layer.set_weights(twin.get_weights())
                shared[name] += 1
            except ValueError:  # same name, other shapes: not the same layer
                pass
    x, codes = payload["x"], payload["codes"]
    outputs, errors = {}, {}
    calls = {
        "encoder(x)": lambda: _run(models["encoder"], x),
        "decoder(codes)": lambda: _run(models["decoder"], codes),
        "autoencoder(x)": lambda: _run(models["autoencoder"], x),
    }
    for call, compute in calls.items():
        try:
            outputs[call] = compute()
        except Exception as error:  # reported to the student by the check
            errors[call] = _short(error)
    if "encoder(x)" in outputs:
        try:
            outputs["decoder(encoder(x))"] = _run(models["decoder"], outputs["encoder(x)"])
        except Exception as error:
            errors["decoder(encoder(x))"] = _short(error)
    seen = {"autoencoder": ("autoencoder(x)", x), "encoder": ("encoder(x)", x),
            "decoder": ("decoder(codes)", codes)}  # fmt: skip
    return {
        "models": {
            name: describe(models[name], seen[name][1], outputs.get(seen[name][0]))
            for name in AUTOENCODER_NAMES
        },
        "outputs": outputs,
        "errors": errors,
        "shared": shared,
    }


# -- transfer learning (the capstone) -------------------------------------------------
def _effectively_trainable(model) -> set[int]:
    """The ids of the weights that training ``model`` would change (a frozen container's
    layers stay frozen, whatever their own flags say)."""
    return {id(weight) for weight in model.trainable_weights}


def _transfer_facts(model, base_layers: list) -> dict:
    """:func:`describe`, and for each of the base's layers (by name) whether it trains."""
    import keras

    trainable = _effectively_trainable(model)
    by_name = {layer.name: layer for layer in _all_layers(model)}
    base = []
    for name in base_layers:
        layer = by_name.get(str(name))
        if layer is None:
            base.append({"name": str(name), "found": False})
            continue
        weights = layer.weights
        base.append({
            "name": str(name), "found": True, "class": type(layer).__name__,
            "n_weights": int(sum(int(np.prod(w.shape)) for w in weights)),
            "n_trainable": int(sum(int(np.prod(w.shape)) for w in weights if id(w) in trainable)),
        })  # fmt: skip
    in_base = {id(w) for name in base_layers if str(name) in by_name
               for w in by_name[str(name)].weights}  # fmt: skip
    optimizer = getattr(model, "optimizer", None)
    rate = None
    try:
        rate = float(np.asarray(keras.ops.convert_to_numpy(optimizer.learning_rate)))
    except Exception:  # no optimizer, or a schedule
        rate = None
    return {
        **describe(model),
        "base": base,
        "head_trainable": int(sum(int(np.prod(w.shape)) for w in model.trainable_weights
                                  if id(w) not in in_base)),
        "optimizer": type(optimizer).__name__ if optimizer is not None else None,
        "learning_rate": rate,
    }  # fmt: skip


def _set_base_weights(model, weights: dict) -> None:
    """Give the model's layers of the base the grader's pretrained weights, by name."""
    by_name = {layer.name: layer for layer in _all_layers(model)}
    for name, arrays in weights.items():
        layer = by_name.get(str(name))
        if layer is None:
            raise Refused(
                f"the model has no layer `{str(name)[:60]}` of the base it was given: build "
                "the classifier on base_model itself (call it, or use its input and output)"
            )
        try:
            layer.set_weights([np.asarray(a) for a in arrays])
        except ValueError as error:
            raise Refused(
                f"its layer `{name}` does not fit the base's weights ({_short(error)})"
            ) from None


def _copy_weights(source, target) -> None:
    """``target`` takes ``source``'s weights, layer by layer of the same name."""
    by_name = {layer.name: layer for layer in _all_layers(source)}
    for layer in _all_layers(target):
        if not layer.weights:
            continue
        twin = by_name.get(layer.name)
        try:
            if twin is None:
                raise ValueError(layer.name)
            layer.set_weights(twin.get_weights())
        except ValueError:
            raise Refused(
                "the model unfreeze_top_layers returned is not the model it was given (its "
                f"layer `{layer.name[:60]}` is not the same); return the model itself"
            ) from None


def _batch_norm_state(model, names: list) -> dict:
    by_name = {layer.name: layer for layer in _all_layers(model)}
    return {
        name: [np.asarray(w) for w in by_name[name].non_trainable_weights]
        for name in names
        if name in by_name and type(by_name[name]).__name__ == "BatchNormalization"
    }


def _fit(model, payload: dict, epochs: int, seed: int) -> None:
    import keras

    keras.utils.set_random_seed(seed)
    model.fit(
        np.asarray(payload["x_train"], dtype="float32"),
        np.asarray(payload["y_train"], dtype="float32"),
        epochs=int(epochs), batch_size=int(payload.get("batch_size", 32)), verbose=0,
        shuffle=True,
    )  # fmt: skip


def act_transfer(payload: dict) -> dict:
    """The models of ``build_transfer_model`` and ``unfreeze_top_layers``, judged together.

    ``{"exports": [built, (unfrozen)], "base_layers": [names], "seed", "base_weights":
    {layer name: [arrays]} (optional), "x" (optional), "x_train", "y_train", "x_test",
    "epochs", "fine_tune_epochs", "batch_size" (optional)}``. The built model gets the
    base's pretrained weights, is run on ``x`` (as built, and with the first weights of the
    base's last weighted layer negated, which a model that classifies the base's output
    notices), and trained for ``epochs``; the unfrozen model takes the trained weights and
    is trained for ``fine_tune_epochs`` more, as its own compile settings say.

    Returns:
        ``{"facts": [per model: describe() with "base", "head_trainable", "optimizer",
        "learning_rate"], "outputs", "perturbed", "before", "after", "tuned",
        "batch_norm_changed": [names]}`` (what was not asked is absent).
    """
    exports = payload.get("exports")
    if not isinstance(exports, list) or not 1 <= len(exports) <= 2:
        raise Refused("one or two models are needed")
    seed = int(payload.get("seed", 0))
    base_layers = [str(n) for n in payload.get("base_layers") or []]
    models = [_load(export, seed) for export in exports]
    if isinstance(payload.get("base_weights"), dict):
        for model in models:
            _set_base_weights(model, payload["base_weights"])
    result: dict = {"facts": [_transfer_facts(model, base_layers) for model in models]}
    built = models[0]
    if payload.get("x") is not None:
        result["outputs"] = _run(built, payload["x"])
        by_name = {layer.name: layer for layer in _all_layers(built)}
        weighted = [by_name[n] for n in base_layers if n in by_name and by_name[n].weights]
        if weighted:
            layer = weighted[-1]
            saved = layer.get_weights()
            layer.set_weights([-saved[0], *saved[1:]])
            result["perturbed"] = _run(built, payload["x"])
            layer.set_weights(saved)
    if payload.get("x_train") is None:
        return result
    for model in models:
        if not getattr(model, "compiled", False):
            raise Refused("it is not compiled (call model.compile(...) before returning it)")
    x_test = payload["x_test"]
    result["before"] = _predict(built, x_test)
    _fit(built, payload, int(payload["epochs"]), seed + 1)
    result["after"] = _predict(built, x_test)
    if len(models) == 2 and int(payload.get("fine_tune_epochs") or 0) > 0:
        tuned = models[1]
        _copy_weights(built, tuned)
        start = _batch_norm_state(tuned, base_layers)
        _fit(tuned, payload, int(payload["fine_tune_epochs"]), seed + 2)
        end = _batch_norm_state(tuned, base_layers)
        result["tuned"] = _predict(tuned, x_test)
        result["batch_norm_changed"] = [
            name for name in start
            if not all(np.array_equal(a, b) for a, b in zip(start[name], end[name], strict=True))
        ]  # fmt: skip
    return result


HANDLERS = {
    "describe": act_describe,
    "predict": act_predict,
    "fit_predict": act_fit_predict,
    "autoencoder": act_autoencoder,
    "transfer": act_transfer,
    "runtime": lambda payload: backend.where(),
}


def handle(request: dict) -> dict:
    """Answer one request (see the module's docstring); never raises."""
    action = request.get("action") if isinstance(request, dict) else None
    handler = HANDLERS.get(action) if isinstance(action, str) else None
    if handler is None:
        return channel.error(channel.Error.EXCEPTION, message=f"no judge action {action!r}")
    payload = request.get("payload")
    try:
        return channel.ok(handler(payload if isinstance(payload, dict) else {}))
    except Refused as error:
        return channel.error(channel.Error.REFUSED, message=str(error)[:500])
    except Exception as error:
        return channel.error(channel.Error.EXCEPTION, message=_short(error, 500))


def main() -> None:
    read_fd, write_fd = (int(x) for x in os.environ.pop("AUTOGRADER_FDS").split(","))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    import ctypes
    import resource

    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the grader
    except (OSError, AttributeError):
        pass

    for name, value in json.loads(os.environ.pop("AUTOGRADER_RLIMITS", "{}")).items():
        try:
            resource.setrlimit(getattr(resource, name), (int(value), int(value)))
        except (AttributeError, ValueError, OSError):
            pass
    backend.limit_gpu_memory()
    while True:
        try:
            request = channel.read_message(read_fd)
        except EOFError:
            return
        if request.get("op") == channel.Op.EXIT:
            return
        if request.get("op") != channel.Op.JUDGE:
            reply = channel.error(channel.Error.EXCEPTION, message="the judge only judges")
        else:
            reply = handle(request)
        try:
            channel.write_message(write_fd, reply)
        except (channel.ChannelError, TypeError, ValueError) as error:
            channel.write_message(
                write_fd, channel.error(channel.Error.EXCEPTION, message=str(error)[:300])
            )


if __name__ == "__main__":
    main()
