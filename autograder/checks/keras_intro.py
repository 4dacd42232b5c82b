"""Hidden checks of the ``keras_intro`` assignment: tabular data and the first Keras models.

The student implements ``split_predictors_target``, ``normalize``, ``to_one_hot``,
``build_regression_model`` and ``build_classification_model`` (curriculum.md, section 4).

The data functions. ``split_predictors_target`` and ``normalize`` take pandas
DataFrames, which the channel does not carry: the tasks of
:mod:`autograder.tasks.keras_intro` build the DataFrames in the student's process
from the column names and values drawn here, call the student's function and send
back what it returned as plain data (types, column names, values). The target column
is never the first or the last, so a split by position cannot pass. The test rows of
``normalize`` come from a distribution with another mean and spread than the training
rows, so statistics of the test set (or of both sets together) give clearly different
numbers; the standard deviation may be the population one (``ddof=0``, numpy's
default) or the sample one (``ddof=1``, pandas' default). ``to_one_hot`` is called
directly with integer labels and more classes than the largest label needs.

The models. The student's process only builds each model and exports it as data;
the judge (:mod:`autograder.judge`), a sandbox that never ran the submission's code,
rebuilds it and reports its shapes, the compiled loss with its class and
``from_logits``, its untrained predictions and its predictions after training (a
model that meets the bar before training, or that training does not change, gets no
learning points: :func:`~autograder.checks.common.expect_learned`). The
learning checks use two data sets shipped with scikit-learn, which the grader reads
from scikit-learn's data files itself: the diabetes set (442 patients, 10 measurements,
disease progression after a year) for the regression and the wine set (178 wines, 13
chemical measurements, 3 cultivars) for the classification. Every fifth row (row index
% 5 == 4) is held out: the notebook never uses those rows. The grader standardises the
features (and the regression target) with the statistics of the other rows, trains a
fresh model from the student's builder on them with its own seed and budget, and sends
the held-out features only, several noisy copies of each row in a shuffled order (so an
exact lookup in the public data finds nothing). It scores the returned predictions
against the held-out targets it kept.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from autograder.checks._keras import (
    BUILD_TIMEOUT,
    CATEGORICAL,
    MSE,
    TRAIN_TIMEOUT,
    accuracy,
    carried,
    expect_learned,
    expect_learning_credit,
    expect_loss,
    expect_param_budget,
    model_facts,
    trained_predictions,
    training_seed,
)
from autograder.checks._keras import (
    predictions as untrained_predictions,
)
from autograder.checks.common import (
    Inputs,
    describe,
    diagnose,
    expect_finite,
    expect_finite_array,
    expect_probability_rows,
    expect_shape,
    expect_unmodified,
    fail,
    points,
    report_metric,
    trains,
    unchanged_check,
)

#: The student functions these checks grade (curriculum order).
FUNCTIONS = (
    "split_predictors_target",
    "normalize",
    "to_one_hot",
    "build_regression_model",
    "build_classification_model",
)
#: The installed data sets the checks read (their held-out rows: autograder.heldout).
DATASETS = ("wine", "diabetes")

#: z-scores are numbers of order 1: a correct formula in float64 agrees to about 1e-15 and
#: one that returns float32 to about 1e-6, while a wrong statistic (the test set's own, both
#: sets together, or another ddof than the one matched) moves some z-score by more than
#: 1e-3 (the kit's tests check this over 20 seeds); 1e-5 accepts float32 and rejects them.
Z_ATOL = 1e-5
#: Largest model a builder may return for up to 40 features and 12 classes: 20 times the
#: reference's 2,400 parameters. A few hundred rows need no more, and the grader trains it.
MAX_PARAMS = 50_000

#: Every fifth row (row index % 5 == 4) of each data set is held out for the grader.
HOLD_OUT_EVERY = 5
#: Held-out rows are sent as NOISY_COPIES copies each, with Gaussian noise of standard
#: deviation NOISE (in standard deviations of each feature) and in a shuffled order.
NOISE = 0.1
REGRESSION_COPIES = 3
CLASSIFICATION_COPIES = 5

#: The regression learning check: diabetes, 354 training rows, 88 held out, the grader's
#: budget 30 epochs with batch size 32. Measured on 2 CPU cores over the grading seeds 0-9,
#: the held-out mean squared error divided by that of predicting the training mean: the
#: reference (Dense(32, relu) x 2, Dense(1), Adam) 0.58 +- 0.01 (worst 0.60); other correct
#: models with Keras's default Adam 0.53-0.70 (one hidden layer of 16: worst 0.70; two of
#: 128: worst 0.68; three tanh layers: worst 0.63; two of 50 with dropout: worst 0.61);
#: least squares 0.55. A model that does not learn (SGD, learning rate 1e-5) 0.94-1.42; two
#: layers of 128 with Adam(0.01), which overfits the 354 rows within the budget, 0.79-0.92.
#: Threshold: beat the mean by 20%, 0.10 above the worst correct run and 0.14 under the best
#: run of a model that does not learn.
REGRESSION_EPOCHS = 30
REGRESSION_BATCH_SIZE = 32
# Per backend, the held-out MSE ratio to the mean of the reference over the grading seeds
# 0-4 (benchmarks/backend_metrics.py, 2 CPU cores): tensorflow 0.564±0.024 (max 0.602),
# jax 0.574±0.021 (max 0.601), torch 0.572±0.025 (max 0.603) over 5 seeds.
MAX_RATIO_TO_MEAN = 0.8
#: Partial credit of the regression check, linear from MEAN_RATIO (no points) to
#: MAX_RATIO_TO_MEAN (full points): predicting the training mean (0 for a standardised
#: target) for every row has a ratio of 1 by definition, and learns nothing.
MEAN_RATIO = 1.0

#: The classification learning check: wine, 143 training rows, 35 held out (majority class
#: 40%), the grader's budget 20 epochs with batch size 16. Measured on 2 CPU cores over the
#: grading seeds 0-9, held-out accuracy: the reference (Dense(32, relu), Dense(3, softmax),
#: Adam) 0.98 +- 0.01 (worst 0.966); other correct models 0.91-1.0 (two hidden layers of 64
#: and 32: worst 0.971; one tanh layer of 16 and a Softmax layer: worst 0.914; no hidden
#: layer with Adam(0.01): worst 0.949). A model that does not learn (SGD, learning rate
#: 1e-5) 0.19-0.66. Threshold 0.85: 0.06 under the worst correct run, 0.19 over the best
#: run of a model that does not learn, twice the majority class.
CLASSIFICATION_EPOCHS = 20
CLASSIFICATION_BATCH_SIZE = 16
# Per backend, the held-out accuracy of the reference over the grading seeds 0-4
# (benchmarks/backend_metrics.py, 2 CPU cores): tensorflow 0.970±0.021 (min 0.943), jax
# 0.987±0.011 (min 0.971), torch 0.969±0.019 (min 0.943) over 5 seeds.
MIN_ACCURACY = 0.85
#: Partial credit of the classification check is linear from the majority-class rate of
#: the grader's training rows (about 0.40; no points) to MIN_ACCURACY (full points):
#: answering the most common cultivar for every wine needs no learning, and beats chance
#: (1/3). Computed per run from the training labels (``_majority_rate``).

# ---------------------------------------------------------------------------
# The data sets (read from scikit-learn's data files; scikit-learn is not imported).
# ---------------------------------------------------------------------------


def _sklearn_data(name: str) -> Path:
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the keras_intro checks need scikit-learn's data files")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / name


def _diabetes() -> tuple[np.ndarray, np.ndarray]:
    """``load_diabetes(scaled=False)``: features (442, 10) and target (442,)."""
    features = np.loadtxt(_sklearn_data("diabetes_data_raw.csv.gz"))
    target = np.loadtxt(_sklearn_data("diabetes_target.csv.gz"))
    return features, target


def _wine() -> tuple[np.ndarray, np.ndarray]:
    """``load_wine()``: features (178, 13) and integer classes 0, 1, 2 (178,)."""
    data = np.loadtxt(_sklearn_data("wine_data.csv"), delimiter=",", skiprows=1)
    return data[:, :-1], data[:, -1].astype(int)


def _held_out(n_rows: int) -> np.ndarray:
    """Mask of the rows only the grader uses: every fifth row."""
    return np.arange(n_rows) % HOLD_OUT_EVERY == HOLD_OUT_EVERY - 1


def _standardised(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, std = train.mean(axis=0), train.std(axis=0)
    return (train - mean) / std, (test - mean) / std


def _noisy_copies(rng, x: np.ndarray, y: np.ndarray, copies: int) -> tuple[np.ndarray, ...]:
    """``copies`` noisy copies of each held-out row, shuffled; the targets stay here."""
    x = np.repeat(x, copies, axis=0)
    y = np.repeat(y, copies, axis=0)
    x = x + NOISE * rng.normal(size=x.shape)
    order = rng.permutation(len(x))
    return x[order], y[order]


# ---------------------------------------------------------------------------
# Reference implementation (stays in the grader).
# ---------------------------------------------------------------------------


def _zscores(train: np.ndarray, test: np.ndarray, ddof: int) -> tuple[np.ndarray, np.ndarray]:
    mean, std = train.mean(axis=0), train.std(axis=0, ddof=ddof)
    return (train - mean) / std, (test - mean) / std


def _one_hot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    return np.eye(n_classes)[labels]


def _close(got: np.ndarray, expected: np.ndarray) -> bool:
    return got.shape == expected.shape and bool(np.all(np.abs(got - expected) <= Z_ATOL))


# ---------------------------------------------------------------------------
# split_predictors_target
# ---------------------------------------------------------------------------

_COLUMN_NAMES = (
    "age", "bmi", "pressure", "glucose", "alcohol", "ash", "hue", "proline", "width",
    "height", "depth", "weight", "price", "rooms", "income", "distance",
)  # fmt: skip


def _split_problem(rng) -> tuple[list[str], np.ndarray, str]:
    """Column names, values (N, D) and a target column that is neither first nor last."""
    n_columns = int(rng.integers(4, 8))
    names = [str(name) for name in rng.choice(_COLUMN_NAMES, size=n_columns, replace=False)]
    n_rows = int(rng.integers(8, 16))
    if n_rows == n_columns - 1:
        n_rows += 1
    values = np.round(rng.normal(size=(n_rows, n_columns)) * rng.uniform(1, 50, n_columns), 2)
    target = names[int(rng.integers(1, n_columns - 1))]
    return names, values, target


_SPLIT_PAIR = "`(predictors, target)`. End with `return predictors, target`."


def _split_call(names: list[str], target: str) -> str:
    return f"split_predictors_target(df, {target!r}) on a DataFrame with the columns {names}"


def _split(submission, names, values, target) -> tuple[dict, str]:
    call = _split_call(names, target)
    result = _run_task(
        submission, "split_frame", "split_predictors_target", [names, values, target]
    )
    return _expect_pair(call, result, _SPLIT_PAIR), call


def _run_task(submission, task: str, student: str, args: list, reports_args: bool = False) -> Any:
    """Run a task of ours on a student function; the description it sends back.

    ``reports_args``: the description includes what became of the arguments, which is
    believed only from a process that reported the grader's canary call truly.
    """
    return submission.task(
        f"keras_intro.{task}", student, *args, timeout=BUILD_TIMEOUT, student=student,
        reports_args=reports_args,
    )  # fmt: skip


def _expect_pair(call: str, result: Any, pair: str) -> dict:
    """Fail unless a task's ``result`` describes a returned pair; return the description."""
    if not isinstance(result, dict):
        fail(f"The grader could not read what `{call}` returned ({describe(result)}).")
    if result.get("length") != 2:
        fail(f"`{call}` returned a {result.get('returned')}; expected a tuple of two items, {pair}")
    return result


