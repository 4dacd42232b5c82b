"""Known mistakes and correct alternatives of ``aircraft_damage`` (see :mod:`autograder.cases`).

The mistakes are edits of the reference's definitions. The shape checks build on a base
drawn per run, so most mistakes are caught without training; a model whose optimizer
does not move (a learning rate of 0) is caught by the checks that train.
"""

from autograder.cases import Alternative, Mistake

_CLASS_NAMES = "test_load_image_datasets_class_names_in_folder_order"
_SIZES = "test_load_image_datasets_uses_image_size_and_batch_size"
_FREEZES = "test_build_transfer_model_freezes_the_whole_base"
_EXACT = "test_unfreeze_top_layers_trains_exactly_the_top_layers"
_RATE = "test_unfreeze_top_layers_recompiles_with_the_learning_rate"
_CE = (
    'loss="categorical_crossentropy", metrics=["accuracy"])\n    ### END SOLUTION\n    return model'
)
_SOFTMAX = 'Dense(n_classes, activation="softmax")'
_FREEZE = "base_model.trainable = False  # freeze every layer of the base"
_FEATURES = "features = base_model(inputs, training=False)"
_ADAM = "keras.optimizers.Adam(learning_rate)"

MISTAKES = [
    # load_image_datasets
    Mistake(
        "loader_keeps_pixels_in_0_255",
        "load_image_datasets",
        edits=[("keras.layers.Rescaling(1 / 255)", "keras.layers.Rescaling(1.0)")],
        words="Rescale them",
        check="test_load_image_datasets_rescales_pixels_to_unit_interval",
        sample=True,
    ),
    Mistake(  # and no other check fails (tests/checks/test_aircraft_damage.py)
        "loader_divides_by_256",
        "load_image_datasets",
        edits=[("keras.layers.Rescaling(1 / 255)", "keras.layers.Rescaling(1 / 256)")],
        words="divided by 255",
        check="test_load_image_datasets_rescales_pixels_to_unit_interval",
    ),
    Mistake(
        "loader_hard_codes_the_class_names",
        "load_image_datasets",
        edits=[("class_names = list(train_ds.class_names)", 'class_names = ["crack", "dent"]')],
        words="expected",
        check=_CLASS_NAMES,
    ),
    Mistake(
        "loader_orders_classes_as_written",
        "load_image_datasets",
        edits=[
            (
                'label_mode="categorical",',
                'label_mode="categorical", class_names=sorted(__import__("os").listdir('
                'f"{directory}/{split}"), reverse=True),',
            )
        ],
        words="alphabetical order",
        check=_CLASS_NAMES,
    ),  # fmt: skip
    Mistake(
        "loader_integer_labels",
        "load_image_datasets",
        edits=[('label_mode="categorical"', 'label_mode="int"')],
        words="label_mode='categorical'",
        check="test_load_image_datasets_one_hot_labels_of_their_folders",
    ),
    Mistake(
        "loader_ignores_the_image_size",
        "load_image_datasets",
        edits=[("image_size=tuple(image_size), ", "")],
        words="(256, 256)",
        check=_SIZES,
    ),
    Mistake(
        "loader_ignores_the_batch_size",
        "load_image_datasets",
        edits=[("batch_size=batch_size,", "")],
        words="default batch size is 32",
        check=_SIZES,
    ),
    Mistake(
        "loader_validates_on_the_test_folder",
        "load_image_datasets",
        edits=[('load("valid", True)', 'load("test", True)')],
        words="holds images from test/",
        check="test_load_image_datasets_each_split_from_its_folder",
    ),
    # build_transfer_model
    Mistake(
        "build_leaves_the_base_trainable",
        "build_transfer_model",
        edits=[(_FREEZE, "pass")],
        words="trainable",
        check=_FREEZES,
    ),
    Mistake(
        "build_pools_the_image_not_the_features",
        "build_transfer_model",
        edits=[("GlobalAveragePooling2D()(features)", "GlobalAveragePooling2D()(inputs)")],
        words="without the base's layers",
        check=_FREEZES,
    ),
    Mistake(
        "build_on_the_last_convolution_before_its_batch_norm",
        "build_transfer_model",
        edits=[
            (
                _FEATURES,
                "features = keras.Model(base_model.input, base_model.layers[-3].output)(inputs)",
            )
        ],
        words="without the base's layers",
        check=_FREEZES,
        also={"test_build_transfer_model_classifies_the_base_output": "without the base's layers"},
    ),  # fmt: skip
    Mistake(
        "build_head_without_softmax",
        "build_transfer_model",
        edits=[(_SOFTMAX, "Dense(n_classes)")],
        words="softmax",
        check="test_build_transfer_model_outputs_class_probabilities",
    ),
    Mistake(
        "build_sparse_loss",
        "build_transfer_model",
        edits=[
            (_CE, _CE.replace('"categorical_crossentropy"', '"sparse_categorical_crossentropy"'))
        ],
        words="sparse",
        check="test_build_transfer_model_compiled_with_categorical_crossentropy",
    ),
    Mistake(
        "build_with_a_learning_rate_of_zero",
        "build_transfer_model",
        edits=[('optimizer="adam"', "optimizer=keras.optimizers.Adam(0.0)")],
        words="did not change",
        check="test_build_transfer_model_learns_from_frozen_features",
        slow=True,
        learns=False,
    ),
    # unfreeze_top_layers
    Mistake(
        "unfreeze_every_layer",
        "unfreeze_top_layers",
        edits=[
            ("for layer in base_model.layers[:-n_layers]:", "for layer in base_model.layers[:0]:")
        ],
        words="Every layer of the base trains",
        check=_EXACT,
    ),
    Mistake(
        "unfreeze_inside_a_frozen_base",
        "unfreeze_top_layers",
        edits=[("base_model.trainable = True\n", "pass\n")],
        words="Set base_model.trainable = True first",
        check=_EXACT,
    ),
    Mistake(
        "unfreeze_one_layer_too_many",
        "unfreeze_top_layers",
        edits=[("[:-n_layers]", "[:-n_layers - 1]"), ("[-n_layers:]", "[-n_layers - 1:]")],
        words="below the top",
        check=_EXACT,
    ),
    Mistake(
        "unfreeze_batch_norm_too",
        "unfreeze_top_layers",
        edits=[("layer.trainable = False  # keep its statistics", "layer.trainable = True  #")],
        words="batch-normalisation layers",
        check="test_unfreeze_top_layers_keeps_batch_norm_frozen",
    ),
    Mistake(
        "unfreeze_without_recompiling",
        "unfreeze_top_layers",
        edits=[(f"model.compile(optimizer={_ADAM},", f"dict(optimizer={_ADAM},")],
        words="still build_transfer_model's rate",
        check=_RATE,
    ),
    Mistake(
        "unfreeze_with_a_high_learning_rate",
        "unfreeze_top_layers",
        edits=[(_ADAM, "keras.optimizers.Adam(1e-2)")],
        words="expected",
        check=_RATE,
    ),
    Mistake(
        "unfreeze_with_a_learning_rate_of_zero",
        "unfreeze_top_layers",
        edits=[(_ADAM, "keras.optimizers.Adam(0.0)")],
        words="did not change when the grader trained it",
        check="test_unfreeze_top_layers_fine_tuning_keeps_the_accuracy",
        slow=True,
        learns=False,
    ),
]

