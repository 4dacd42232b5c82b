"""Known mistakes and correct alternatives of ``keras_intro`` (see :mod:`autograder.cases`).

The mistakes are edits of the reference's definitions; the two builders that do not
learn (plain SGD with a tiny learning rate) are caught by the checks that train only.
"""

import numpy as np
import pandas as pd

from autograder.cases import Alternative, Mistake

_SPLIT = "split_predictors_target"
_SPLIT_TYPES = "test_split_predictors_target_returns_dataframe_and_series"
_SPLIT_VALUES = "test_split_predictors_target_values"
_SPLIT_INPUT = "test_split_predictors_target_does_not_modify_input"
_TRAIN_N = "test_normalize_training_columns_have_mean_0_and_std_1"
_TEST_N = "test_normalize_uses_training_statistics_for_test"
_EYE = "np.eye(n_classes)[labels]"
_REGRESSION = "build_regression_model"
_REGRESSION_SHAPES = "test_build_regression_model_input_and_output_shapes"
_CLASSIFICATION = "build_classification_model"
_CLASSIFICATION_LOSS = "test_build_classification_model_compiled_with_categorical_crossentropy"
_CLASSIFICATION_SHAPES = "test_build_classification_model_input_and_output_shapes"
_SOFTMAX = 'Dense(n_classes, activation="softmax")'
_CE = 'loss="categorical_crossentropy"'