def _expect_split_answer(call: str, result: Any, names: list[str], n_rows: int) -> dict:
    """Fail unless ``result`` describes a (DataFrame, Series) pair of finite values and the right sizes."""
    result = _expect_pair(call, result, _SPLIT_PAIR)
    kinds = [str(kind) for kind in result.get("kinds") or ["?", "?"]]
    if kinds != ["DataFrame", "Series"]:
        if kinds == ["Series", "DataFrame"]:
            hint = "The predictors come first: `return predictors, target`."
        elif kinds[1] == "DataFrame":
            hint = (
                "df[[target]] (a list of one name) gives a one-column DataFrame; df[target] "
                "gives the column itself, a Series."
            )
        elif "ndarray" in kinds:
            hint = (
                "Keep the pandas objects: df.drop(columns=target) and df[target]; .values and "
                ".to_numpy() turn them into arrays without column names."
            )
        else:
            hint = "Use df.drop(columns=target) for the predictors and df[target] for the target."
        fail(f"`{call}` returned ({', '.join(kinds)}); expected (DataFrame, Series). {hint}")
    expect_finite_array(
        call + ", its predictors",
        result.get("predictors_values"),
        (n_rows, len(names) - 1),
        hint="One row per row of df and every column but the target, values as in df.",
    )
    expect_finite_array(
        call + ", its target",
        result.get("target_values"),
        (n_rows,),
        hint="The target is one column of df: df[target].",
    )
    return result


