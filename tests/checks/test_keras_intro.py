"""The hidden checks of ``keras_intro`` against the reference, the stubs, mistakes and alternatives.

The solution cells and the mistakes use pandas and Keras, so the namespaces here are
built with ``import numpy as np``, ``import pandas as pd`` and ``import keras``, as the
notebook's first cell does. The pandas functions and the model builders are checked
through tasks, which :class:`LocalSubmission` runs in this process. Scoring a
submission runs only the checks of the function it is about, and the two learning
checks (which train a model) only in the tests marked ``slow``, on the reference, the
alternative builders and the builders that do not learn.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.checks import keras_intro as checks
from autograder.scoring import function_of, run_checks
from autograder.submission import LocalSubmission
from tests.harness import (
    FLOAT_RUN,
    GRADER_FAULT,
    ROOT,
    RecordingSubmission,
    assert_caught_helpfully,
    messages_with_float_arrays,
    reference,
    released,
    score,
    training_requests,
)

ASSIGNMENT = "keras_intro"
FUNCTIONS = checks.FUNCTIONS
LEARNING_CHECKS = {
    "build_regression_model": "test_build_regression_model_beats_the_mean",
    "build_classification_model": "test_build_classification_model_beats_the_majority_class",
}
METRICS = {
    "build_regression_model": "keras_intro_regression_mse_ratio_to_mean",
    "build_classification_model": "keras_intro_classification_accuracy",
}
SOURCE = ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"

# A mistake drops the target column with inplace=True, which pandas 3.1 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")


def _of(*functions: str, learning: bool = False):
    """Select the checks of ``functions`` (all if none); the learning checks only if asked."""

    def accept(name: str) -> bool:
        if name in LEARNING_CHECKS.values() and not learning:
            return False
        return not functions or function_of(name, list(FUNCTIONS)) in functions

    return accept


# ---------------------------------------------------------------------------
# The grader's data are the notebook's.
# ---------------------------------------------------------------------------


def test_grader_reads_the_data_sets_of_scikit_learn():
    from sklearn.datasets import load_diabetes, load_wine

    diabetes = load_diabetes(scaled=False)
    features, target = checks._diabetes()
    assert np.array_equal(features, diabetes.data) and np.array_equal(target, diabetes.target)
    wine = load_wine()
    features, labels = checks._wine()
    assert np.array_equal(features, wine.data) and np.array_equal(labels, wine.target)
    assert checks._held_out(442).sum() == 88 and checks._held_out(178).sum() == 35


def test_notebook_keeps_back_the_rows_the_grader_holds_out():
    """The notebook's rule, written out in its data cells, leaves out exactly the held-out rows."""
    import nbformat

    notebook = nbformat.read(SOURCE, as_version=4)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert code.count("keep = np.arange(len(diabetes)) % 5 != 4") == 1
    assert code.count("keep = np.arange(len(wine)) % 5 != 4") == 1
    for n_rows in (442, 178):
        keep = np.arange(n_rows) % 5 != 4
        assert np.array_equal(keep, ~checks._held_out(n_rows))


def test_normalize_problem_separates_every_wrong_statistic():
    """The test rows' own statistics, and the combined ones, give far different z-scores."""
    for seed in range(20):
        _, train, test = checks._normalize_problem(np.random.default_rng(seed))
        right = [checks._zscores(train, test, ddof)[1] for ddof in (0, 1)]
        combined = np.concatenate([train, test])
        wrong = [checks._zscores(test, test, 0)[1], checks._zscores(combined, test, 0)[1]]
        for w in wrong:
            assert all(np.max(np.abs(w - r)) > 100 * checks.Z_ATOL for r in right)
        # The two standard deviations differ by far more than the tolerance, too.
        assert np.max(np.abs(right[0] - right[1])) > 100 * checks.Z_ATOL


# ---------------------------------------------------------------------------
# The reference and the stubs.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_gets_full_marks(seed):
    """Every check but the learning checks (see the slow tests below), for three seeds."""
    results = score(ASSIGNMENT, reference(ASSIGNMENT), seed, _of())
    failed = {name: r.output for name, r in results.items() if not r.passed}
    assert not failed
    assert not set(LEARNING_CHECKS.values()) & set(results)
    for name in results:
        assert function_of(name, list(FUNCTIONS)) is not None, name