MISTAKES = [
    # split_predictors_target
    Mistake(
        "split_takes_the_last_column_as_target", _SPLIT,
        edits=[("df.drop(columns=target)", "df.iloc[:, :-1]"),
               ("target_values = df[target]", "target_values = df.iloc[:, -1]")],
        words="drop it by name", check=_SPLIT_VALUES,
    ),
    Mistake(
        "split_target_as_one_column_dataframe", _SPLIT,
        edits=[("target_values = df[target]", "target_values = df[[target]]")],
        words="df[[target]]", check=_SPLIT_TYPES,
    ),
    Mistake(
        "split_pops_the_target_from_the_input", _SPLIT,
        edits=[("predictors = df.drop(columns=target)", "predictors = df"),
               ("target_values = df[target]", "target_values = df.pop(target)")],
        words="df.pop(target)", check=_SPLIT_INPUT,
    ),
    Mistake(
        "split_drops_in_place", _SPLIT,
        edits=[("    target_values = df[target]  # (N,), a Series named after the column\n", ""),
               ("predictors = df.drop(columns=target)",
                "target_values = df[target].copy()\n"
                "    df.drop(columns=target, inplace=True)\n"
                "    predictors = df")],
        words="inplace=True", check=_SPLIT_INPUT,
    ),
    Mistake(
        "split_keeps_the_target_among_the_predictors", _SPLIT,
        edits=[("predictors = df.drop(columns=target)", "predictors = df")],
        words="still among the predictors", check=_SPLIT_VALUES,
    ),
    Mistake(
        "split_returns_numpy_arrays", _SPLIT,
        edits=[("return predictors, target_values",
                "return predictors.to_numpy(), target_values.to_numpy()")],
        words="Keep the pandas objects", check=_SPLIT_TYPES,
    ),
    Mistake(
        "split_returns_target_first", _SPLIT,
        edits=[("return predictors, target_values", "return target_values, predictors")],
        words="predictors come first", check=_SPLIT_TYPES,
    ),
    # normalize
    Mistake(
        "normalize_with_the_test_sets_statistics", "normalize",
        edits=[("mean = train.mean()", "mean = test.mean()"),
               ("std = train.std()", "std = test.std()")],
        words="test set's own mean", check=_TEST_N, sample=True,
    ),
    Mistake(
        "normalize_test_with_its_own_statistics", "normalize",
        edits=[("test_n = (test - mean) / std", "test_n = (test - test.mean()) / test.std()")],
        words="test set's own mean", check=_TEST_N,
    ),
    Mistake(  # the training check says so too (tests/checks/test_keras_intro.py)
        "normalize_with_train_and_test_together", "normalize",
        edits=[("mean = train.mean()", "both = pd.concat([train, test])\n    mean = both.mean()"),
               ("std = train.std()", "std = both.std()")],
        words="train and test together", check=_TEST_N, also={"test_normalize_training_columns_have_mean_0_and_std_1": "train and test together"},
    ),
    Mistake(
        "normalize_centres_only", "normalize",
        edits=[("(train - mean) / std", "train - mean"), ("(test - mean) / std", "test - mean")],
        words="did not divide by the standard deviation", check=_TRAIN_N,
    ),
    Mistake(
        "normalize_divides_by_the_variance", "normalize",
        edits=[("std = train.std()", "std = train.var()")],
        words="divided by the variance", check=_TRAIN_N,
    ),
    Mistake(
        "normalize_min_max", "normalize",
        edits=[("mean = train.mean()", "mean = train.min()"),
               ("std = train.std()", "std = train.max() - train.min()")],
        words="min-max scaling", check=_TRAIN_N,
    ),
    Mistake(
        "normalize_rows_instead_of_columns", "normalize",
        edits=[("train.mean()", "train.mean(axis=1)"), ("train.std()", "train.std(axis=1)")],
        words="statistics of each column", check=_TRAIN_N,
    ),
    Mistake(
        "normalize_rows_of_numpy_arrays", "normalize",
        source="""
def normalize(train, test):
    a, b = train.to_numpy(), test.to_numpy()
    m, s = a.mean(axis=1, keepdims=True), a.std(axis=1, keepdims=True)
    return (a - m) / s, (b - b.mean(axis=1, keepdims=True)) / b.std(axis=1, keepdims=True)
""",
        words="statistics of each row", check=_TRAIN_N,
    ),
    Mistake(
        "normalize_in_place", "normalize",
        edits=[("train_n = (train - mean) / std", "train -= mean\n    train /= std\n    train_n = train"),
               ("test_n = (test - mean) / std", "test -= mean\n    test /= std\n    test_n = test")],
        words="modified its argument `train`", check="test_normalize_does_not_modify_inputs",
    ),
    # to_one_hot
    Mistake(
        "one_hot_ignores_n_classes", "to_one_hot",
        edits=[(_EYE, "np.eye(labels.max() + 1)[labels]")],
        words="n_classes columns, even for classes that do not occur",
        check="test_to_one_hot_rows_are_one_hot",
    ),
    Mistake(
        "one_hot_labels_counted_from_1", "to_one_hot",
        edits=[(_EYE, "np.eye(n_classes)[labels - 1]")],
        words="one column to the left", check="test_to_one_hot_rows_are_one_hot",
    ),
    Mistake(
        "one_hot_transposed", "to_one_hot",
        edits=[(_EYE, "np.eye(n_classes)[:, labels]")],
        words="transposed", check="test_to_one_hot_rows_are_one_hot",
    ),
    Mistake(
        "one_hot_of_integers", "to_one_hot",
        edits=[(_EYE, "np.eye(n_classes, dtype=int)[labels]")],
        words="array of floats", check="test_to_one_hot_returns_floats",
    ),
    # build_regression_model
    Mistake(
        "regression_relu_output", _REGRESSION,
        edits=[("keras.layers.Dense(1),", 'keras.layers.Dense(1, activation="relu"),')],
        words="'relu'", check="test_build_regression_model_has_a_linear_output",
    ),
    Mistake(
        "regression_mae_loss", _REGRESSION,
        edits=[('loss="mse"', 'loss="mae"')],
        words="'mae'", check="test_build_regression_model_compiled_with_mse",
    ),
    Mistake(
        "regression_not_compiled", _REGRESSION,
        edits=[('    model.compile(optimizer="adam", loss="mse")\n', "")],
        words="not compiled", check="test_build_regression_model_compiled_with_mse",
    ),
    Mistake(
        "regression_one_output_per_feature", _REGRESSION,
        edits=[("keras.layers.Dense(1),", "keras.layers.Dense(n_features),")],
        words="Dense(1)", check=_REGRESSION_SHAPES,
    ),
    Mistake(
        "regression_hard_coded_10_features", _REGRESSION,
        edits=[("keras.Input(shape=(n_features,))", "keras.Input(shape=(10,))")],
        words="keras.Input(shape=(n_features,))", check=_REGRESSION_SHAPES,
    ),
    Mistake(
        "regression_far_too_large", _REGRESSION,
        edits=[('Dense(32, activation="relu"),  # (None, n_features)',
                'Dense(4096, activation="relu"),  # (None, n_features)')],
        words="at most 50,000", check="test_build_regression_model_parameter_budget",
    ),
    Mistake(
        "regression_sgd_far_too_slow", _REGRESSION,
        edits=[('optimizer="adam"', "optimizer=keras.optimizers.SGD(1e-5)")],
        words="times that of predicting the training mean",
        check="test_build_regression_model_beats_the_mean", slow=True,
    ),
    # build_classification_model
    Mistake(
        "classification_linear_output", _CLASSIFICATION,
        edits=[(_SOFTMAX, "Dense(n_classes)")],
        words="no softmax", check="test_build_classification_model_outputs_probabilities",
    ),
    Mistake(
        "classification_sigmoid_output", _CLASSIFICATION,
        edits=[(_SOFTMAX, 'Dense(n_classes, activation="sigmoid")')],
        words="sigmoid", check="test_build_classification_model_outputs_probabilities",
    ),
    Mistake(
        "classification_sparse_loss", _CLASSIFICATION,
        edits=[(_CE, 'loss="sparse_categorical_crossentropy"')],
        words="expects integer labels", check=_CLASSIFICATION_LOSS,
    ),
    Mistake(
        "classification_from_logits_with_softmax", _CLASSIFICATION,
        edits=[(_CE, "loss=keras.losses.CategoricalCrossentropy(from_logits=True)")],
        words="from_logits=True", check="test_build_classification_model_loss_reads_probabilities",
    ),
    Mistake(
        "classification_binary_crossentropy", _CLASSIFICATION,
        edits=[(_CE, 'loss="binary_crossentropy"')],
        words="Binary cross-entropy", check=_CLASSIFICATION_LOSS,
    ),
    Mistake(
        "classification_hard_coded_3_classes", _CLASSIFICATION,
        edits=[(_SOFTMAX, 'Dense(3, activation="softmax")')],
        words="Dense(n_classes", check=_CLASSIFICATION_SHAPES,
    ),
    Mistake(
        "classification_arguments_swapped", _CLASSIFICATION,
        edits=[("keras.Input(shape=(n_features,))", "keras.Input(shape=(n_classes,))"),
               (_SOFTMAX, 'Dense(n_features, activation="softmax")')],
        words="input shape", check=_CLASSIFICATION_SHAPES,
    ),
    Mistake(
        "classification_far_too_large", _CLASSIFICATION,
        edits=[('Dense(32, activation="relu")', 'Dense(2048, activation="relu")')],
        words="at most 50,000", check="test_build_classification_model_parameter_budget",
    ),
    Mistake(
        "classification_sgd_far_too_slow", _CLASSIFICATION,
        edits=[('optimizer="adam"', "optimizer=keras.optimizers.SGD(1e-5)")],
        words="most common cultivar",
        check="test_build_classification_model_beats_the_majority_class", slow=True,
    ),
    Mistake(  # cannot learn, and passes every other check of build_regression_model (test_keras_intro.py)
        "regression_model_cannot_learn_learning_rate_0", "build_regression_model",
        edits=[('optimizer="adam", loss="mse"', 'optimizer=keras.optimizers.Adam(learning_rate=0.0), loss="mse"')],
        words="learned nothing", check="test_build_regression_model_beats_the_mean", slow=True, learns=False,
    ),
    Mistake(  # cannot learn: every layer frozen
        "regression_model_cannot_learn_frozen_layers", "build_regression_model",
        edits=[('    model.compile(', '    model.trainable = False\n    model.compile(')],
        words="learned nothing", check="test_build_regression_model_beats_the_mean", slow=True, learns=False,
    ),
    Mistake(  # cannot learn, and passes every other check of build_classification_model (test_keras_intro.py)
        "classification_model_cannot_learn_learning_rate_0", "build_classification_model",
        edits=[('optimizer="adam", loss="categorical_crossentropy"', 'optimizer=keras.optimizers.Adam(learning_rate=0.0), loss="categorical_crossentropy"')],
        words="learned nothing", check="test_build_classification_model_beats_the_majority_class", slow=True, learns=False,
    ),
    Mistake(  # cannot learn: every layer frozen
        "classification_model_cannot_learn_frozen_layers", "build_classification_model",
        edits=[('    model.compile(', '    model.trainable = False\n    model.compile(')],
        words="learned nothing", check="test_build_classification_model_beats_the_majority_class", slow=True, learns=False,
    ),
]  # fmt: skip

