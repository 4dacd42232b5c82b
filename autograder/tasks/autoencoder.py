"""Tasks on the student's ``build_autoencoder`` (the ``autoencoder`` assignment).

``build_autoencoder(input_dim, latent_dim)`` returns three models that share their
layers: ``(autoencoder, encoder, decoder)``. The checks must see all three of ONE
build, to tell whether the autoencoder really is the decoder applied to the encoder,
so :func:`inspect_models` builds once and reports every model's shapes, size and
loss and what each computes on the grader's inputs. Training goes through
:func:`keras_models.fit_predict` with ``pick=0``.
"""

from __future__ import annotations

import numpy as np

from .keras_models import describe

TASKS = ("inspect_models",)

#: The names of the three models, in the order ``build_autoencoder`` returns them.
NAMES = ("autoencoder", "encoder", "decoder")


def _error(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error)[:300]}"


def _run(model, x) -> np.ndarray:
    """The model's output for ``x`` in inference mode, as float64."""
    import keras

    output = model(keras.ops.convert_to_tensor(np.asarray(x, dtype="float32")), training=False)
    return np.asarray(keras.ops.convert_to_numpy(output), dtype=float)


def inspect_models(
    namespace: dict, builder: str, input_dim: int, latent_dim: int, x, codes, seed: int = 0
) -> dict:
    """Build the three models once; describe them and run them on the grader's inputs.

    Args:
        builder: the student's builder, ``"build_autoencoder"``.
        input_dim, latent_dim: its arguments.
        x: inputs ``(N, input_dim)`` for the encoder and the autoencoder.
        codes: codes ``(M, latent_dim)`` for the decoder.
        seed: seed of ``keras.utils.set_random_seed`` before the build.

    Returns:
        ``{"returned": {"type", "length", "items"}, "models": {name: info},
        "outputs": {call: array}, "errors": {call: message}}``, where the calls are
        ``"encoder(x)"``, ``"decoder(codes)"``, ``"autoencoder(x)"`` and
        ``"decoder(encoder(x))"``; ``models`` and ``outputs`` are empty unless three
        Keras models came back.
    """
    import keras

    if not callable(namespace.get(builder)):
        raise NameError(f"name '{builder}' is not defined")
    keras.utils.set_random_seed(int(seed))
    built = namespace[builder](int(input_dim), int(latent_dim))
    items = list(built) if isinstance(built, tuple | list) else []
    result: dict = {
        "returned": {
            "type": type(built).__name__,
            "length": len(items) if isinstance(built, tuple | list) else None,
            "items": [type(item).__name__ for item in items],
            "models": [isinstance(item, keras.Model) for item in items],
        },
        "models": {},
        "outputs": {},
        "errors": {},
    }
    if len(items) != 3 or not all(isinstance(item, keras.Model) for item in items):
        return result
    models = dict(zip(NAMES, items, strict=True))
    calls = {
        "encoder(x)": lambda: _run(models["encoder"], x),
        "decoder(codes)": lambda: _run(models["decoder"], codes),
        "autoencoder(x)": lambda: _run(models["autoencoder"], x),
    }
    for call, compute in calls.items():
        try:
            result["outputs"][call] = compute()
        except NotImplementedError:
            raise
        except Exception as error:  # reported to the student by the check
            result["errors"][call] = _error(error)
    if "encoder(x)" in result["outputs"]:
        try:
            chained = _run(models["decoder"], result["outputs"]["encoder(x)"])
            result["outputs"]["decoder(encoder(x))"] = chained
        except Exception as error:
            result["errors"]["decoder(encoder(x))"] = _error(error)
    outputs = result["outputs"]
    result["models"] = {
        "autoencoder": describe(models["autoencoder"], x, outputs.get("autoencoder(x)")),
        "encoder": describe(models["encoder"], x, outputs.get("encoder(x)")),
        "decoder": describe(models["decoder"], codes, outputs.get("decoder(codes)")),
    }
    return result
