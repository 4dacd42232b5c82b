"""Grader-defined tasks run beside the student's functions, in the sandbox."""

from __future__ import annotations

import numpy as np
import pytest

from autograder import tasks
from autograder.notebook import Cell
from autograder.sandboxed import SandboxedSubmission
from autograder.submission import (
    FunctionMissing,
    LocalSubmission,
    NotImplementedYet,
    StudentException,
)

BUILDER = """
import keras

def build(n_in, n_out):
    model = keras.Sequential([
        keras.Input((n_in,)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(n_out, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model

def unfinished(n_in, n_out):
    raise NotImplementedError()
"""


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(300, 4))
    labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)
    return x, np.eye(3)[labels], labels


def test_only_listed_task_functions_resolve():
    assert tasks.resolve("keras_models.export") is not None
    for name in ("keras_models._export_one", "keras_models.json", "os.system", "nothing", "..x.y"):
        with pytest.raises(LookupError):
            tasks.resolve(name)


@pytest.mark.slow
def test_a_keras_model_is_exported_then_described_and_trained_by_the_judge():
    x, y, labels = _data()
    with SandboxedSubmission([Cell(1, BUILDER)]) as submission:
        submission.run()
        info = submission.judge("describe", "build", args=[4, 3])
        assert info["input_shape"] == [None, 4] and info["output_shape"] == [None, 3]
        assert info["loss"] == "categorical_crossentropy"
        assert info["output_activation"] == "softmax"
        assert info["layers"] == ["Dense", "Dense"]
        result = submission.judge(
            "fit_predict", "build", x_train=x[:200], y_train=y[:200], x_test=x[200:],
            epochs=30, batch_size=32, args=[4, 3], seed=1, timeout=120,
        )  # fmt: skip
        predictions = result["after"]
        assert predictions.shape == (100, 3) and result["before"].shape == (100, 3)
        assert np.allclose(predictions.sum(axis=1), 1, atol=1e-5)
        # The majority class holds half the labels; a trained model does clearly better.
        assert (predictions.argmax(axis=1) == labels[200:]).mean() > 0.65
        assert not np.allclose(predictions, result["before"])
        with pytest.raises(NotImplementedYet):
            submission.judge("describe", "unfinished", args=[4, 3])
        with pytest.raises(StudentException, match="not defined"):
            submission.judge("describe", "absent", args=[4, 3])
        # One judge sandbox answered every request, and it is not the child's.
        assert submission.judge_process.starts == 1 and submission.judge_process.requests == 2
        assert submission.judge_process.jail.dir != submission.jail.dir


def test_the_judge_runs_in_process_for_the_kits_own_tests():
    namespace: dict = {}
    exec(BUILDER, namespace)
    info = LocalSubmission(namespace).judge("describe", "build", args=[4, 2])
    assert info["output_shape"] == [None, 2]
    with pytest.raises(NotImplementedYet):
        LocalSubmission(namespace).judge("predict", "unfinished", x=np.ones((1, 4)), args=[4, 2])


def test_missing_function_is_reported_by_name():
    with pytest.raises(FunctionMissing):
        LocalSubmission({}).call("build")


def test_task_failures_name_the_students_builder_and_what_the_grader_did():
    namespace: dict = {}
    exec(BUILDER + "\ndef broken(n_in, n_out):\n    return build(n_in, n_out)(None)\n", namespace)
    submission = LocalSubmission(namespace)
    with pytest.raises(NotImplementedYet, match="`unfinished` is not implemented yet"):
        submission.judge("describe", "unfinished", args=[4, 2], student="unfinished")
    with pytest.raises(FunctionMissing, match="`absent` is not defined"):
        submission.judge("describe", "absent", args=[4, 2], student="absent")
    with pytest.raises(Exception) as caught:
        submission.judge(
            "describe", "broken", args=[4, 2], student="broken", doing="built `broken(4, 2)`"
        )
    message = str(caught.value)
    assert message.startswith("While the grader built `broken(4, 2)`: calling `broken` raised")
    assert "keras_models" not in message


def test_keras_error_messages_lose_colour_codes_and_argument_dumps():
    error = StudentException(
        "build_cnn",
        "ValueError",
        '\x1b[1mInput 0 of layer "dense" is incompatible\x1b[0m: expected ndim=2\n\n'
        "Arguments received by Dense.call():\n  • inputs=tf.Tensor(shape=(None, 4, 4))",
    )
    assert str(error) == (
        'calling `build_cnn` raised ValueError: Input 0 of layer "dense" is incompatible: '
        "expected ndim=2"
    )