@points(1)
def test_split_predictors_target_returns_dataframe_and_series(submission, rng):
    """split_predictors_target returns a DataFrame (the predictors) and a Series (the target), finite and of df's sizes."""
    names, values, target = _split_problem(rng)
    result, call = _split(submission, names, values, target)
    _expect_split_answer(call, result, names, len(values))


@points(2)
def test_split_predictors_target_values(submission, rng):
    """The predictors are every column but the target, in their order; the target is that column."""
    names, values, target = _split_problem(rng)
    result, call = _split(submission, names, values, target)
    index = names.index(target)
    n_rows = len(values)
    kept = [name for name in names if name != target]
    if [str(kind) for kind in result.get("kinds") or []] == ["Series", "DataFrame"]:
        fail(f"`{call}` returned the target first; expected `(predictors, target)`.")
    columns = result.get("predictors_columns")
    if columns is not None and list(columns) != kept:
        if list(columns) == names:
            hint = "The target is still among the predictors: drop it, df.drop(columns=target)."
        elif list(columns) == names[:-1]:
            hint = (
                "You dropped the last column, but the target can be any column: drop it by "
                "name, df.drop(columns=target)."
            )
        elif sorted(columns) == sorted(kept):
            hint = "Keep the columns in the order of df."
        else:
            hint = "Drop the target column by name and keep every other column: df.drop(columns=target)."
        fail(
            f"`{call}` returned predictors with the columns {list(columns)}; expected {kept}. {hint}"
        )
    predictors = expect_shape(
        call + ", its predictors",
        result.get("predictors_values"),
        (n_rows, len(names) - 1),
        hint="One row per row of df and every column but the target.",
    )
    if not np.array_equal(predictors, np.delete(values, index, axis=1)):
        fail(
            f"`{call}` returned predictors whose values are not those of df without the target "
            "column. Hint: df.drop(columns=target) keeps every other column as it is."
        )
    got = result.get("target_values")
    if isinstance(got, np.ndarray) and got.shape == (n_rows, 1):
        got = got[:, 0]  # a one-column DataFrame: the types check says so
    got = expect_shape(
        call + ", its target", got, (n_rows,), hint="The target is one column: df[target]."
    )
    if not np.array_equal(got, values[:, index]):
        if np.array_equal(got, values[:, -1]):
            hint = "It is the last column of df: take the target column by name, df[target]."
        else:
            hint = "Take the target column by name: df[target]."
        fail(
            f"`{call}` returned a target whose values are not those of the column {target!r}. {hint}"
        )
    name = result.get("target_name")
    if name is not None and name != target:
        fail(
            f"`{call}` returned a target Series named {name!r}; expected {target!r}, the "
            "name of the column it came from (df[target] keeps it)."
        )


