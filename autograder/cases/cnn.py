"""Known mistakes and correct alternatives of ``cnn`` (see :mod:`autograder.cases`).

The mistakes are edits of the reference's definitions; the builder whose learning rate
is far too high is caught by the check that trains only.
"""

import numpy as np

from autograder.cases import Alternative, Mistake

_SCALES = "test_preprocess_images_scales_uint8_to_unit_interval"
_CHANNEL = "test_preprocess_images_adds_channel_axis_last"
_NEW_AXIS = "images = images[..., np.newaxis]"
_FLOAT_COPY = "return images.astype(np.float32)  #"
_SOFTMAX = 'Dense(n_classes, activation="softmax")'
_CE = 'loss="categorical_crossentropy"'
_LOSS = "test_build_cnn_compiled_with_categorical_crossentropy"
_POOL = "keras.layers.MaxPooling2D(2),"  # both pooling layers of the reference

MISTAKES = [
    # preprocess_images
    Mistake(
        "preprocess_leaves_uint8_in_0_255", "preprocess_images",
        edits=[(" / np.float32(255.0)", "")],
        words="still 0 to 255", check=_SCALES, sample=True,
    ),
    Mistake(
        "preprocess_divides_float_images_again", "preprocess_images",
        edits=[(_FLOAT_COPY, "return images.astype(np.float32) / 255.0  #")],
        words="by 255 again", check="test_preprocess_images_keeps_float_images_in_unit_interval",
    ),
    Mistake(  # and no other check fails (tests/checks/test_cnn.py)
        "preprocess_forgets_the_channel_axis", "preprocess_images",
        edits=[(_NEW_AXIS, "pass")],
        words="channel axis is missing", check=_CHANNEL,
    ),
    Mistake(
        "preprocess_puts_the_channel_axis_first", "preprocess_images",
        edits=[(_NEW_AXIS, "images = images[:, np.newaxis, :, :]")],
        words="channel axis comes first", check=_CHANNEL,
    ),
    Mistake(
        "preprocess_returns_float64", "preprocess_images",
        edits=[("images.astype(np.float32) / np.float32(255.0)", "images / 255.0"),
               (_FLOAT_COPY, "return images.astype(float)  #")],
        words="expected dtype float32", check="test_preprocess_images_returns_float32",
    ),
    Mistake(
        "preprocess_scales_by_the_largest_value", "preprocess_images",
        edits=[("np.float32(255.0)", "images.max()")],
        words="largest value", check=_SCALES,
    ),
    Mistake(
        "preprocess_adds_an_axis_to_colour_images", "preprocess_images",
        edits=[("if images.ndim == 3:", "if images.ndim >= 3:")],
        words="already have one", check="test_preprocess_images_keeps_existing_channels",
    ),
    Mistake(
        "preprocess_stretches_float_images_in_place", "preprocess_images",
        edits=[(_FLOAT_COPY, "images -= images.min()\n    images /= images.max()\n    " + _FLOAT_COPY)],
        words="modified its argument `images`", check="test_preprocess_images_does_not_modify_input",
    ),
    # build_cnn
    Mistake(
        "build_linear_output", "build_cnn",
        edits=[(_SOFTMAX, "Dense(n_classes)")],
        words="softmax", check="test_build_cnn_outputs_probabilities",
        learns=False,
    ),
    Mistake(
        "build_relu_output", "build_cnn",
        edits=[(_SOFTMAX, 'Dense(n_classes, activation="relu")')],
        words="softmax", check="test_build_cnn_outputs_probabilities",
    ),
    Mistake(
        "build_sparse_loss", "build_cnn",
        edits=[(_CE, 'loss="sparse_categorical_crossentropy"')],
        words="one-hot", check=_LOSS,
    ),
    Mistake(
        "build_from_logits_with_softmax", "build_cnn",
        edits=[(_CE, "loss=keras.losses.CategoricalCrossentropy(from_logits=True)")],
        words="from_logits=True", check="test_build_cnn_loss_expects_probabilities",
    ),
    Mistake(
        "build_mse_loss", "build_cnn",
        edits=[(_CE, 'loss="mse"')],
        words="'mse'", check=_LOSS,
    ),
    Mistake(
        "build_not_compiled", "build_cnn",
        edits=[(f"    model.compile(optimizer=\"adam\", {_CE}, metrics=[\"accuracy\"])\n", "")],
        words="not compiled", check=_LOSS, also={"test_build_cnn_loss_expects_probabilities": "not compiled"},
    ),
    Mistake(  # the colour check says so too (tests/checks/test_cnn.py)
        "build_hard_coded_10_classes", "build_cnn",
        edits=[(_SOFTMAX, 'Dense(10, activation="softmax")')],
        words="hard-coded to the 10 digits", check="test_build_cnn_grayscale_input_and_output_shapes", also={"test_build_cnn_colour_input_and_output_shapes": "hard-coded to the 10 digits"},
    ),
    Mistake(
        "build_hard_coded_digit_shape", "build_cnn",
        edits=[("keras.Input(shape=input_shape)", "keras.Input(shape=(28, 28, 1))")],
        words="hard-coded to the digits' (28, 28, 1)",
        check="test_build_cnn_colour_input_and_output_shapes",
    ),
    Mistake(
        "build_without_pooling", "build_cnn",
        edits=[(_POOL, ""), ("Conv2D(32, 3, ", "Conv2D(32, 3, strides=2, ")],
        words="MaxPooling2D", check="test_build_cnn_has_a_pooling_layer",
    ),
    Mistake(
        "build_dense_layers_only", "build_cnn",
        edits=[('keras.layers.Conv2D(16, 3, activation="relu"),', ""), (_POOL, ""),
               ('keras.layers.Conv2D(32, 3, activation="relu"),', ""),
               ("keras.layers.Flatten(),", 'keras.layers.Flatten(), keras.layers.Dense(128, activation="relu"),')],
        words="keras.layers.Conv2D", check="test_build_cnn_has_a_conv2d_layer",
    ),
    Mistake(
        "build_millions_of_parameters", "build_cnn",
        edits=[("keras.layers.Flatten(),", 'keras.layers.Flatten(), keras.layers.Dense(4096, activation="relu"),')],
        words="at most 500,000", check="test_build_cnn_parameter_budget",
    ),
    Mistake(
        "build_learning_rate_far_too_high", "build_cnn",
        edits=[('optimizer="adam"', "optimizer=keras.optimizers.Adam(learning_rate=1.0)")],
        words="learning rate", check="test_build_cnn_classifies_held_out_digits", slow=True,
    ),
    Mistake(  # learns, too slowly: about 41% of the digits, a share of the points (test_cnn.py)
        "build_learning_rate_far_too_low", "build_cnn",
        edits=[('optimizer="adam"', "optimizer=keras.optimizers.Adam(learning_rate=5e-6)")],
        words="grow linearly", check="test_build_cnn_classifies_held_out_digits", slow=True,
    ),
    Mistake(  # cannot learn, and passes every other check of build_cnn (test_cnn.py)
        "cnn_cannot_learn_learning_rate_0", "build_cnn",
        edits=[('optimizer="adam"', 'optimizer=keras.optimizers.Adam(learning_rate=0.0)')],
        words="learned nothing", check="test_build_cnn_classifies_held_out_digits", slow=True, learns=False,
    ),
    Mistake(  # cannot learn: every layer frozen
        "cnn_cannot_learn_frozen_layers", "build_cnn",
        edits=[('    model.compile(', '    model.trainable = False\n    model.compile(')],
        words="learned nothing", check="test_build_cnn_classifies_held_out_digits", slow=True, learns=False,
    ),
]  # fmt: skip

