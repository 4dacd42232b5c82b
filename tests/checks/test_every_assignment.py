"""What holds for every assignment's hidden checks, whatever the assignment."""

from __future__ import annotations

import copy
import functools
import importlib
import inspect
import re

import numpy as np
import pandas as pd
import pytest

from autograder import cases, heldout, registry
from autograder.checks.common import holds_data
from autograder.registry import function_of, graded_functions
from tests.conftest import ASSIGNMENTS
from tests.harness import (
    FLOAT_RUN,
    GRADER_FAULT,
    ROOT,
    assert_caught_helpfully,
    check_module,
    failed_checks_of,
    messages_with_float_arrays,
    mistaken_source,
    reference,
    reference_training_run,
    released,
    score,
)

# Some of the tables' mistakes and alternatives overflow on purpose (np.exp(1e4)), and one
# drops a column with pandas' deprecated inplace=True: their warnings are expected.
pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore:The inplace keyword:DeprecationWarning"
)


def _check_names(assignment: str) -> set[str]:
    """The names of the checks of the assignment (its module's ``test_*`` functions)."""
    return {check.name for check in registry.assignment(assignment).graded}


#: Assignments with checks that call an earlier function first (backprop's backward
#: check runs forward), so a stub's message may name that one instead.
CALLS_EARLIER_FUNCTIONS = {"backprop"}

#: Fewest and most points of an assignment. 15 to 30 for what the functions compute, and
#: up to one more point per function for leaving its inputs unchanged (activations has
#: ten functions and 30 points of values: 40 in all).
MIN_POINTS, MAX_POINTS = 15, 40


#: Most points of a check that trains a model. A model that does not learn passes every
#: other check of its builder (shapes, loss, layers, budget), so the learning checks weigh
#: at least as much as those together (below): up to 8 points for cnn's 8 of build_cnn.
MAX_LEARNING_POINTS = 8


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_checks_have_docstrings_and_one_to_three_points(assignment):
    """Each check says in a docstring what it checks, and weighs 1, 2 or 3 points (a
    learning check up to MAX_LEARNING_POINTS)."""
    module = importlib.import_module(f"autograder.checks.{assignment}")
    for check in registry.assignment(assignment).graded:
        assert (getattr(module, check.name).__doc__ or "").strip(), check.name
        most = MAX_LEARNING_POINTS if check.trains else 3
        assert check.points == int(check.points) and 1 <= check.points <= most, check.name


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_model_that_does_not_learn_keeps_at_most_half(assignment):
    """A builder's learning checks weigh at least half of its points: a model that does not
    learn, which can pass all its other checks, keeps at most half."""
    book = registry.assignment(assignment)
    for function in book.functions:
        checks = book.checks_of(function)
        learning = sum(c.points for c in checks if c.trains)
        if learning:
            assert learning >= sum(c.points for c in checks if not c.trains), function


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_points_total_and_check_names(assignment):
    functions = list(graded_functions(assignment))
    results = score(assignment, {}, 0)  # nothing defined: every check fails fast
    assert set(results) == _check_names(assignment)  # the learning checks included
    total = sum(r.max_score for r in results.values())
    assert MIN_POINTS <= total <= MAX_POINTS
    for name, result in results.items():
        assert function_of(name, functions) is not None, name
        assert "is not defined in your notebook" in result.output, (name, result.output)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_stub_gets_zero_with_not_implemented_messages(assignment):
    functions = list(graded_functions(assignment))
    results = score(assignment, released(assignment), seed=3)
    assert set(results) == _check_names(assignment)
    for name, result in results.items():
        assert result.score == 0, name
        assert "not implemented yet" in result.output, (name, result.output)
        own = functions.index(function_of(name, functions))
        if assignment in CALLS_EARLIER_FUNCTIONS:
            named = [f for f in functions[: own + 1] if f"`{f}`" in result.output]
            assert named, (name, result.output)
        else:
            assert f"`{functions[own]}`" in result.output, (name, result.output)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebook_solution_cells_define_every_function(assignment):
    namespace = reference(assignment)
    for function in graded_functions(assignment):
        assert callable(namespace.get(function)), function