LEARNING_SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def reference_learning_runs() -> dict:
    """The two learning checks on the reference, once per seed, with the tasks they ran."""
    runs = {}
    for seed in LEARNING_SEEDS:
        submission = RecordingSubmission(reference(ASSIGNMENT), seed=seed)
        results = run_checks(ASSIGNMENT, submission, lambda n: n in LEARNING_CHECKS.values())
        runs[seed] = ({r.name: r for r in results}, submission)
    return runs


@pytest.mark.slow
@pytest.mark.parametrize("seed", LEARNING_SEEDS)
def test_reference_passes_the_learning_checks(reference_learning_runs, seed):
    results, submission = reference_learning_runs[seed]
    assert set(results) == set(LEARNING_CHECKS.values())
    for result in results.values():
        assert result.passed, result.output
    ratio = submission.metrics[METRICS["build_regression_model"]]
    assert ratio["passed"] and ratio["value"] < ratio["threshold"] - 0.1
    accuracy = submission.metrics[METRICS["build_classification_model"]]
    assert accuracy["passed"] and accuracy["value"] > accuracy["threshold"] + 0.05


@pytest.mark.slow
def test_learning_tasks_get_no_held_out_targets(reference_learning_runs):
    """Each training task gets training data and held-out features only, perturbed."""
    _, submission = reference_learning_runs[LEARNING_SEEDS[0]]
    trainings = training_requests(submission)
    assert len(trainings) == 2
    builders = [args[0] for _, args, _ in submission.tasks]
    public = {
        "build_regression_model": checks._diabetes()[0],
        "build_classification_model": checks._wine()[0],
    }
    for builder, training in zip(builders, trainings, strict=True):
        x_train, y_train, x_test = training["x_train"], training["y_train"], training["x_test"]
        assert len(y_train) == len(x_train) and len(x_test) != len(x_train)
        held = checks._held_out(len(public[builder]))
        assert len(x_train) == int((~held).sum())
        copies = len(x_test) // int(held.sum())
        assert copies >= 3 and len(x_test) == copies * int(held.sum())
        # The held-out rows arrive standardised with noise: none equals a clean row.
        features = public[builder]
        mean, std = features[~held].mean(axis=0), features[~held].std(axis=0)
        clean = (features[held] - mean) / std
        distances = np.abs(x_test[:, None, :] - clean[None, :, :]).max(axis=2)
        assert distances.min() > 1e-3


def test_stub_functions_raise_not_implemented():
    import pandas as pd

    stub = released(ASSIGNMENT)
    frame = pd.DataFrame({"a": [1.0, 2.0], "y": [3.0, 4.0]})
    arguments = {
        "split_predictors_target": (frame, "y"),
        "normalize": (frame, frame),
        "to_one_hot": (np.array([0, 1]), 3),
        "build_regression_model": (4,),
        "build_classification_model": (4, 3),
    }
    for function in FUNCTIONS:
        with pytest.raises(NotImplementedError):
            stub[function](*arguments[function])


# ---------------------------------------------------------------------------
# Common mistakes: (id, function, replacement source).
# ---------------------------------------------------------------------------

_NORMALIZE = """
def normalize(train, test):
    {body}
"""

_REGRESSION = """
def build_regression_model(n_features):
    model = keras.Sequential([
        keras.Input(shape=({inputs},)),
        keras.layers.Dense({hidden}, activation="relu"),
        {output},
    ])
    {compile}
    return model
"""


def _regression(
    inputs="n_features",
    hidden="32",
    output="keras.layers.Dense(1)",
    compile='model.compile(optimizer="adam", loss="mse")',
) -> str:
    return _REGRESSION.format(inputs=inputs, hidden=hidden, output=output, compile=compile)


_CLASSIFICATION = """
def build_classification_model(n_features, n_classes):
    model = keras.Sequential([
        keras.Input(shape=({inputs},)),
        keras.layers.Dense({hidden}, activation="relu"),
        {output},
    ])
    model.compile(optimizer={optimizer}, loss={loss}, metrics=["accuracy"])
    return model
"""


def _classification(
    inputs="n_features",
    hidden="32",
    output='keras.layers.Dense(n_classes, activation="softmax")',
    optimizer='"adam"',
    loss='"categorical_crossentropy"',
) -> str:
    return _CLASSIFICATION.format(
        inputs=inputs, hidden=hidden, output=output, optimizer=optimizer, loss=loss
    )


