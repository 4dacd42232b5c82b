"""The one task on the student's Keras model builders: export what they built.

A check must not believe what this process says about a model (see
:mod:`autograder.judge`), so nothing here describes, trains or runs one. The task
calls the builder with the grader's arguments and seed and returns the built
models in Keras's own format, as data: the architecture as JSON config and the
compile settings. A layer class of the student's is first inlined: its ``call`` is
run on symbolic inputs, so that the exported graph holds the Keras layers and ops it
uses, and the judge needs no code of the student's to rebuild it. The grader checks that data and hands it to the judge, a
sandbox that never ran the submission's code, which rebuilds and measures the model.
"""

from __future__ import annotations

import inspect
import json

TASKS = ("export",)
#: Rounds of inlining: a layer class of the student's may call another one.
MAX_INLINE_ROUNDS = 4


def _is_students(layer) -> bool:
    """Whether ``layer``'s class is the student's own (defined outside Keras)."""
    return not type(layer).__module__.startswith("keras")


def _inline_call(layer, *args, **kwargs):
    """Call ``layer`` as a Keras layer, or, for a class of the student's, run its ``call``.

    Run on symbolic inputs, a student's ``call`` adds the Keras layers and ops it
    uses to the graph being rebuilt, so that the exported model is made of Keras's
    own classes only.
    """
    if not _is_students(layer):
        return layer(*args, **kwargs)
    if "training" in inspect.signature(layer.call).parameters:
        kwargs.setdefault("training", None)  # dropout follows fit() and predict()
    return layer.call(*args, **kwargs)


def _sequential_as_functional(model, input_shape):
    """A Sequential model as a functional one, its layers called (or inlined) in turn."""
    import keras

    shape = None
    try:
        shape = model.input_shape
    except (AttributeError, ValueError):  # no Input and not built
        pass
    if shape is not None:
        inputs = keras.Input(batch_shape=tuple(shape))
    elif input_shape is not None:
        inputs = keras.Input(shape=tuple(int(d) for d in input_shape))
    else:
        raise TypeError("the grader does not know the input shape of this Sequential model")
    x = inputs
    for layer in model.layers:
        x = _inline_call(layer, x)
    return keras.Model(inputs, x, name=model.name)


def inline_students_layers(model, input_shape=None):
    """``model`` with each layer class of the student's replaced by what its call computes.

    The layers keep their weights; tensors a student's ``call`` computes from
    concrete values (not from its inputs) become constants of the graph.

    Raises:
        TypeError: a layer class of the student's holds weights of its own
            (``add_weight``): only layers made of Keras layers and ops can be inlined.
    """
    import keras

    for _ in range(MAX_INLINE_ROUNDS):
        students = [
            layer
            for layer in model._flatten_layers(include_self=False, recursive=True)
            if _is_students(layer)
        ]
        if not students:
            return model
        for layer in students:
            if layer._trainable_variables or layer._non_trainable_variables:
                raise TypeError(
                    f"your layer class {type(layer).__name__} creates weights of its own "
                    "(add_weight), which the grader cannot rebuild outside your notebook; "
                    "build it from keras layers (Dense, Embedding, ...) and keras.ops"
                )
        if isinstance(model, keras.Sequential):
            model = _sequential_as_functional(model, input_shape)
            continue
        model = keras.models.clone_model(
            model,
            clone_function=lambda layer: layer,
            call_function=_inline_call,
        )
    return model


def _as_functional(model, input_shape):
    """A model of the student's own class, rebuilt as a functional model by running its call."""
    import keras

    if model._trainable_variables or model._non_trainable_variables:
        raise TypeError(
            f"your model class {type(model).__name__} creates weights of its own (add_weight), "
            "which the grader cannot rebuild outside your notebook"
        )
    if input_shape is None:
        raise TypeError(f"the grader does not know the input shape of {type(model).__name__}")
    inputs = keras.Input(shape=tuple(int(d) for d in input_shape))
    return keras.Model(inputs, _inline_call(model, inputs))


def _export_one(model, input_shape=None) -> dict:
    """One model as ``{"config": JSON text, "compile": JSON text or None, "error": str}``.

    A model of the student's own class (a subclass of ``keras.Model``) is rebuilt as
    a functional model on ``input_shape`` first.
    """
    try:
        built = _as_functional(model, input_shape) if _is_students(model) else model
        config = inline_students_layers(built, input_shape).to_json()
    except Exception as error:  # a subclassed model without a configuration
        text = str(error).strip() or type(error).__name__
        return {
            "config": None,
            "compile": None,
            "error": f"{type(error).__name__}: {text}"[:300],
        }
    compile_config = None
    if getattr(model, "compiled", False):
        try:
            compile_config = json.dumps(model.get_compile_config())
        except Exception as error:  # a loss or an optimizer without a configuration
            return {
                "config": config,
                "compile": None,
                "error": f"its compile settings cannot be saved ({type(error).__name__})",
            }
    return {"config": config, "compile": compile_config, "error": ""}


def export(
    namespace: dict,
    builder: str,
    args=(),
    kwargs=None,
    pick=None,
    seed: int = 0,
    every=False,
    input_shapes=None,
) -> dict:
    """Build with the grader's seed and arguments; export the model(s) as data.

    Args:
        builder: the student's builder, e.g. ``"build_cnn"``.
        args, kwargs: its arguments.
        pick: for a builder that returns several models, the index of the one wanted.
        seed: seed of ``keras.utils.set_random_seed`` before the build.
        every: export every model of a returned tuple (the autoencoder's three).
        input_shapes: per exported model, its input shape without the batch axis,
            for a model of the student's own class (which has no configuration).

    Returns:
        ``{"returned": {"type", "length", "items", "models"}, "exports": [model export]}``
        where each export is ``{"config", "compile", "error"}`` (see :func:`_export_one`).
    """
    import keras

    if not callable(namespace.get(builder)):
        raise NameError(f"name '{builder}' is not defined")
    keras.utils.set_random_seed(int(seed))
    built = namespace[builder](*(args or ()), **(kwargs or {}))
    several = isinstance(built, tuple | list)
    items = list(built) if several else [built]
    returned = {
        "type": type(built).__name__[:60],
        "length": len(items) if several else None,
        "items": [type(item).__name__[:60] for item in items[:8]],
        "models": [isinstance(item, keras.Model) for item in items[:8]],
    }
    if every:
        wanted = items if all(isinstance(item, keras.Model) for item in items) else []
    elif pick is not None:
        if not several or len(items) <= pick:
            raise TypeError(f"{builder} should return a tuple of models; got {returned['type']}")
        wanted = [items[pick]]
    else:
        wanted = [built]
    for model in wanted:
        if not isinstance(model, keras.Model):
            raise TypeError(f"{builder} should return a keras Model; got {type(model).__name__}")
    shapes = list(input_shapes or [])[: len(wanted)]
    shapes += [None] * (len(wanted) - len(shapes))
    exports = [_export_one(m, shape) for m, shape in zip(wanted[:8], shapes, strict=False)]
    return {"returned": returned, "exports": exports}
