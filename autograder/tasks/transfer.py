"""The capstone's tasks: load an image tree the grader wrote, build on a base the grader chose.

``load`` writes the grader's image files (PNG bytes it encoded itself, in a folder tree
whose class names, sizes and counts it drew per run) into this sandbox's working
folder, calls the student's ``load_image_datasets`` on it and returns every image and
label of the three datasets as arrays. What comes back is only data for the grader to
compare with the pixels it wrote, so a process that reports other arrays reports a
wrong loader.

``export`` builds a convolutional base from the grader's layer list (names, kinds and
sizes drawn per run, or those of the kit's pretrained base), calls the student's
``build_transfer_model`` on it and, when asked, ``unfreeze_top_layers``, and exports the
model after each step as Keras configuration (:func:`.keras_models._export_one`). The
judge rebuilds both, gives the base the grader's pretrained weights, and measures them.
"""

from __future__ import annotations

import os
import tempfile

from .keras_models import _export_one

TASKS = ("load", "export")
#: Images one dataset may hand back (the grader writes a few dozen).
MAX_IMAGES = 400


def build_base(spec, input_shape, name: str = "base"):
    """A functional convolutional base from ``spec``, a list of layer dicts.

    Each dict has ``kind`` (``"conv"``, ``"bn"``, ``"relu"``, ``"pool"``) and ``name``;
    a ``"conv"`` has ``filters``, and optionally ``activation`` and ``use_bias``.

    Example:
        >>> build_base([{"kind": "conv", "name": "c1", "filters": 4}], (8, 8, 3))  # doctest: +SKIP
    """
    import keras
    from keras import layers

    inputs = keras.Input(shape=tuple(int(d) for d in input_shape), name=f"{name}_input")
    x = inputs
    for item in spec:
        kind, layer_name = item["kind"], str(item["name"])
        if kind == "conv":
            x = layers.Conv2D(int(item["filters"]), 3, padding="same",
                              activation=item.get("activation"),
                              use_bias=bool(item.get("use_bias", True)), name=layer_name)(x)  # fmt: skip
        elif kind == "bn":
            x = layers.BatchNormalization(name=layer_name)(x)
        elif kind == "relu":
            x = layers.Activation("relu", name=layer_name)(x)
        elif kind == "pool":
            x = layers.MaxPooling2D(2, name=layer_name)(x)
        else:
            raise ValueError(f"no base layer kind {kind!r}")
    return keras.Model(inputs, x, name=name)


def _as_arrays(dataset, split: str) -> dict:
    """Every ``(images, labels)`` batch of ``dataset`` as arrays, and the batches' sizes."""
    import keras
    import numpy as np

    images, labels, sizes = [], [], []
    try:
        batches = iter(dataset)
    except TypeError:
        raise TypeError(f"the {split} dataset is a {type(dataset).__name__}, which cannot be "
                        "iterated over; return the datasets of "
                        "keras.utils.image_dataset_from_directory") from None  # fmt: skip
    for batch in batches:
        if not isinstance(batch, tuple | list) or len(batch) != 2:
            raise TypeError(f"a batch of the {split} dataset is not a pair (images, labels)")
        x = np.asarray(keras.ops.convert_to_numpy(batch[0]))
        y = np.asarray(keras.ops.convert_to_numpy(batch[1]))
        images.append(x)
        labels.append(y)
        sizes.append(int(x.shape[0]) if x.ndim else 0)
        if sum(sizes) > MAX_IMAGES:
            raise ValueError(f"the {split} dataset holds more than {MAX_IMAGES} images; the "
                             "grader wrote far fewer (does it repeat?)")  # fmt: skip
    if not images:
        return {"images": np.zeros((0,)), "labels": np.zeros((0,)), "batch_sizes": []}
    return {"images": np.concatenate(images), "labels": np.concatenate(labels),
            "batch_sizes": sizes}  # fmt: skip


def load(namespace: dict, files: dict, image_size, batch_size: int, seed: int) -> dict:
    """Write ``files`` (``{"train/crack/0.png": uint8 array of PNG bytes}``) and load them.

    Returns:
        ``{"class_names": [...], "returned": type name and length, "splits": {"train":
        {"images", "labels", "batch_sizes"}, "valid": ..., "test": ...}}``.
    """
    loader = namespace.get("load_image_datasets")
    if not callable(loader):
        raise NameError("name 'load_image_datasets' is not defined")
    with tempfile.TemporaryDirectory(prefix="images-") as root:
        return _load_tree(loader, root, files, image_size, batch_size, seed)


def _load_tree(loader, root: str, files: dict, image_size, batch_size: int, seed: int) -> dict:
    import numpy as np

    for relative, data in files.items():
        parts = str(relative).split("/")
        if any(part in ("", ".", "..") for part in parts):
            raise ValueError(f"a file name the grader sent is not relative: {relative!r}")
        path = os.path.join(root, *parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(np.asarray(data, dtype=np.uint8).tobytes())
    result = loader(root, tuple(int(d) for d in image_size), int(batch_size), int(seed))
    returned = {"type": type(result).__name__[:60],
                "length": len(result) if isinstance(result, tuple | list) else None}  # fmt: skip
    if not isinstance(result, tuple | list) or len(result) != 4:
        return {"returned": returned, "class_names": None, "splits": {}}
    *datasets, class_names = result
    names = [str(n)[:100] for n in class_names] if isinstance(class_names, list | tuple) else None
    splits = {split: _as_arrays(ds, split)
              for split, ds in zip(("train", "valid", "test"), datasets, strict=True)}  # fmt: skip
    return {"returned": returned, "class_names": names, "splits": splits}


def export(
    namespace: dict,
    spec,
    input_shape,
    n_classes: int,
    seed: int = 0,
    n_layers: int | None = None,
    learning_rate: float | None = None,
) -> dict:
    """``build_transfer_model`` on the grader's base, then ``unfreeze_top_layers`` if asked.

    Returns:
        ``{"returned": ..., "exports": [the built model's export, and, with ``n_layers``,
        the model ``unfreeze_top_layers`` returned]}`` (see :func:`.keras_models.export`).
    """
    import keras

    for name in (("unfreeze_top_layers",) if n_layers else ()) + ("build_transfer_model",):
        if not callable(namespace.get(name)):
            raise NameError(f"name '{name}' is not defined")
    keras.utils.set_random_seed(int(seed))
    base = build_base(spec, input_shape)
    model = namespace["build_transfer_model"](base, int(n_classes))
    returned = {"type": type(model).__name__[:60], "length": None, "items": [],
                "models": [isinstance(model, keras.Model)]}  # fmt: skip
    if not isinstance(model, keras.Model):
        raise TypeError(f"build_transfer_model should return a keras Model; got "
                        f"{type(model).__name__}")  # fmt: skip
    exports = [_export_one(model)]
    if n_layers:
        tuned = namespace["unfreeze_top_layers"](model, base, int(n_layers), float(learning_rate))
        if not isinstance(tuned, keras.Model):
            raise TypeError(f"unfreeze_top_layers should return the keras Model; got "
                            f"{type(tuned).__name__}")  # fmt: skip
        exports.append(_export_one(tuned))
    return {"returned": returned, "exports": exports}