MUTANTS = [
    (
        "split_takes_the_last_column_as_target",
        "split_predictors_target",
        """
def split_predictors_target(df, target):
    return df.iloc[:, :-1], df.iloc[:, -1]
""",
    ),
    (
        "split_target_as_one_column_dataframe",
        "split_predictors_target",
        """
def split_predictors_target(df, target):
    return df.drop(columns=[target]), df[[target]]
""",
    ),
    (
        "split_pops_the_target_from_the_input",
        "split_predictors_target",
        """
def split_predictors_target(df, target):
    y = df.pop(target)
    return df, y
""",
    ),
    (
        "split_drops_in_place",
        "split_predictors_target",
        """
def split_predictors_target(df, target):
    y = df[target].copy()
    df.drop(columns=target, inplace=True)
    return df, y
""",
    ),
    (
        "split_keeps_the_target_among_the_predictors",
        "split_predictors_target",
        """
def split_predictors_target(df, target):
    return df, df[target]
""",
    ),
    (
        "split_returns_numpy_arrays",
        "split_predictors_target",
        """
def split_predictors_target(df, target):
    return df.drop(columns=target).to_numpy(), df[target].to_numpy()
""",
    ),
    (
        "split_returns_target_first",
        "split_predictors_target",
        """
def split_predictors_target(df, target):
    return df[target], df.drop(columns=target)
""",
    ),
    (
        "normalize_test_with_its_own_statistics",
        "normalize",
        _NORMALIZE.format(
            body="return (train - train.mean()) / train.std(), (test - test.mean()) / test.std()"
        ),
    ),
    (
        "normalize_with_train_and_test_together",
        "normalize",
        _NORMALIZE.format(
            body="both = pd.concat([train, test])\n"
            "    return (train - both.mean()) / both.std(), (test - both.mean()) / both.std()"
        ),
    ),
    (
        "normalize_centres_only",
        "normalize",
        _NORMALIZE.format(body="return train - train.mean(), test - train.mean()"),
    ),
    (
        "normalize_divides_by_the_variance",
        "normalize",
        _NORMALIZE.format(
            body="return (train - train.mean()) / train.var(), (test - train.mean()) / train.var()"
        ),
    ),
    (
        "normalize_min_max",
        "normalize",
        _NORMALIZE.format(
            body="low, high = train.min(), train.max()\n"
            "    return (train - low) / (high - low), (test - low) / (high - low)"
        ),
    ),
    (
        "normalize_rows_instead_of_columns",
        "normalize",
        _NORMALIZE.format(
            body="return (train - train.mean(axis=1)) / train.std(axis=1), "
            "(test - train.mean(axis=1)) / train.std(axis=1)"
        ),
    ),
    (
        "normalize_rows_of_numpy_arrays",
        "normalize",
        _NORMALIZE.format(
            body="a, b = train.to_numpy(), test.to_numpy()\n"
            "    m, s = a.mean(axis=1, keepdims=True), a.std(axis=1, keepdims=True)\n"
            "    return (a - m) / s, (b - b.mean(axis=1, keepdims=True)) / b.std(axis=1, keepdims=True)"
        ),
    ),
    (
        "normalize_in_place",
        "normalize",
        _NORMALIZE.format(
            body="mean, std = train.mean(), train.std()\n"
            "    train -= mean\n    train /= std\n    test -= mean\n    test /= std\n"
            "    return train, test"
        ),
    ),
    (
        "one_hot_ignores_n_classes",
        "to_one_hot",
        """
def to_one_hot(labels, n_classes):
    labels = np.asarray(labels)
    return np.eye(labels.max() + 1)[labels]
""",
    ),
    (
        "one_hot_labels_counted_from_1",
        "to_one_hot",
        """
def to_one_hot(labels, n_classes):
    return np.eye(n_classes)[np.asarray(labels) - 1]
""",
    ),
    (
        "one_hot_transposed",
        "to_one_hot",
        """
def to_one_hot(labels, n_classes):
    return np.eye(n_classes)[:, labels]
""",
    ),
    (
        "one_hot_of_integers",
        "to_one_hot",
        """
def to_one_hot(labels, n_classes):
    return (np.asarray(labels)[:, None] == np.arange(n_classes)).astype(int)
""",
    ),
    (
        "regression_relu_output",
        "build_regression_model",
        _regression(output='keras.layers.Dense(1, activation="relu")'),
    ),
    (
        "regression_mae_loss",
        "build_regression_model",
        _regression(compile='model.compile(optimizer="adam", loss="mae")'),
    ),  # fmt: skip
    ("regression_not_compiled", "build_regression_model", _regression(compile="")),
    (
        "regression_one_output_per_feature",
        "build_regression_model",
        _regression(output="keras.layers.Dense(n_features)"),
    ),
    ("regression_hard_coded_10_features", "build_regression_model", _regression(inputs="10")),
    (
        "regression_far_too_large",
        "build_regression_model",
        _regression(hidden="4096"),
    ),
    (
        "classification_linear_output",
        "build_classification_model",
        _classification(output="keras.layers.Dense(n_classes)"),
    ),
    (
        "classification_sigmoid_output",
        "build_classification_model",
        _classification(output='keras.layers.Dense(n_classes, activation="sigmoid")'),
    ),
    (
        "classification_sparse_loss",
        "build_classification_model",
        _classification(loss='"sparse_categorical_crossentropy"'),
    ),
    (
        "classification_from_logits_with_softmax",
        "build_classification_model",
        _classification(loss="keras.losses.CategoricalCrossentropy(from_logits=True)"),
    ),
    (
        "classification_binary_crossentropy",
        "build_classification_model",
        _classification(loss='"binary_crossentropy"'),
    ),
    (
        "classification_hard_coded_3_classes",
        "build_classification_model",
        _classification(output='keras.layers.Dense(3, activation="softmax")'),
    ),
    (
        "classification_arguments_swapped",
        "build_classification_model",
        _classification(
            inputs="n_classes", output='keras.layers.Dense(n_features, activation="softmax")'
        ),
    ),
    (
        "classification_far_too_large",
        "build_classification_model",
        _classification(hidden="2048"),
    ),
]

