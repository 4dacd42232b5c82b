"""The shared helpers of the checks: how a wrong value is told, and the inputs-unchanged check."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.checks.common import (
    CheckFailure,
    Inputs,
    expect_array,
    expect_finite_array,
    expect_inputs_unchanged,
    expect_number,
    how_far_off,
    unchanged_check,
)
from autograder.submission import LocalSubmission, UntrustedReport

RNG = np.random.default_rng(0)
EXPECTED = RNG.normal(size=(4, 5))


@pytest.mark.parametrize(
    ("received", "expected", "words"),
    [
        (0.5 * EXPECTED, EXPECTED, "about half the expected size"),
        (EXPECTED / 3, EXPECTED, "about a third of the expected size"),
        (EXPECTED / 10, EXPECTED, "about 1/10 of the expected size"),
        (2 * EXPECTED, EXPECTED, "about twice the expected size"),
        (7 * EXPECTED, EXPECTED, "about 7x the expected size"),
        (-EXPECTED, EXPECTED, "of the expected size, but with the wrong sign"),
        (-2 * EXPECTED, EXPECTED, "about twice the expected size, with the wrong sign"),
        (1.1 * EXPECTED, EXPECTED, "off by about 10% of the expected size"),
        (EXPECTED + 1e-4 * np.linalg.norm(EXPECTED) * np.eye(1, 20).reshape(4, 5), EXPECTED,
         "close, with tiny but not zero differences (about 1e-04 of the expected size)"),
        (np.zeros_like(EXPECTED), EXPECTED, "all zeros"),
        (EXPECTED.T.reshape(EXPECTED.shape) * 5, EXPECTED, "far off"),
        (1.5, 3.0, "about half the expected value"),
        (-3.0, 3.0, "the expected value with the wrong sign"),
        (3.3, 3.0, "off by about 10% of the expected value"),
        (np.array([1.0, np.nan]), np.ones(2), "not finite"),
    ],
)  # fmt: skip
def test_how_far_off_reads_at_once(received, expected, words):
    assert how_far_off(received, expected) == words or (
        words in ("far off", "not finite") and how_far_off(received, expected).startswith(words)
    )


def test_how_far_off_gives_no_expected_value():
    """The phrase holds no number of the expected array (only ratios, rounded)."""
    expected = np.array([3.14159, 2.71828, 1.41421])
    for received in (expected * 0.5, expected + 0.2, -expected, expected * 1.3):
        phrase = how_far_off(received, expected)
        assert not any(f"{v:.3g}" in phrase for v in expected), phrase


def test_expect_array_and_expect_number_tell_how_far_off_not_a_relative_error():
    with pytest.raises(CheckFailure) as failure:
        expect_array("f(x)", 0.5 * EXPECTED, EXPECTED)
    message = str(failure.value)
    assert "not correct" in message and "about half the expected size" in message
    assert "relative error" not in message
    with pytest.raises(CheckFailure) as failure:
        expect_number("loss(y)", 1.5, 3.0)
    assert "about half the expected value" in str(failure.value)
    assert "relative error" not in str(failure.value)


def _inputs(z):
    return Inputs({"z": z}, {}, lambda call, answer: expect_finite_array(call, answer, z.shape))


def _in_place(z):
    z -= z.max()
    return z + 1.0


def test_expect_inputs_unchanged_names_the_argument_changed_in_place():
    z = RNG.normal(size=(3, 4))
    submission = LocalSubmission({"f": _in_place, "g": lambda z: z - z.max()})
    with pytest.raises(CheckFailure, match=r"`f\(z\)` modified its argument `z` in place"):
        expect_inputs_unchanged(submission, "f", _inputs(z))
    expect_inputs_unchanged(submission, "g", _inputs(z))  # a copy: passes


def test_expect_inputs_unchanged_gives_nothing_for_an_answer_that_is_not_well_formed():
    submission = LocalSubmission({"f": lambda z: None})
    with pytest.raises(CheckFailure, match="does not count"):
        expect_inputs_unchanged(submission, "f", _inputs(np.ones(3)))


def test_a_process_that_misreported_the_canary_gets_untrusted_report():
    class Liar(LocalSubmission):
        def _reports_are_true(self):
            return False

    with pytest.raises(UntrustedReport):
        expect_inputs_unchanged(Liar({"f": lambda z: z + 1}), "f", _inputs(np.ones(3)))


def test_unchanged_check_is_a_one_point_check_with_a_docstring():
    check = unchanged_check("f", lambda rng: _inputs(rng.normal(size=4)))
    assert check.__doc__.startswith("f leaves its arguments unchanged")
    assert [m.args for m in check.pytestmark if m.name == "points"] == [(1,)]
    assert check.unchanged[0] == "f"
    check(LocalSubmission({"f": lambda z: z * 2}), np.random.default_rng(1))
    with pytest.raises(CheckFailure, match="in place"):
        check(LocalSubmission({"f": _in_place}), np.random.default_rng(1))


def test_unchanged_check_hands_the_submission_to_inputs_that_ask_for_it():
    seen = []

    def inputs(rng, submission):
        seen.append(submission)
        return _inputs(rng.normal(size=4))

    submission = LocalSubmission({"f": lambda z: z * 2})
    unchanged_check("f", inputs)(submission, np.random.default_rng(1))
    assert seen == [submission]


def test_pandas_arguments_are_compared_by_values_and_columns():
    pd = pytest.importorskip("pandas")
    from autograder.checks.common import _same

    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    assert _same(frame, frame.copy())
    assert not _same(frame, frame.assign(a=[1.0, 2.5]))
    assert not _same(frame, frame.drop(columns="b"))
    assert not _same(frame["a"], frame["a"] * 2)


def test_a_task_that_reports_arguments_is_believed_only_after_the_canary():
    class Liar(LocalSubmission):
        def _reports_are_true(self):
            return False

    with pytest.raises(UntrustedReport):
        Liar({}).task("keras_intro.split_frame", "f", ["a"], np.ones((1, 1)), "a",
                      reports_args=True)  # fmt: skip