# ---------------------------------------------------------------------------
# No points for nothing: None, NaN, and NaN everywhere but one entry. The namespaces
# are the reference's, with the functions under test wrapped, scored in-process.
# ---------------------------------------------------------------------------


def _is_keras_builder(function: str) -> bool:
    """A model builder (``build_*``), a Keras layer class (CamelCase), or a function its
    check module lists in ``KERAS_FUNCTIONS`` (it takes or returns Keras objects, such as
    datasets or a model): judged in a task.

    Every other graded function takes and returns numpy arrays (or pandas objects).
    """
    return function.startswith("build_") or function[:1].isupper() or function in _TASK_JUDGED


#: The graded functions that check modules list as taking or returning Keras objects.
_TASK_JUDGED = {f for a in ASSIGNMENTS for f in getattr(check_module(a), "KERAS_FUNCTIONS", ())}

#: Which entries of each array a NaN answer keeps: none, the first (an answer that is
#: NaN everywhere but in one entry), or the zeros (NaN in place of every nonzero entry,
#: which a test ``x != 0`` takes for nonzero).
KEPT = ("none", "first", "zeros")


def _nan_like(value, kept: str):
    """``value`` with its numbers NaN but those ``kept`` keeps, each array keeping its shape.

    Arrays of booleans or integers (and pandas objects) become float arrays; other
    objects pass unchanged.
    """
    if isinstance(value, pd.DataFrame):
        values = _nan_like(value.to_numpy(dtype=float), kept)
        return pd.DataFrame(values, index=value.index, columns=value.columns)
    if isinstance(value, pd.Series):
        values = _nan_like(value.to_numpy(dtype=float), kept)
        return pd.Series(values, index=value.index, name=value.name)
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        nan = np.full(value.shape, np.nan, dtype=value.dtype if value.dtype.kind == "f" else float)
        if kept == "first" and value.size > 1:
            nan.flat[0] = value.flat[0]
        elif kept == "zeros":
            nan[value == 0] = 0.0
        return nan
    if isinstance(value, dict):
        return {key: _nan_like(item, kept) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return type(value)(_nan_like(item, kept) for item in value)
    if isinstance(value, float | int | np.number) and not isinstance(value, bool | np.bool_):
        return 0.0 if kept == "zeros" and value == 0 else float("nan")
    return value


def _returning_nan(function, kept: str):
    def nan_answer(*args, **kwargs):
        return _nan_like(function(*args, **kwargs), kept)

    return nan_answer


def _returning_none(*args, **kwargs):
    return None


#: Assignments of numpy functions only: cheap enough to run every check
#: on each mistake and alternative.
NUMPY_ASSIGNMENTS = [a for a in ASSIGNMENTS if not any(map(_is_keras_builder, graded_functions(a)))]


#: (assignment, function) for every numpy function of every assignment.
NUMPY_FUNCTIONS = [
    (a, f) for a in ASSIGNMENTS for f in graded_functions(a) if not _is_keras_builder(f)
]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_functions_returning_none_score_zero_on_every_check(assignment):
    """Stubs that return None earn nothing, the does-not-modify checks included, and say why."""
    namespace = reference(assignment)
    for function in graded_functions(assignment):
        namespace[function] = _returning_none
    results = score(assignment, namespace, seed=4)
    assert set(results) == _check_names(assignment)
    earned = {name: r.output for name, r in results.items() if r.score != 0}
    assert not earned, earned
    functions = list(graded_functions(assignment))
    for name, result in results.items():
        assert result.output.strip(), name
        assert GRADER_FAULT not in result.output, (name, result.output)
        if "_not_modify_" in name:  # says why leaving the inputs alone earned nothing
            own = functions.index(function_of(name, functions))
            earlier = [f for f in functions[:own] if re.search(rf"`{f}[`(]", result.output)]
            assert "does not count" in result.output or (
                assignment in CALLS_EARLIER_FUNCTIONS and earlier
            ), (name, result.output)


@pytest.mark.parametrize("kept", KEPT)
@pytest.mark.parametrize(("assignment", "function"), NUMPY_FUNCTIONS)
def test_function_returning_nan_scores_zero_on_its_checks(assignment, function, kept):
    """A numpy function whose answer has the right shape but holds NaN (everywhere, or but
    in one entry of each array, or in place of every nonzero entry) earns nothing on its
    checks: none takes a statistic over what the answer left finite, none passes on NaN."""
    namespace = reference(assignment)
    namespace[function] = _returning_nan(namespace[function], kept)
    results = score(assignment, namespace, seed=6, only=function)
    assert results, f"no check of {function}"
    earned = {name: r.output for name, r in results.items() if r.score != 0}
    assert not earned, earned
    for name, result in results.items():
        assert GRADER_FAULT not in result.output, (name, result.output)


# ---------------------------------------------------------------------------
# The reference, the stubs, the known mistakes and the correct alternatives of every
# assignment (its table: autograder/cases/<id>.py).
# ---------------------------------------------------------------------------

#: Seeds the reference is graded with: the checks draw their inputs from them.
SEEDS = (0, 1, 2)
#: The seed of the mistakes' and the alternatives' runs.
CASE_SEED = 7


def _fast(assignment: str, *functions: str):
    """Accepts the checks of ``functions`` (all when none) that train no model."""
    book = registry.assignment(assignment)
    names = {
        c.name for c in book.graded if not c.trains and (not functions or c.function in functions)
    }
    return names.__contains__


def _cases(kind: str, *, slow: bool | None = None) -> list:
    """``pytest.param``s of every assignment's mistakes or alternatives, slow ones marked."""
    params = []
    for assignment in ASSIGNMENTS:
        table = cases.load(assignment)
        for case in table.mistakes if kind == "mistakes" else table.alternatives:
            marks = [pytest.mark.slow] if case.slow else []
            params.append(pytest.param(assignment, case, marks=marks, id=f"{assignment}-{case.id}"))
    return params


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_gets_full_marks(assignment, seed):
    """Every check that trains no model, for three seeds (the trained ones: below)."""
    results = score(assignment, reference(assignment), seed, _fast(assignment))
    failed = {name: r.output for name, r in results.items() if not r.passed}
    assert not failed
    book = registry.assignment(assignment)
    assert set(results) == {c.name for c in book.graded if not c.trains}


TRAINING = [a for a in ASSIGNMENTS if any(c.trains for c in registry.assignment(a).graded)]


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("assignment", TRAINING)
def test_reference_passes_the_checks_that_train(assignment, seed):
    """The reference's models learn what the checks that train them ask, on every seed."""
    results, submission = reference_training_run(assignment, seed)
    trained = {c.name for c in registry.assignment(assignment).graded if c.trains}
    assert set(results) == trained
    failed = {name: r.output for name, r in results.items() if not r.passed}
    assert not failed
    for name, metric in submission.metrics.items():
        assert metric["passed"], (name, metric)


@pytest.mark.parametrize(
    ("assignment", "function"),
    [(a, f) for a in ASSIGNMENTS for f in registry.assignment(a).functions],
)
def test_stub_functions_raise_not_implemented(assignment, function):
    """The released stub raises NotImplementedError when called on the table's example."""
    stub = released(assignment)
    args = cases.load(assignment).calls[function]
    with pytest.raises(NotImplementedError):
        made = stub[function](*args)
        if isinstance(made, type) or hasattr(made, "call"):  # a layer: call it too
            made.call(*args)


@functools.cache
def mistake_results(assignment: str, mistake_id: str) -> dict:
    """The results of the checks of one mistake's function on the reference with the mistake.

    Every check of the function that trains no model runs (all of them for a slow
    mistake), and the check the table names for it, so that each failure's message is
    tried, not only the one meant for the mistake.
    """
    mistake = cases.load(assignment).mistake(mistake_id)
    book = registry.assignment(assignment)
    wanted = {c.name for c in book.checks_of(mistake.function) if mistake.slow or not c.trains}
    wanted |= {mistake.check, *mistake.also} - {None}
    namespace = reference(assignment, mistaken_source(assignment, mistake))
    return score(assignment, namespace, CASE_SEED, wanted.__contains__)


def _not_learning() -> list:
    """``pytest.param``s of the tables' models that do not learn (``learns=False``)."""
    return [
        pytest.param(assignment, case, id=f"{assignment}-{case.id}")
        for assignment in ASSIGNMENTS
        for case in cases.load(assignment).mistakes
        if not case.learns
    ]


@pytest.mark.slow
@pytest.mark.parametrize(("assignment", "mistake"), _not_learning())
def test_a_model_that_does_not_learn_keeps_at_most_half_of_its_builder(assignment, mistake):
    """A model that cannot learn (learning rate 0, frozen layers) or does not learn the task
    (a linear output) keeps at most half of its builder's points, on the case seed."""
    book = registry.assignment(assignment)
    names = {check.name for check in book.checks_of(mistake.function)}
    if mistake.slow:  # the run of test_mistake_is_caught_by_a_check_of_its_function
        results = mistake_results(assignment, mistake.id)
    else:  # that run skipped the learning checks
        namespace = reference(assignment, mistaken_source(assignment, mistake))
        results = score(assignment, namespace, CASE_SEED, names.__contains__)
    assert names <= set(results), names - set(results)
    kept = sum(results[name].score for name in names)
    total = sum(results[name].max_score for name in names)
    assert kept <= total / 2, (mistake.id, kept, total)


def test_every_builder_has_a_model_that_cannot_learn_in_its_table():
    """Each function with a learning check has a table mistake that does not learn."""
    for assignment in ASSIGNMENTS:
        book = registry.assignment(assignment)
        learners = {c.function for c in book.graded if c.trains}
        tried = {m.function for m in cases.load(assignment).mistakes if not m.learns}
        assert learners <= tried, (assignment, learners - tried)


@pytest.mark.parametrize(("assignment", "mistake"), _cases("mistakes"))
def test_mistake_is_caught_by_a_check_of_its_function(assignment, mistake):
    """Each known mistake fails a check of its own function (the one meant for it, when
    the table names one), and the failed check says what the table's words say."""
    results = mistake_results(assignment, mistake.id)
    assert results, f"no check of {mistake.function} ran"
    book = registry.assignment(assignment)
    assert_caught_helpfully(results, mistake.function, book.functions, mistake.id)
    failed = failed_checks_of(results, mistake.function, book.functions)
    if mistake.check:
        failed = [r for r in failed if r.name == mistake.check]
        assert failed, f"{mistake.check} did not catch {mistake.id}"
    missing = [
        words
        for words in mistake.phrases
        if not any(words.lower() in r.output.lower() for r in failed)
    ]
    assert not missing, (missing, [r.output for r in failed])


def _also(assignment: str, mistake: cases.Mistake, check: str):
    """A param of a check that the table says also catches a mistake; slow when it trains."""
    trains = any(c.trains for c in registry.assignment(assignment).graded if c.name == check)
    marks = [pytest.mark.slow] if mistake.slow or trains else []
    return pytest.param(
        assignment, mistake, check, marks=marks, id=f"{assignment}-{mistake.id}-{check}"
    )


@pytest.mark.parametrize(
    ("assignment", "mistake", "check"),
    [_also(a, m, check) for a in ASSIGNMENTS for m in cases.load(a).mistakes for check in m.also],
)
def test_mistake_is_caught_by_every_other_check_the_table_names(assignment, mistake, check):
    """A mistake that more checks than one are meant for fails each, with its phrase."""
    result = mistake_results(assignment, mistake.id)[check]
    assert not result.passed, (mistake.id, check)
    assert mistake.also[check].lower() in result.output.lower(), result.output
    assert GRADER_FAULT not in result.output, result.output


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_mistakes_messages_contain_no_float_arrays(assignment):
    """No message about a known mistake prints an array of numbers (hidden values)."""
    assert FLOAT_RUN.search(str(np.linspace(0.1, 0.9, 5)))  # the pattern does find arrays
    by_case = {
        m.id: mistake_results(assignment, m.id)
        for m in cases.load(assignment).mistakes
        if not m.slow
    }
    assert not messages_with_float_arrays(by_case)


@functools.cache
def every_check_on_mistake(assignment: str, mistake_id: str) -> dict:
    """The results of every check that trains no model, of every function, on a mistake."""
    namespace = reference(
        assignment, mistaken_source(assignment, cases.load(assignment).mistake(mistake_id))
    )
    return score(assignment, namespace, CASE_SEED, _fast(assignment))


@pytest.mark.parametrize(
    ("assignment", "mistake"),
    [p for p in _cases("mistakes") if p.values[0] in NUMPY_ASSIGNMENTS and not p.values[1].slow],
)
def test_mistake_faults_no_check_of_any_function(assignment, mistake):
    """A mistake in one function leaves every check, those of the other functions too
    (which may call it), with a message of its own: never the grader's fault, no array."""
    results = every_check_on_mistake(assignment, mistake.id)
    faults = {n: r.output for n, r in results.items() if GRADER_FAULT in r.output}
    assert not faults
    assert not messages_with_float_arrays({mistake.id: results})


@pytest.mark.parametrize(("assignment", "alternative"), _cases("alternatives"))
def test_correct_alternative_gets_full_marks(assignment, alternative):
    """Correct work written otherwise gets every point of the checks of its functions (of
    every function, in a numpy assignment: those that call a replaced one pass too)."""
    book = registry.assignment(assignment)
    functions = alternative.functions(book.functions)
    assert functions, "the alternative defines none of the graded functions"
    if assignment in NUMPY_ASSIGNMENTS:
        functions = book.functions
    wanted = {
        c.name
        for function in functions
        for c in book.checks_of(function)
        if alternative.slow or not c.trains
    }
    results = score(assignment, reference(assignment, alternative.source), CASE_SEED,
                    wanted.__contains__)  # fmt: skip
    assert set(results) == wanted
    failed = {name: r.output for name, r in results.items() if not r.passed}
    assert not failed


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_assignment_is_complete(assignment):
    """An assignment has all its parts: notebooks, checks of every function with points,
    known data sets, and a table with a mistake for every function, alternatives, a
    sample mistake and an example call for each stub."""
    book = registry.assignment(assignment)
    for kind in ("source", "released", "solution"):
        assert book.notebook(kind, ROOT).is_file(), kind
    assert book.functions and book.cases is not None
    assert {c.function for c in book.graded} == set(book.functions)
    assert MIN_POINTS <= book.points <= MAX_POINTS
    known = {spec.dataset for spec in heldout.DATA_FILES}
    assert set(book.datasets) <= known
    table = cases.load(assignment)
    assert {m.function for m in table.mistakes} == set(book.functions)
    assert table.alternatives and set(table.calls) == set(book.functions)
    assert table.sample.function in book.functions and not table.sample.slow
    ids = [m.id for m in table.mistakes] + [a.id for a in table.alternatives]
    assert len(ids) == len(set(ids)), "ids repeat"
    checks = {c.name: c for c in book.graded}
    for mistake in table.mistakes:  # every edit applies to the reference
        mistaken_source(assignment, mistake)
        for check in {mistake.check, *mistake.also} - {None}:
            assert check in checks, (mistake.id, check)
            assert mistake.slow or not checks[check].trains, (mistake.id, check, "slow=True")


def test_every_data_set_is_read_by_an_assignment():
    """Each data file the sandbox blanks belongs to an assignment that says it reads it."""
    read = {d for a in ASSIGNMENTS for d in registry.assignment(a).datasets}
    assert {spec.dataset for spec in heldout.DATA_FILES} == read


# ---------------------------------------------------------------------------
# Inputs unchanged (the curriculum: no function modifies its inputs). Every function
# that takes arrays has the shared check; the reference passes it, and the reference
# made to change each of its arguments in place fails it, naming that argument.
# ---------------------------------------------------------------------------

#: Checks of inputs left unchanged that are not ``common.unchanged_check``, and why.
UNCHANGED_BY_TASK = {
    # DataFrames cannot cross the channel: a task builds them in the child and reports
    # their columns and values after the call.
    "test_split_predictors_target_does_not_modify_input": "keras_intro.split_frame",
    "test_normalize_does_not_modify_inputs": "keras_intro.normalize_frames",
}


def _unchanged_checks(assignment: str, function: str) -> list[str]:
    """The names of the inputs-unchanged checks of ``function``."""
    return [c.name for c in registry.assignment(assignment).checks_of(function)
            if "_not_modify_" in c.name]  # fmt: skip


def _takes_data(assignment: str, function: str) -> bool:
    """Whether the table's example call of ``function`` passes an array or a pandas object."""
    return any(holds_data(arg) for arg in cases.load(assignment).calls[function])


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_function_taking_arrays_has_an_inputs_unchanged_check(assignment):
    """A function that takes arrays has the shared check, one that does not is a model
    builder or listed in its module's ``UNCHANGED_EXEMPT`` with the reason."""
    module = importlib.import_module(f"autograder.checks.{assignment}")
    exempt = getattr(module, "UNCHANGED_EXEMPT", {})
    functions = graded_functions(assignment)
    assert set(exempt) <= set(functions)
    for function in functions:
        checks = _unchanged_checks(assignment, function)
        if _takes_data(assignment, function):
            assert len(checks) == 1 and function not in exempt, (function, checks)
            shared = getattr(getattr(module, checks[0]), "unchanged", None)
            assert shared is not None and shared[0] == function or checks[0] in UNCHANGED_BY_TASK
        else:
            assert not checks, (function, checks)
            assert _is_keras_builder(function) or str(exempt.get(function, "")).strip(), function


#: (assignment, function) of every function with an inputs-unchanged check.
UNCHANGED = [(a, f) for a in ASSIGNMENTS for f in graded_functions(a) if _unchanged_checks(a, f)]


def _scribble(value) -> bool:
    """Change ``value`` in place (every array in it); whether there was anything to change."""
    if isinstance(value, np.ndarray):
        if value.size == 0:
            return False
        if value.dtype == bool:
            np.logical_not(value, out=value)
        else:
            value += 1
        return True
    if isinstance(value, pd.DataFrame):
        value.iloc[:, 0] = value.iloc[:, 0] + 1
        return True
    if isinstance(value, pd.Series):
        value.iloc[:] = value + 1
        return True
    if isinstance(value, dict):
        return any([_scribble(item) for item in value.values()])
    if isinstance(value, list | tuple):
        return any([_scribble(item) for item in value])
    return False


def _in_place(function, parameter: str, changed: list):
    """``function`` computing on copies, then changing its argument ``parameter`` in place
    (``x += 1``, a flipped mask, a DataFrame's column): the right answer, a changed input."""
    signature = inspect.signature(function)

    def mutant(*args, **kwargs):
        answer = function(*copy.deepcopy(args), **copy.deepcopy(kwargs))
        bound = signature.bind(*args, **kwargs).arguments
        if parameter in bound and _scribble(bound[parameter]):
            changed.append(parameter)
        return answer

    return mutant


@pytest.mark.parametrize(("assignment", "function"), UNCHANGED)
def test_inputs_unchanged_check_passes_the_reference_and_fails_in_place_changes(
    assignment, function
):
    """The reference passes; changing any one array argument in place fails, with words
    that say which argument was modified in place."""
    checks = _unchanged_checks(assignment, function)
    namespace = reference(assignment)
    results = score(assignment, namespace, CASE_SEED, checks.__contains__)
    assert set(results) == set(checks)
    assert all(r.passed for r in results.values()), {n: r.output for n, r in results.items()}
    original = namespace[function]
    tried = []
    for parameter in inspect.signature(original).parameters:
        changed: list = []
        namespace[function] = _in_place(original, parameter, changed)
        results = score(assignment, namespace, CASE_SEED, checks.__contains__)
        if not changed:  # a number, a seed or a generator: nothing to change in place
            continue
        tried.append(parameter)
        for name, result in results.items():
            assert not result.passed, (name, parameter)
            words = result.output.lower()
            assert "in place" in words and "modif" in words, (name, parameter, result.output)
            assert f"`{parameter}`" in result.output, (name, parameter, result.output)
            assert GRADER_FAULT not in result.output
    assert tried, f"no argument of {function} could be changed in place"