#: Builders whose models do not learn within the grader's budget: only the learning checks.
LEARNING_MUTANTS = [
    (
        "regression_sgd_far_too_slow",
        "build_regression_model",
        _regression(compile="model.compile(optimizer=keras.optimizers.SGD(1e-5), loss='mse')"),
    ),
    (
        "classification_sgd_far_too_slow",
        "build_classification_model",
        _classification(optimizer="keras.optimizers.SGD(1e-5)"),
    ),
]


@pytest.fixture(scope="module")
def mutant_results() -> dict:
    return {
        mutant_id: score(ASSIGNMENT, reference(ASSIGNMENT, source), seed=7, only=_of(function))
        for mutant_id, function, source in MUTANTS
    }


@pytest.fixture(scope="module")
def learning_mutant_results() -> dict:
    results = {}
    for mutant_id, function, source in LEARNING_MUTANTS:
        submission = LocalSubmission(reference(ASSIGNMENT, source), seed=7)
        check = LEARNING_CHECKS[function]
        (result,) = run_checks(ASSIGNMENT, submission, lambda name, c=check: name == c)
        results[mutant_id] = (result, submission)
    return results


@pytest.mark.parametrize(
    ("mutant_id", "function"),
    [(mutant_id, function) for mutant_id, function, _ in MUTANTS],
    ids=[mutant_id for mutant_id, _, _ in MUTANTS],
)
def test_mutant_fails_a_check_of_its_function(mutant_results, mutant_id, function):
    results = mutant_results[mutant_id]
    assert results and all(function_of(name, list(FUNCTIONS)) == function for name in results)
    assert_caught_helpfully(results, function, FUNCTIONS, mutant_id)