@points(1)
def test_split_predictors_target_does_not_modify_input(submission, rng):
    """split_predictors_target leaves the DataFrame it is given unchanged."""
    names, values, target = _split_problem(rng)
    call = _split_call(names, target)
    result = _run_task(
        submission, "split_frame", "split_predictors_target", [names, values, target],
        reports_args=True,
    )  # fmt: skip
    after = result if isinstance(result, dict) else {}
    columns = list(after.get("columns_after") or [])
    if columns != names and target not in columns:
        hint = (
            f"df's columns became {columns}: df.pop(target) and "
            "df.drop(columns=target, inplace=True) remove the column from the caller's "
            "DataFrame. Use df[target] and df.drop(columns=target), which return new objects."
        )
    else:
        hint = "Work on new objects (df.drop returns one) instead of changing df."
    expect_unmodified(
        f"split_predictors_target(df, {target!r})",
        {"df": (names, values)},
        {"df": (columns, after.get("values_after"))},
        answer=result,
        well_formed=lambda answer: _expect_split_answer(call, answer, names, len(values)),
        hint=hint,
    )


# ---------------------------------------------------------------------------
# normalize
# ---------------------------------------------------------------------------


def _normalize_problem(rng) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Training rows and test rows whose means and spreads differ clearly from them."""
    n_columns = int(rng.integers(3, 7))
    names = [str(name) for name in rng.choice(_COLUMN_NAMES, size=n_columns, replace=False)]
    n_train, n_test = int(rng.integers(30, 50)), int(rng.integers(8, 16))
    centre = rng.uniform(-50, 200, n_columns)
    spread = rng.uniform(0.5, 30, n_columns)
    train = centre + spread * rng.normal(size=(n_train, n_columns))
    shift = spread * rng.uniform(1.0, 2.0, n_columns) * rng.choice([-1.0, 1.0], n_columns)
    test = (
        centre
        + shift
        + spread * rng.uniform(2.0, 3.0, n_columns) * rng.normal(size=(n_test, n_columns))
    )
    return names, train, test


def _normalize(submission, names, train, test) -> tuple[dict, str]:
    call = _normalize_call(names, train, test)
    result = _run_task(submission, "normalize_frames", "normalize", [names, train, test])
    return _expect_pair(call, result, "`(train_n, test_n)`."), call


def _normalize_call(names: list[str], train: np.ndarray, test: np.ndarray) -> str:
    return (
        f"normalize(train, test) on DataFrames of {len(train)} and {len(test)} rows "
        f"with {len(names)} columns"
    )


def _expect_normalized(call: str, result: Any, train: np.ndarray, test: np.ndarray) -> None:
    """Fail unless ``result`` describes a pair of finite z-scores of train's and test's shapes."""
    result = _expect_pair(call, result, "`(train_n, test_n)`.")
    _normalized(call, result.get("train_n"), train.shape, "train_n")
    _normalized(call, result.get("test_n"), test.shape, "test_n")


def _normalized(call: str, value: Any, shape: tuple, which: str) -> np.ndarray:
    got = np.shape(value) if isinstance(value, np.ndarray) else None
    if got is not None and len(got) == 2 and got[0] == shape[0] and got[1] > shape[1]:
        hint = (
            f"Your {which} has more columns than {which[:-2]}: subtracting a Series of row "
            "statistics (mean(axis=1)) from a DataFrame lines it up with the column names and "
            "adds a column of NaN per row. Take the statistics of each column: the default of "
            "DataFrame.mean and .std."
        )
    else:
        hint = f"{which} has the shape of {which[:-2]}: each value replaced by its z-score."
    array = expect_shape(f"{call}, its {which}", value, shape, hint=hint)
    return expect_finite(
        f"{call}, its {which}",
        array,
        hint="Take the mean and the standard deviation of each column (pandas' default, or "
        "axis=0 in numpy). With DataFrames, subtracting a Series of row statistics aligns it "
        "with the column names and gives NaN; a column whose values are all equal has a "
        "standard deviation of 0.",
    )


@points(1)
def test_normalize_training_columns_have_mean_0_and_std_1(submission, rng):
    """normalize's train_n has, in every column, mean 0 and standard deviation 1."""
    names, train, test = _normalize_problem(rng)
    result, call = _normalize(submission, names, train, test)
    train_n = _normalized(call, result.get("train_n"), train.shape, "train_n")
    if any(_close(train_n, _zscores(train, test, ddof)[0]) for ddof in (0, 1)):
        return
    means = train_n.mean(axis=0)
    stds = train_n.std(axis=0)
    combined = np.concatenate([train, test])
    if np.allclose(means, 0, atol=1e-6):
        if np.allclose(train_n, train - train.mean(axis=0), atol=Z_ATOL):
            hint = "You subtracted the mean but did not divide by the standard deviation."
        elif np.allclose(stds * train.std(axis=0), 1, rtol=0.05):
            hint = "You divided by the variance; divide by the standard deviation (its root)."
        else:
            hint = "Divide each centred column by that column's standard deviation."
    elif np.allclose(train_n.min(axis=0), 0) and np.allclose(train_n.max(axis=0), 1):
        hint = (
            "Your columns run from 0 to 1: that is min-max scaling. Use z-scores, (x - mean) / std."
        )
    elif any(
        _close(train_n, (train - combined.mean(axis=0)) / combined.std(axis=0, ddof=ddof))
        for ddof in (0, 1)
    ):
        hint = (
            "You took the statistics of train and test together: take them from train "
            "alone, so that the test rows influence nothing the model learns from."
        )
    elif np.allclose(train_n.mean(axis=1), 0, atol=1e-6):
        hint = (
            "Your rows have mean 0: you took the statistics of each row. Take them of each "
            "column (feature): axis=0 in numpy, the default of DataFrame.mean and .std."
        )
    else:
        hint = "train_n = (train - mean) / std with the mean and std of each column of train."
    fail(
        f"`{call}` returned a train_n whose column means lie between {means.min():.3g} and "
        f"{means.max():.3g} and whose standard deviations lie between {stds.min():.3g} and "
        f"{stds.max():.3g}; expected mean 0 and standard deviation 1 in every column. {hint}"
    )