ALTERNATIVES = [
    Alternative(
        "largest_value_heuristic_and_expand_dims",
        """
def preprocess_images(images):
    x = np.array(images, dtype=np.float32)
    if x.max() > 1.0:
        x = x / 255.0
    if x.ndim == 3:
        x = np.expand_dims(x, axis=-1)
    return x
""",
    ),
    Alternative(
        "reshape_and_reciprocal_in_float64_then_cast",
        """
def preprocess_images(images):
    images = np.asarray(images)
    if len(images.shape) == 3:
        images = images.reshape(images.shape + (1,))
    if images.dtype == np.uint8:
        return (images * (1.0 / 255)).astype("float32")
    return images.astype("float32", copy=True)
""",
    ),
    Alternative(
        "loop_over_images",
        """
def preprocess_images(images):
    out = []
    for image in images:
        image = np.asarray(image, dtype=np.float32)
        if image.ndim == 2:
            image = image[:, :, None]
        if images.dtype == np.uint8:
            image = image / 255
        out.append(image)
    return np.stack(out)
""",
    ),
    Alternative(
        "true_divide_into_float32",
        """
def preprocess_images(images):
    if images.dtype.kind in "ui":
        out = np.true_divide(images, 255, dtype=np.float32)
    else:
        out = np.array(images, dtype=np.float32)
    return out if out.ndim == 4 else out[..., None]
""",
    ),
    # Builders written otherwise: the check that trains them tells (slow).
    Alternative(
        "functional_wider_with_a_hidden_dense_layer_and_loss_object",
        """
import keras

def build_cnn(input_shape, n_classes):
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Conv2D(32, (3, 3), activation="relu")(inputs)
    x = keras.layers.MaxPooling2D((2, 2))(x)
    x = keras.layers.Conv2D(64, (3, 3), activation="relu")(x)
    x = keras.layers.MaxPooling2D((2, 2))(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(64, activation="relu")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.CategoricalCrossentropy(),
                  metrics=["accuracy"])
    return model
""",
        slow=True,
    ),
    Alternative(
        "nested_feature_extractor_global_average_pooling_loss_function",
        """
import keras

def build_cnn(input_shape, n_classes):
    features = keras.Sequential([
        keras.layers.Conv2D(16, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(64, 3, activation="relu"),
    ], name="features")
    inputs = keras.Input(input_shape)
    pooled = keras.layers.GlobalAveragePooling2D()(features(inputs))
    outputs = keras.layers.Dense(n_classes, activation="softmax")(pooled)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.categorical_crossentropy)
    return model
""",
        slow=True,
    ),
    Alternative(
        "sequential_add_lenet_average_pooling_separate_softmax",
        """
import keras

def build_cnn(input_shape, n_classes):
    model = keras.Sequential()
    model.add(keras.layers.Input(shape=input_shape))
    model.add(keras.layers.Conv2D(8, 5, padding="same"))
    model.add(keras.layers.Activation("relu"))
    model.add(keras.layers.AveragePooling2D(pool_size=2))
    model.add(keras.layers.Conv2D(16, 5, padding="same", activation="relu"))
    model.add(keras.layers.MaxPooling2D(pool_size=2))
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dropout(0.25))
    model.add(keras.layers.Dense(n_classes))
    model.add(keras.layers.Activation("softmax"))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.002),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    return model
""",
        slow=True,
    ),
]

CALLS = {
    "preprocess_images": (np.zeros((2, 4, 5), dtype=np.uint8),),
    "build_cnn": ((28, 28, 1), 10),
}