@pytest.mark.parametrize(
    ("mutant_id", "check", "words"),
    [
        ("split_takes_the_last_column_as_target", "test_split_predictors_target_values",
         "drop it by name"),
        ("split_target_as_one_column_dataframe",
         "test_split_predictors_target_returns_dataframe_and_series", "df[[target]]"),
        ("split_pops_the_target_from_the_input",
         "test_split_predictors_target_does_not_modify_input", "df.pop(target)"),
        ("split_drops_in_place", "test_split_predictors_target_does_not_modify_input",
         "inplace=True"),
        ("split_keeps_the_target_among_the_predictors", "test_split_predictors_target_values",
         "still among the predictors"),
        ("split_returns_numpy_arrays",
         "test_split_predictors_target_returns_dataframe_and_series", "Keep the pandas objects"),
        ("split_returns_target_first",
         "test_split_predictors_target_returns_dataframe_and_series", "predictors come first"),
        ("normalize_test_with_its_own_statistics",
         "test_normalize_uses_training_statistics_for_test", "test set's own mean"),
        ("normalize_with_train_and_test_together",
         "test_normalize_training_columns_have_mean_0_and_std_1", "train and test together"),
        ("normalize_with_train_and_test_together",
         "test_normalize_uses_training_statistics_for_test", "train and test together"),
        ("normalize_centres_only", "test_normalize_training_columns_have_mean_0_and_std_1",
         "did not divide by the standard deviation"),
        ("normalize_divides_by_the_variance",
         "test_normalize_training_columns_have_mean_0_and_std_1", "divided by the variance"),
        ("normalize_min_max", "test_normalize_training_columns_have_mean_0_and_std_1",
         "min-max scaling"),
        ("normalize_rows_instead_of_columns",
         "test_normalize_training_columns_have_mean_0_and_std_1", "statistics of each column"),
        ("normalize_rows_of_numpy_arrays",
         "test_normalize_training_columns_have_mean_0_and_std_1", "statistics of each row"),
        ("normalize_in_place", "test_normalize_does_not_modify_inputs",
         "modified its argument `train`"),
        ("one_hot_ignores_n_classes", "test_to_one_hot_rows_are_one_hot",
         "n_classes columns, even for classes that do not occur"),
        ("one_hot_labels_counted_from_1", "test_to_one_hot_rows_are_one_hot",
         "one column to the left"),
        ("one_hot_transposed", "test_to_one_hot_rows_are_one_hot", "transposed"),
        ("one_hot_of_integers", "test_to_one_hot_returns_floats", "array of floats"),
        ("regression_relu_output", "test_build_regression_model_has_a_linear_output", "'relu'"),
        ("regression_mae_loss", "test_build_regression_model_compiled_with_mse", "'mae'"),
        ("regression_not_compiled", "test_build_regression_model_compiled_with_mse",
         "not compiled"),
        ("regression_one_output_per_feature",
         "test_build_regression_model_input_and_output_shapes", "Dense(1)"),
        ("regression_hard_coded_10_features",
         "test_build_regression_model_input_and_output_shapes", "keras.Input(shape=(n_features,))"),
        ("regression_far_too_large", "test_build_regression_model_parameter_budget",
         "at most 50,000"),
        ("classification_linear_output",
         "test_build_classification_model_outputs_probabilities", "no softmax"),
        ("classification_sigmoid_output",
         "test_build_classification_model_outputs_probabilities", "sigmoid"),
        ("classification_sparse_loss",
         "test_build_classification_model_compiled_with_categorical_crossentropy",
         "expects integer labels"),
        ("classification_from_logits_with_softmax",
         "test_build_classification_model_loss_reads_probabilities", "from_logits=True"),
        ("classification_binary_crossentropy",
         "test_build_classification_model_compiled_with_categorical_crossentropy",
         "Binary cross-entropy"),
        ("classification_hard_coded_3_classes",
         "test_build_classification_model_input_and_output_shapes", "Dense(n_classes"),
        ("classification_arguments_swapped",
         "test_build_classification_model_input_and_output_shapes", "input shape"),
        ("classification_far_too_large", "test_build_classification_model_parameter_budget",
         "at most 50,000"),
    ],
)  # fmt: skip
def test_mutant_is_caught_by_the_check_meant_for_it(mutant_results, mutant_id, check, words):
    result = mutant_results[mutant_id][check]
    assert not result.passed
    assert words in result.output, result.output


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mutant_id", "words"),
    [
        ("regression_sgd_far_too_slow", "times that of predicting the training mean"),
        ("classification_sgd_far_too_slow", "most common cultivar"),
    ],
)
def test_builder_that_does_not_learn_fails_the_learning_check(
    learning_mutant_results, mutant_id, words
):
    result, submission = learning_mutant_results[mutant_id]
    assert not result.passed
    assert words in result.output, result.output
    assert GRADER_FAULT not in result.output
    assert not FLOAT_RUN.search(result.output), result.output
    (metric,) = submission.metrics.values()
    assert not metric["passed"]