@points(2)
def test_normalize_uses_training_statistics_for_test(submission, rng):
    """normalize's test_n is (test - mean of train) / (std of train): the test set's own statistics are not used."""
    names, train, test = _normalize_problem(rng)
    result, call = _normalize(submission, names, train, test)
    test_n = _normalized(call, result.get("test_n"), test.shape, "test_n")
    if any(_close(test_n, _zscores(train, test, ddof)[1]) for ddof in (0, 1)):
        return
    combined = np.concatenate([train, test])
    own = (
        "Your test_n is standardised with the test set's own mean and standard deviation. "
        "Use the training statistics for both sets: the model learns on the training "
        "scale, and a single new row has no statistics of its own."
    )
    together = (
        "Your test_n uses the statistics of train and test together: take them from "
        "train alone, so that the test rows influence nothing the model learns from."
    )
    variance = "Your test_n is divided by the training variance; divide by the standard deviation."
    hint = diagnose(
        test_n,
        [
            *((_zscores(test, test, ddof)[1], own) for ddof in (0, 1)),
            *((_zscores(combined, test, ddof)[1], together) for ddof in (0, 1)),
            (
                test - train.mean(axis=0),
                "Your test_n is centred but not divided by the training standard deviation.",
            ),
            *(((test - train.mean(axis=0)) / train.var(axis=0, ddof=ddof), variance)
              for ddof in (0, 1)),
        ],
        "test_n = (test - mean) / std with the mean and std of each column of TRAIN.",
        rtol=Z_ATOL,  # z-scores are of order 1: relative and absolute errors agree
    )  # fmt: skip
    means = test_n.mean(axis=0)
    if np.allclose(means, 0, atol=1e-6):
        hint += " (Its columns have mean 0, which the test set's z-scores under train's statistics do not.)"
    fail(
        f"`{call}` returned a test_n that is not the test rows' z-scores under the training statistics. {hint}"
    )


@points(1)
def test_normalize_does_not_modify_inputs(submission, rng):
    """normalize leaves the train and test DataFrames it is given unchanged."""
    names, train, test = _normalize_problem(rng)
    call = _normalize_call(names, train, test)
    result = _run_task(
        submission, "normalize_frames", "normalize", [names, train, test], reports_args=True
    )
    after = result if isinstance(result, dict) else {}
    expect_unmodified(
        "normalize(train, test)",
        {"train": train, "test": test},
        {"train": after.get("train_after"), "test": after.get("test_after")},
        answer=result,
        well_formed=lambda answer: _expect_normalized(call, answer, train, test),
    )


# ---------------------------------------------------------------------------
# to_one_hot
# ---------------------------------------------------------------------------


def _labels(rng) -> tuple[np.ndarray, int]:
    """Integer labels and a number of classes larger than the largest label + 1."""
    n_classes = int(rng.integers(4, 10))
    n = int(rng.integers(7, 16))
    if n == n_classes:
        n += 1
    labels = rng.integers(0, n_classes - 2, size=n)
    labels[:2] = [0, n_classes - 3]  # the largest label sits two classes below n_classes
    return rng.permutation(labels).astype(np.int64), n_classes


def _one_hot_call(submission, labels, n_classes) -> tuple[Any, str]:
    call = f"to_one_hot(labels, {n_classes}) with {len(labels)} integer labels"
    return submission.call("to_one_hot", labels, n_classes), call


@points(2)
def test_to_one_hot_rows_are_one_hot(submission, rng):
    """to_one_hot(labels, n_classes) has one row per label, all 0 but a 1 in the label's column."""
    labels, n_classes = _labels(rng)
    cases = [(labels, n_classes), (np.array([n_classes - 1, 0], dtype=np.int64), n_classes)]
    for labels, n_classes in cases:
        got, call = _one_hot_call(submission, labels, n_classes)
        n = len(labels)
        shape = np.shape(got) if isinstance(got, np.ndarray | list | tuple) else None
        if shape == (n, int(labels.max()) + 1) and shape != (n, n_classes):
            hint = (
                "You have one column per label that occurs: use n_classes columns, even for "
                "classes that do not occur among these labels."
            )
        elif shape == (n_classes, n):
            hint = "Your array is transposed: one ROW per label, one column per class."
        else:
            hint = "One row per label, n_classes columns."
        array = expect_shape(call, got, (n, n_classes), hint=hint)
        expected = _one_hot(labels, n_classes)
        if np.array_equal(array, expected):
            continue
        hint = diagnose(
            array,
            [
                (
                    _one_hot((labels - 1) % n_classes, n_classes),
                    "Your 1s sit one column to the left: label k goes to column k, from 0.",
                ),
                (
                    _one_hot((labels + 1) % n_classes, n_classes),
                    "Your 1s sit one column to the right: label k goes to column k, from 0.",
                ),
            ],
            "Row i holds a single 1, in column labels[i]: np.eye(n_classes)[labels]."
            if np.all(np.isin(array, (0.0, 1.0)))
            else "Every entry is exactly 0 or 1.",
            rtol=0.0,
        )
        fail(f"`{call}` returned rows that are not the labels' one-hot vectors. {hint}")