ALTERNATIVES = [
    Alternative(
        "loader_with_a_helper_and_division",
        """
import os


def scaled(*batch):
    # tf.data passes (images, labels) as two arguments, grain (JAX, PyTorch) as one pair
    images, labels = batch if len(batch) == 2 else batch[0]
    return images / 255.0, labels


def load_image_datasets(directory, image_size, batch_size, seed):
    names = sorted(os.listdir(os.path.join(directory, "train")))
    datasets = []
    for split in ("train", "valid", "test"):
        ds = keras.utils.image_dataset_from_directory(
            os.path.join(directory, split), labels="inferred", label_mode="categorical",
            class_names=names, image_size=image_size, batch_size=batch_size,
            shuffle=split != "test", seed=seed,
            format="tf" if keras.backend.backend() == "tensorflow" else "grain",
        )
        datasets.append(ds.map(scaled))
    return datasets[0], datasets[1], datasets[2], names
""",
    ),
    Alternative(
        "sequential_head_with_max_pooling_and_dropout",
        """
def build_transfer_model(base_model, n_classes):
    for layer in base_model.layers:
        layer.trainable = False
    base_model.trainable = False
    model = keras.Sequential([
        keras.Input(shape=base_model.input_shape[1:]),
        base_model,
        keras.layers.GlobalMaxPooling2D(),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(n_classes, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.CategoricalCrossentropy(), metrics=["accuracy"])
    return model
""",
        slow=True,
    ),
    Alternative(
        "functional_on_the_base_output",
        """
def build_transfer_model(base_model, n_classes):
    base_model.trainable = False
    pooled = keras.layers.GlobalAveragePooling2D(name="pool")(base_model.output)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="head")(pooled)
    model = keras.Model(base_model.input, outputs)
    model.compile(optimizer=keras.optimizers.Adam(), loss="categorical_crossentropy")
    return model
""",
        slow=True,
    ),
    Alternative(
        "unfreeze_by_index_with_rmsprop",
        """
def unfreeze_top_layers(model, base_model, n_layers, learning_rate):
    base_model.trainable = True
    first = len(base_model.layers) - n_layers
    for index, layer in enumerate(base_model.layers):
        normalising = isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = index >= first and not normalising
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    return model
""",
        slow=True,
    ),
]

CALLS = {
    "load_image_datasets": ("/nonexistent", (64, 64), 8, 0),
    "build_transfer_model": (None, 2),
    "unfreeze_top_layers": (None, None, 2, 1e-4),
}