def test_task_errors_name_the_students_function():
    """A builder that raises is reported under its own name, with what the grader was doing."""
    broken = """
def build_regression_model(n_features):
    return keras.Sequential([keras.layers.Dense(1)]).compile(loss="mse")
"""
    results = score(
        ASSIGNMENT, reference(ASSIGNMENT, broken), seed=2, only=_of("build_regression_model")
    )
    for result in results.values():
        assert not result.passed
        assert "build_regression_model" in result.output and GRADER_FAULT not in result.output
        assert "keras_models" not in result.output and "keras_intro." not in result.output


# ---------------------------------------------------------------------------
# Correct alternatives: (id, functions they replace, sources).
# ---------------------------------------------------------------------------

ALTERNATIVES = [
    (
        "split_with_loc_and_a_list_of_columns",
        ("split_predictors_target",),
        [
            """
def split_predictors_target(df, target):
    columns = [name for name in df.columns if name != target]
    return df.loc[:, columns], df.loc[:, target]
"""
        ],
    ),
    (
        "split_pops_from_a_copy",
        ("split_predictors_target",),
        [
            """
def split_predictors_target(df, target):
    predictors = df.copy()
    target_values = predictors.pop(target)
    return predictors, target_values
"""
        ],
    ),
    (
        "split_drop_with_axis_and_a_copied_series",
        ("split_predictors_target",),
        [
            """
def split_predictors_target(df, target):
    return df.drop(target, axis=1), pd.Series(df[target].to_numpy(), name=target)
"""
        ],
    ),
    (
        "normalize_numpy_population_std_returning_arrays",
        ("normalize",),
        [
            """
def normalize(train, test):
    a, b = np.asarray(train, dtype=float), np.asarray(test, dtype=float)
    mean, std = a.mean(axis=0), a.std(axis=0)
    return (a - mean) / std, (b - mean) / std
"""
        ],
    ),
    (
        "normalize_column_by_column_float32",
        ("normalize",),
        [
            """
def normalize(train, test):
    train_n, test_n = pd.DataFrame(index=train.index), pd.DataFrame(index=test.index)
    for column in train.columns:
        mean, std = train[column].mean(), train[column].std(ddof=0)
        train_n[column] = ((train[column] - mean) / std).astype("float32")
        test_n[column] = ((test[column] - mean) / std).astype("float32")
    return train_n, test_n
"""
        ],
    ),
    (
        "normalize_with_a_scikit_learn_scaler",
        ("normalize",),
        [
            """
def normalize(train, test):
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train)
    return scaler.transform(train), scaler.transform(test)
"""
        ],
    ),
    (
        "normalize_with_a_stats_table",
        ("normalize",),
        [
            """
def normalize(train, test):
    stats = train.describe().transpose()
    return (train - stats["mean"]) / stats["std"], (test - stats["mean"]) / stats["std"]
"""
        ],
    ),
    (
        "one_hot_with_keras",
        ("to_one_hot",),
        [
            """
def to_one_hot(labels, n_classes):
    return keras.utils.to_categorical(labels, n_classes)
"""
        ],
    ),
    (
        "one_hot_in_a_loop",
        ("to_one_hot",),
        [
            """
def to_one_hot(labels, n_classes):
    out = np.zeros((len(labels), n_classes))
    for i, label in enumerate(labels):
        out[i, int(label)] = 1.0
    return out
"""
        ],
    ),
    (
        "one_hot_by_comparison_as_float32",
        ("to_one_hot",),
        [
            """
def to_one_hot(labels, n_classes):
    return (np.asarray(labels)[:, None] == np.arange(n_classes)).astype(np.float32)
"""
        ],
    ),
    (
        "one_hot_as_a_list_of_lists",
        ("to_one_hot",),
        [
            """
def to_one_hot(labels, n_classes):
    return [[1.0 if k == label else 0.0 for k in range(n_classes)] for label in labels]
"""
        ],
    ),
]