@points(1)
def test_to_one_hot_returns_floats(submission, rng):
    """to_one_hot returns a finite array of floats, as keras.utils.to_categorical does."""
    labels, n_classes = _labels(rng)
    got, call = _one_hot_call(submission, labels, n_classes)
    expect_finite_array(
        call, got, (len(labels), n_classes), hint="One row per label, n_classes columns."
    )
    if isinstance(got, list | tuple):
        try:
            got = np.asarray(got)
        except ValueError:
            got = None
    if not isinstance(got, np.ndarray) or got.dtype.kind != "f":
        fail(
            f"`{call}` returned {describe(got)}; expected an array of floats (any float "
            "dtype), as keras.utils.to_categorical returns. Hint: np.eye(n_classes)[labels] "
            "is float, or convert with .astype(float)."
        )


# ---------------------------------------------------------------------------
# The model builders.
# ---------------------------------------------------------------------------


def _sizes(rng) -> tuple[int, int]:
    """``(n_features, n_classes)``, different, so swapped arguments cannot pass."""
    n_features = int(rng.integers(3, 41))
    n_classes = int(rng.integers(3, 13))
    if n_classes == n_features:
        n_classes = n_classes + 1 if n_classes < 12 else n_classes - 1
    return n_features, n_classes


def _call_text(builder: str, args: list) -> str:
    return f"{builder}({', '.join(str(a) for a in args)})"


def _loss_known_as(info: dict, accepted) -> dict:
    """``info`` with its loss under the ``accepted`` name it goes by, if one does.

    A loss object may carry a name of its own (``CategoricalCrossentropy(name="ce")``):
    its class and the function it wraps name it too, lower case with or without
    underscores.
    """
    names = [str(info.get(key) or "").lower() for key in ("loss", "loss_class", "loss_function")]
    known = [n for name in names for n in (name, name.replace("_", "")) if n in accepted]
    return {**info, "loss": known[0]} if known else info


def _expect_shapes(info: dict, call: str, n_features: int, n_outputs: int, hint: str) -> None:
    inputs = list(info.get("input_shape") or [])
    if inputs != [None, n_features]:
        fail(
            f"`{call}` built a model with input shape {tuple(inputs)}; expected "
            f"(None, {n_features}): a batch of rows of {n_features} features. Start with "
            "keras.Input(shape=(n_features,))."
        )
    outputs = list(info.get("output_shape") or [])
    if outputs != [None, n_outputs]:
        fail(
            f"`{call}` built a model with output shape {tuple(outputs)}; expected "
            f"(None, {n_outputs}). {hint}"
        )


#: What the parameter budget's message adds to each builder's size.
_BUDGET_HINT = "{} A few hundred rows of data need no more, and a smaller model trains within the grader's time."


# ---------------------------------------------------------------------------
# build_regression_model
# ---------------------------------------------------------------------------

_REGRESSION = "build_regression_model"


@points(1)
def test_build_regression_model_input_and_output_shapes(submission, rng):
    """build_regression_model(n_features) takes (None, n_features) and outputs (None, 1)."""
    n_features, _ = _sizes(rng)
    call = _call_text(_REGRESSION, [n_features])
    info = model_facts(
        submission, _REGRESSION, [n_features], rng, call=call, input_shapes=[[n_features]]
    )
    _expect_shapes(
        info, call, n_features, 1, "The model predicts one number per row: end with Dense(1)."
    )


@points(1)
def test_build_regression_model_compiled_with_mse(submission, rng):
    """build_regression_model returns a model compiled with the mean squared error."""
    n_features, _ = _sizes(rng)
    call = _call_text(_REGRESSION, [n_features])
    info = model_facts(
        submission, _REGRESSION, [n_features], rng, call=call, input_shapes=[[n_features]]
    )
    expect_loss(
        call,
        _loss_known_as(info, MSE),
        MSE,
        compile_hint="Call model.compile(optimizer='adam', loss='mse') before returning it.",
        hints={
            "crossentropy": "Cross-entropy compares class probabilities; a regression predicts a number."
        },
        default_hint="The predictions are scored by their squared error: train on it.",
        what="the mean squared error, loss='mse'",
    )


@points(1)
def test_build_regression_model_has_a_linear_output(submission, rng):
    """build_regression_model's last layer has no activation: a regression predicts any real number."""
    n_features, _ = _sizes(rng)
    call = _call_text(_REGRESSION, [n_features])
    info = model_facts(
        submission, _REGRESSION, [n_features], rng, call=call, input_shapes=[[n_features]]
    )
    activation = info.get("output_activation")
    if activation not in (None, "linear"):
        fail(
            f"`{call}` ends with the activation "
            f"{str(activation)[:40]!r}; expected none (linear), so that the model can predict "
            "any value, negative ones included (the standardised targets are negative half "
            "of the time). Leave the activation out of the last Dense(1)."
        )


@points(1)
def test_build_regression_model_parameter_budget(submission, rng):
    """build_regression_model(n_features) has at most 50,000 parameters for up to 40 features."""
    n_features = int(rng.integers(30, 41))
    call = _call_text(_REGRESSION, [n_features])
    info = model_facts(
        submission, _REGRESSION, [n_features], rng, call=call, input_shapes=[[n_features]]
    )
    expect_param_budget(
        call,
        info,
        MAX_PARAMS,
        hint=_BUDGET_HINT.format("Two hidden layers of 32 units have about 2,400."),
    )


def _regression_data(rng) -> tuple[np.ndarray, ...]:
    features, target = _diabetes()
    held = _held_out(len(features))
    x_train, x_test = _standardised(features[~held], features[held])
    mean, std = target[~held].mean(), target[~held].std()
    y_train, y_test = (target[~held] - mean) / std, (target[held] - mean) / std
    x_test, y_test = _noisy_copies(rng, x_test, y_test, REGRESSION_COPIES)
    return x_train, y_train[:, None], x_test, y_test