ALTERNATIVES = [
    Alternative(
        "split_with_loc_and_a_list_of_columns",
        """
def split_predictors_target(df, target):
    columns = [name for name in df.columns if name != target]
    return df.loc[:, columns], df.loc[:, target]
""",
    ),
    Alternative(
        "split_pops_from_a_copy",
        """
def split_predictors_target(df, target):
    predictors = df.copy()
    target_values = predictors.pop(target)
    return predictors, target_values
""",
    ),
    Alternative(
        "split_drop_with_axis_and_a_copied_series",
        """
def split_predictors_target(df, target):
    return df.drop(target, axis=1), pd.Series(df[target].to_numpy(), name=target)
""",
    ),
    Alternative(
        "normalize_numpy_population_std_returning_arrays",
        """
def normalize(train, test):
    a, b = np.asarray(train, dtype=float), np.asarray(test, dtype=float)
    mean, std = a.mean(axis=0), a.std(axis=0)
    return (a - mean) / std, (b - mean) / std
""",
    ),
    Alternative(
        "normalize_column_by_column_float32",
        """
def normalize(train, test):
    train_n, test_n = pd.DataFrame(index=train.index), pd.DataFrame(index=test.index)
    for column in train.columns:
        mean, std = train[column].mean(), train[column].std(ddof=0)
        train_n[column] = ((train[column] - mean) / std).astype("float32")
        test_n[column] = ((test[column] - mean) / std).astype("float32")
    return train_n, test_n
""",
    ),
    Alternative(
        "normalize_with_a_scikit_learn_scaler",
        """
def normalize(train, test):
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train)
    return scaler.transform(train), scaler.transform(test)
""",
    ),
    Alternative(
        "normalize_with_a_stats_table",
        """
def normalize(train, test):
    stats = train.describe().transpose()
    return (train - stats["mean"]) / stats["std"], (test - stats["mean"]) / stats["std"]
""",
    ),
    Alternative(
        "one_hot_with_keras",
        """
def to_one_hot(labels, n_classes):
    return keras.utils.to_categorical(labels, n_classes)
""",
    ),
    Alternative(
        "one_hot_in_a_loop",
        """
def to_one_hot(labels, n_classes):
    out = np.zeros((len(labels), n_classes))
    for i, label in enumerate(labels):
        out[i, int(label)] = 1.0
    return out
""",
    ),
    Alternative(
        "one_hot_by_comparison_as_float32",
        """
def to_one_hot(labels, n_classes):
    return (np.asarray(labels)[:, None] == np.arange(n_classes)).astype(np.float32)
""",
    ),
    Alternative(
        "one_hot_as_a_list_of_lists",
        """
def to_one_hot(labels, n_classes):
    return [[1.0 if k == label else 0.0 for k in range(n_classes)] for label in labels]
""",
    ),
    # Builders written otherwise: the checks that train them tell (slow).
    Alternative(
        "regression_functional_one_layer_of_16_loss_object",
        """
def build_regression_model(n_features):
    inputs = keras.Input(shape=(n_features,))
    hidden = keras.layers.Dense(16, activation="relu")(inputs)
    outputs = keras.layers.Dense(1)(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.MeanSquaredError())
    return model
""",
        slow=True,
    ),
    Alternative(
        "regression_three_tanh_layers_added_one_by_one",
        """
def build_regression_model(n_features):
    model = keras.Sequential()
    model.add(keras.layers.Input((n_features,)))
    for units in (64, 32, 16):
        model.add(keras.layers.Dense(units, activation="tanh"))
    model.add(keras.layers.Dense(1))
    model.compile(optimizer="adam", loss="mean_squared_error")
    return model
""",
        slow=True,
    ),
    Alternative(
        "regression_two_of_50_dropout_and_a_linear_activation_layer",
        """
def build_regression_model(n_features):
    model = keras.Sequential([
        keras.Input((n_features,)),
        keras.layers.Dense(50, activation="relu"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(50, activation="relu"),
        keras.layers.Dense(1),
        keras.layers.Activation("linear"),
    ])
    model.compile(optimizer="adam", loss=keras.losses.mean_squared_error, metrics=["mae"])
    return model
""",
        slow=True,
    ),
    Alternative(
        "classification_functional_64_32_loss_object",
        """
def build_classification_model(n_features, n_classes):
    inputs = keras.Input(shape=(n_features,))
    x = keras.layers.Dense(64, activation="relu")(inputs)
    x = keras.layers.Dense(32, activation="relu")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer=keras.optimizers.Adam(), metrics=["accuracy"],
                  loss=keras.losses.CategoricalCrossentropy(name="cross_entropy"))
    return model
""",
        slow=True,
    ),
    Alternative(
        "classification_tanh_16_and_a_softmax_layer_loss_function",
        """
def build_classification_model(n_features, n_classes):
    model = keras.Sequential()
    model.add(keras.Input((n_features,)))
    model.add(keras.layers.Dense(16, activation="tanh"))
    model.add(keras.layers.Dense(n_classes))
    model.add(keras.layers.Softmax())
    model.compile(optimizer="adam", loss=keras.losses.categorical_crossentropy)
    return model
""",
        slow=True,
    ),
    Alternative(
        "classification_without_hidden_layer_faster_adam",
        """
def build_classification_model(n_features, n_classes):
    model = keras.Sequential(
        [keras.Input((n_features,)), keras.layers.Dense(n_classes, activation="softmax")]
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    return model
""",
        slow=True,
    ),
]

_FRAME = pd.DataFrame({"a": [1.0, 2.0], "y": [3.0, 4.0]})
CALLS = {
    "split_predictors_target": (_FRAME, "y"),
    "normalize": (_FRAME, _FRAME),
    "to_one_hot": (np.array([0, 1]), 3),
    "build_regression_model": (4,),
    "build_classification_model": (4, 3),
}