#: Builders written differently; trained by the learning checks (slow).
BUILDER_ALTERNATIVES = [
    (
        "regression_functional_one_layer_of_16_loss_object",
        "build_regression_model",
        """
def build_regression_model(n_features):
    inputs = keras.Input(shape=(n_features,))
    hidden = keras.layers.Dense(16, activation="relu")(inputs)
    outputs = keras.layers.Dense(1)(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.MeanSquaredError())
    return model
""",
    ),
    (
        "regression_three_tanh_layers_added_one_by_one",
        "build_regression_model",
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
    ),
    (
        "regression_two_of_50_dropout_and_a_linear_activation_layer",
        "build_regression_model",
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
    ),
    (
        "classification_functional_64_32_loss_object",
        "build_classification_model",
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
    ),
    (
        "classification_tanh_16_and_a_softmax_layer_loss_function",
        "build_classification_model",
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
    ),
    (
        "classification_without_hidden_layer_faster_adam",
        "build_classification_model",
        """
def build_classification_model(n_features, n_classes):
    model = keras.Sequential(
        [keras.Input((n_features,)), keras.layers.Dense(n_classes, activation="softmax")]
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    return model
""",
    ),
]


@pytest.mark.parametrize(
    ("functions", "sources"),
    [(functions, sources) for _, functions, sources in ALTERNATIVES],
    ids=[alternative for alternative, _, _ in ALTERNATIVES],
)
def test_correct_alternative_gets_full_marks(functions, sources):
    results = score(ASSIGNMENT, reference(ASSIGNMENT, *sources), seed=5, only=_of(*functions))
    failed = {name: r.output for name, r in results.items() if not r.passed}
    assert not failed
    assert {function_of(name, list(FUNCTIONS)) for name in results} == set(functions)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("function", "source"),
    [(function, source) for _, function, source in BUILDER_ALTERNATIVES],
    ids=[alternative for alternative, _, _ in BUILDER_ALTERNATIVES],
)
def test_correct_alternative_builder_gets_full_marks(function, source):
    results = score(
        ASSIGNMENT, reference(ASSIGNMENT, source), seed=5, only=_of(function, learning=True)
    )
    failed = {name: r.output for name, r in results.items() if not r.passed}
    assert not failed
    assert LEARNING_CHECKS[function] in results


def test_every_builder_has_three_alternatives():
    builders = [function for _, function, _ in BUILDER_ALTERNATIVES]
    for function in LEARNING_CHECKS:
        assert builders.count(function) >= 3, function
    data_functions = [f for _, functions, _ in ALTERNATIVES for f in functions]
    for function in ("split_predictors_target", "normalize", "to_one_hot"):
        assert data_functions.count(function) >= 3, function


# ---------------------------------------------------------------------------
# Messages reveal no hidden values.
# ---------------------------------------------------------------------------


def test_messages_contain_no_float_arrays(mutant_results):
    assert FLOAT_RUN.search(str(np.linspace(0.1, 0.9, 5)))  # the pattern does find arrays
    assert not messages_with_float_arrays(mutant_results)


def _formats(value: float) -> list[str]:
    return [f"{value:{spec}}" for spec in (".6g", ".4g", ".3g", ".2f")] + [repr(value)]


def test_messages_do_not_reveal_the_expected_z_scores():
    """A normalize that uses the test set's statistics: the right test_n is not in the message."""
    seen: list = []
    spy = """
def normalize(train, test):
    _seen.append((train.to_numpy().copy(), test.to_numpy().copy()))
    return (train - train.mean()) / train.std(), (test - test.mean()) / test.std()
"""
    namespace = reference(ASSIGNMENT, spy)
    namespace["_seen"] = seen
    results = score(ASSIGNMENT, namespace, seed=11, only=_of("normalize"))
    output = results["test_normalize_uses_training_statistics_for_test"].output
    assert "not the test rows' z-scores" in output
    train, test = seen[-1]
    expected = checks._zscores(train, test, 1)[1]
    for value in expected.ravel()[:30]:
        if abs(value) < 0.01:
            continue  # digits like 0.00 are too common to mean anything
        for text in _formats(float(value)):
            assert text not in output, (text, output)


def test_messages_do_not_reveal_the_one_hot_rows():
    """A to_one_hot off by one: the message names the mistake, not the expected matrix."""
    results = score(
        ASSIGNMENT,
        reference(ASSIGNMENT, dict((m, s) for m, _, s in MUTANTS)["one_hot_labels_counted_from_1"]),
        seed=12,
        only=_of("to_one_hot"),
    )
    output = results["test_to_one_hot_rows_are_one_hot"].output
    assert "[[" not in output and "0., 1." not in output and "1., 0." not in output