@points(4)
@trains
def test_build_regression_model_beats_the_mean(submission, rng):
    """A model from build_regression_model, trained by the grader, predicts held-out diabetes progression far better than the mean (partial credit from the mean's error)."""
    x_train, y_train, x_test, y_test = _regression_data(rng)
    n_features = x_train.shape[1]
    call = (
        f"a model from build_regression_model({n_features}), trained for {REGRESSION_EPOCHS} "
        f"epochs with batch size {REGRESSION_BATCH_SIZE} on the {len(x_train)} diabetes rows "
        "of the notebook (features and target standardised)"
    )
    before, predictions = trained_predictions(
        submission, _REGRESSION, x_train=x_train, y_train=y_train,
        x_test=x_test, epochs=REGRESSION_EPOCHS, batch_size=REGRESSION_BATCH_SIZE,
        args=[n_features], seed=training_seed(rng), timeout=TRAIN_TIMEOUT,
        student=_REGRESSION, doing=f"trained {call}",
    )  # fmt: skip
    predictions = expect_shape(
        call + ", its predictions for the held-out rows",
        predictions,
        (len(x_test), 1),
        hint="The model outputs one number per row, shape (None, 1).",
    )
    expect_finite(
        call,
        predictions,
        hint="Training diverged: use the mean squared error and Adam with its default "
        "learning rate.",
    )
    ratio = float(np.mean((predictions[:, 0] - y_test) ** 2) / np.mean(y_test**2))
    report_metric(
        submission, "keras_intro_regression_mse_ratio_to_mean", ratio,
        threshold=MAX_RATIO_TO_MEAN, higher_is_better=False,
    )  # fmt: skip
    untrained = np.asarray(before, dtype=float).reshape(len(x_test), -1)[:, 0]
    untrained_ratio = float(np.mean((untrained - y_test) ** 2) / np.mean(y_test**2))
    expect_learned(
        call, before, predictions,
        met_before=carried(untrained_ratio, ratio, MAX_RATIO_TO_MEAN, higher_is_better=False),
    )  # fmt: skip
    expect_learning_credit(
        f"{call} predicted the held-out patients with a mean squared error {ratio:.2f} "
        "times that of predicting the training mean for everyone",
        ratio, floor=MEAN_RATIO, threshold=MAX_RATIO_TO_MEAN, higher_is_better=False,
        untrained=untrained_ratio,
        fmt=".2f", floor_reason="what predicting the training mean for everyone gets",
        hint=f"Hint: the model must learn within {REGRESSION_EPOCHS} epochs without "
        "overfitting: a linear Dense(1) output, loss='mse', Adam with its default learning "
        "rate, and a small network (one or two hidden layers of a few dozen units); the "
        "notebook's validation curve shows when a model starts to overfit.",
    )  # fmt: skip


# ---------------------------------------------------------------------------
# build_classification_model
# ---------------------------------------------------------------------------

_CLASSIFICATION = "build_classification_model"


@points(1)
def test_build_classification_model_input_and_output_shapes(submission, rng):
    """build_classification_model(n_features, n_classes) takes (None, n_features) and outputs (None, n_classes)."""
    n_features, n_classes = _sizes(rng)
    args = [n_features, n_classes]
    call = _call_text(_CLASSIFICATION, args)
    info = model_facts(
        submission, _CLASSIFICATION, args, rng, call=call, input_shapes=[[n_features]]
    )
    _expect_shapes(
        info,
        call,
        n_features,
        n_classes,
        "The model gives one probability per class: end with "
        "Dense(n_classes, activation='softmax').",
    )


@points(1)
def test_build_classification_model_outputs_probabilities(submission, rng):
    """The classifier's outputs are probabilities: non-negative, each row summing to 1 (softmax)."""
    n_features, n_classes = _sizes(rng)
    args = [n_features, n_classes]
    x = 3.0 * rng.normal(size=(16, n_features))
    call = f"{_call_text(_CLASSIFICATION, args)}.predict(x)"
    p = untrained_predictions(
        submission, _CLASSIFICATION, args, x, rng, call=call, shape=(16, n_classes),
        hint="One row per input row, one column per class.",
        doing=f"ran `{call}` on 16 random rows",
    )  # fmt: skip
    if np.all((p >= 0) & (p <= 1)):
        hint = (
            "Each output lies in [0, 1] but the rows do not sum to 1: a sigmoid gives "
            "every class its own probability; softmax shares 1 among the classes."
        )
    else:
        hint = "The last layer has no softmax."
    expect_probability_rows(
        call, p, hint=f"{hint} End with Dense(n_classes, activation='softmax')."
    )


@points(1)
def test_build_classification_model_compiled_with_categorical_crossentropy(submission, rng):
    """The classifier is compiled with categorical cross-entropy, the loss for one-hot targets."""
    n_features, n_classes = _sizes(rng)
    args = [n_features, n_classes]
    call = _call_text(_CLASSIFICATION, args)
    info = model_facts(
        submission, _CLASSIFICATION, args, rng, call=call, input_shapes=[[n_features]]
    )
    squared = "The squared error is for regression; class probabilities train on cross-entropy."
    expect_loss(
        call,
        _loss_known_as(info, CATEGORICAL),
        CATEGORICAL,
        compile_hint="Call model.compile(optimizer='adam', loss='categorical_crossentropy', "
        "metrics=['accuracy']).",
        hints={
            "sparse": "The targets are one-hot rows from to_one_hot; the sparse loss expects "
            "integer labels instead.",
            "binary": "Binary cross-entropy is for two classes with one sigmoid output each.",
            "mse": squared,
            "squared": squared,
        },
        default_hint="Use loss='categorical_crossentropy' on one-hot targets.",
        what="categorical cross-entropy",
    )


@points(1)
def test_build_classification_model_loss_reads_probabilities(submission, rng):
    """The classifier's loss takes the softmax probabilities as they are (from_logits=False)."""
    n_features, n_classes = _sizes(rng)
    args = [n_features, n_classes]
    call = _call_text(_CLASSIFICATION, args)
    info = model_facts(
        submission, _CLASSIFICATION, args, rng, call=call, input_shapes=[[n_features]]
    )
    if info.get("from_logits") is True:
        fail(
            f"`{call}` is compiled with a loss "
            "that has from_logits=True, so it applies a softmax of its own to outputs that "
            "already are softmax probabilities. With a softmax output layer, leave "
            "from_logits=False (the default)."
        )


@points(1)
def test_build_classification_model_parameter_budget(submission, rng):
    """build_classification_model has at most 50,000 parameters for up to 40 features and 12 classes."""
    args = [int(rng.integers(30, 41)), int(rng.integers(10, 13))]
    call = _call_text(_CLASSIFICATION, args)
    info = model_facts(submission, _CLASSIFICATION, args, rng, call=call, input_shapes=[[args[0]]])
    expect_param_budget(
        call,
        info,
        MAX_PARAMS,
        hint=_BUDGET_HINT.format("A hidden layer of 32 units has about 1,500."),
    )


def _classification_data(rng) -> tuple[np.ndarray, ...]:
    features, labels = _wine()
    held = _held_out(len(features))
    x_train, x_test = _standardised(features[~held], features[held])
    x_test, y_test = _noisy_copies(rng, x_test, labels[held], CLASSIFICATION_COPIES)
    return x_train, np.eye(3)[labels[~held]], x_test, y_test


@points(5)
@trains
def test_build_classification_model_beats_the_majority_class(submission, rng):
    """A model from build_classification_model, trained by the grader, classifies held-out wines far better than the majority class (partial credit from its rate)."""
    x_train, y_train, x_test, y_test = _classification_data(rng)
    args = [x_train.shape[1], y_train.shape[1]]
    call = (
        f"a model from {_call_text(_CLASSIFICATION, args)}, trained for "
        f"{CLASSIFICATION_EPOCHS} epochs with batch size {CLASSIFICATION_BATCH_SIZE} on the "
        f"{len(x_train)} wines of the notebook (features standardised, one-hot targets)"
    )
    before, predictions = trained_predictions(
        submission, _CLASSIFICATION, x_train=x_train, y_train=y_train,
        x_test=x_test, epochs=CLASSIFICATION_EPOCHS, batch_size=CLASSIFICATION_BATCH_SIZE,
        args=args, seed=training_seed(rng), timeout=TRAIN_TIMEOUT,
        student=_CLASSIFICATION, doing=f"trained {call}",
    )  # fmt: skip
    predictions = expect_finite(
        call,
        expect_shape(
            call + ", its predictions for the held-out wines",
            predictions,
            (len(x_test), args[1]),
            hint="One row per wine, one probability per class.",
        ),
        hint="Training diverged: use categorical cross-entropy and Adam with its default "
        "learning rate.",
    )
    score = accuracy(predictions, y_test)
    majority = _majority_rate(y_train)
    report_metric(
        submission, "keras_intro_classification_accuracy", score,
        threshold=MIN_ACCURACY, higher_is_better=True,
    )  # fmt: skip
    expect_learned(
        call, before, predictions,
        met_before=carried(accuracy(before, y_test), score, MIN_ACCURACY, higher_is_better=True),
    )  # fmt: skip
    expect_learning_credit(
        f"{call} classified {score:.0%} of the held-out wines correctly",
        score, floor=majority, threshold=MIN_ACCURACY, higher_is_better=True, fmt=".0%",
        untrained=accuracy(before, y_test),
        floor_reason="about what always answering the most common cultivar gets",
        hint=f"Hint: the model must learn within {CLASSIFICATION_EPOCHS} epochs: a softmax "
        "output, loss='categorical_crossentropy', Adam with its default learning rate, and "
        "a hidden layer of a few dozen relu units.",
    )  # fmt: skip


def _majority_rate(one_hot: np.ndarray) -> float:
    """The share of the most common class among one-hot rows: what answering it always gets."""
    return float(np.max(np.asarray(one_hot, dtype=float).mean(axis=0)))


# ---------------------------------------------------------------------------
# Inputs unchanged: one shared check per function (common.unchanged_check).
# split_predictors_target and normalize take DataFrames, which a task builds in the
# child: their checks above compare what the task reports of them after the call.
# ---------------------------------------------------------------------------


def _to_one_hot_inputs(rng: np.random.Generator) -> Inputs:
    labels, n_classes = _labels(rng)
    return Inputs(
        {"labels": labels, "n_classes": n_classes},
        {},
        lambda call, answer: expect_finite_array(
            call, answer, (len(labels), n_classes), hint="One row per label, n_classes columns."
        ),
        call=f"to_one_hot(labels, {n_classes}) with {len(labels)} integer labels",
    )


test_to_one_hot_does_not_modify_input = unchanged_check("to_one_hot", _to_one_hot_inputs)
