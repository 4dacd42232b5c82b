"""Helpers for the kit's tests: notebooks' functions as in-process namespaces.

The hidden checks are tried against the reference solution, the released stubs,
common mistakes (mutants) and correct alternatives by calling them on
:class:`~autograder.submission.LocalSubmission` objects: no sandbox, no kernel,
a fraction of a second per run.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path

import nbformat
import numpy as np

from autograder import cases, registry
from autograder.registry import function_of
from autograder.results import CheckResult
from autograder.scoring import run_checks
from autograder.submission import LocalSubmission

ROOT = Path(__file__).resolve().parents[1]


#: An import statement on a line of its own.
IMPORT_LINE = re.compile(r"^(?:import|from)\s+[\w.]+.*$", re.M)


def notebook_imports(path: Path) -> str:
    """The import statements of a notebook's plain code cells (neither solution nor test)."""
    notebook = nbformat.read(path, as_version=4)
    return "\n".join(
        line
        for cell in notebook.cells
        if cell.cell_type == "code" and not cell.metadata.get("nbgrader", {}).get("solution")
        and not cell.metadata.get("nbgrader", {}).get("grade")
        for line in IMPORT_LINE.findall(cell.source)
    )  # fmt: skip


def namespace_of(path: Path, *extra_sources: str) -> dict:
    """Execute a notebook's solution cells, then ``extra_sources``, in a fresh namespace.

    The notebook's own imports (``np``, ``keras``, ``pd``, ...) run first. Later
    definitions replace earlier ones, and since every function lives in the same
    namespace, a replaced helper is the one the other functions call.
    """
    namespace: dict = {"__name__": "submission"}
    exec("import numpy as np\n" + notebook_imports(path), namespace)
    for source in [*(c.source for c in cases.solution_cells(path)), *extra_sources]:
        exec(compile(source, str(path), "exec"), namespace)
    return namespace


def reference(assignment: str, *replacements: str) -> dict:
    """The reference solution's functions, with optional replacement definitions."""
    return namespace_of(ROOT / "source" / assignment / f"{assignment}.ipynb", *replacements)


def released(assignment: str) -> dict:
    """The functions of the released (student) notebook: stubs."""
    return namespace_of(ROOT / "assignments" / assignment / f"{assignment}.ipynb")


def score(
    assignment: str,
    namespace: dict,
    seed: int = 0,
    only: str | Callable[[str], bool] | None = None,
) -> dict[str, CheckResult]:
    """Run the hidden checks of ``assignment`` on ``namespace``; results by check name.

    Args:
        only: run only the checks of this student function, or those whose names
            this predicate accepts.
    """
    selected = only
    if isinstance(only, str):
        functions = list(registry.assignment(assignment).functions)
        selected = lambda name: function_of(name, functions) == only  # noqa: E731
    results = run_checks(assignment, LocalSubmission(namespace, seed=seed), only=selected)
    return {result.name: result for result in results}


def mistaken_source(assignment: str, mistake: cases.Mistake) -> str:
    """The definitions of ``mistake``: the reference's definition of its function, edited."""
    if mistake.source:
        return mistake.source
    notebook = ROOT / "source" / assignment / f"{assignment}.ipynb"
    return mistake.apply(cases.reference_definition(notebook, mistake.function))


def mistaken(assignment: str, mistake_id: str) -> dict:
    """The reference's functions with the table's mistake ``mistake_id`` put in."""
    mistake = cases.load(assignment).mistake(mistake_id)
    return reference(assignment, mistaken_source(assignment, mistake))


_TRAINING_RUNS: dict[tuple[str, int], tuple[dict[str, CheckResult], RecordingSubmission]] = {}


def reference_training_run(assignment: str, seed: int):
    """The checks that train a model, run once per seed on the reference, and kept.

    Returns:
        ``(results by check name, the RecordingSubmission)``, whose ``tasks``,
        ``judged`` and ``metrics`` the assignment's own tests read.
    """
    key = (assignment, seed)
    if key not in _TRAINING_RUNS:
        trained = {c.name for c in registry.assignment(assignment).graded if c.trains}
        submission = RecordingSubmission(reference(assignment), seed=seed)
        results = run_checks(assignment, submission, trained.__contains__)
        _TRAINING_RUNS[key] = ({r.name: r for r in results}, submission)
    return _TRAINING_RUNS[key]


class RecordingSubmission(LocalSubmission):
    """A LocalSubmission that keeps every call, task and judge request.

    The kit's tests read them to prove what a task or the judge never receives
    (held-out labels, the public images unperturbed), and to work out what the
    checks expected of the calls they made.
    """

    def __init__(self, namespace: dict, seed: int = 0) -> None:
        super().__init__(namespace, seed)
        self.calls: list[tuple[str, tuple, object]] = []
        self.tasks: list[tuple[str, tuple, dict]] = []
        self.judged: list[tuple[str, dict]] = []

    def _call(self, function, args, kwargs, return_args):
        reply = super()._call(function, args, kwargs, return_args)
        self.calls.append((function, args, reply[0]))
        return reply

    def _task(self, name, args, kwargs, timeout):
        self.tasks.append((name, args, kwargs))
        return super()._task(name, args, kwargs, timeout)

    def _judge(self, action, payload, timeout):
        self.judged.append((action, payload))
        return super()._judge(action, payload, timeout)


def training_requests(submission: RecordingSubmission) -> list[dict]:
    """The payloads of the judge's trainings, after checking that the child got no data.

    The child only builds and exports the model: its tasks receive the builder's
    arguments, never an array.
    """
    for name, args, kwargs in submission.tasks:
        assert name == "keras_models.export", name
        assert not [a for a in (*args, *kwargs.values()) if isinstance(a, np.ndarray)]
    trainings = [payload for action, payload in submission.judged if action == "fit_predict"]
    for payload in trainings:
        arrays = [name for name, value in payload.items() if isinstance(value, np.ndarray)]
        assert sorted(arrays) == ["x_test", "x_train", "y_train"]  # no held-out targets
    return trainings


#: The start of the message a check gives when it breaks on what it received: never
#: acceptable for a mistake the checks are meant to catch.
GRADER_FAULT = "The grader could not finish"


def assert_caught_helpfully(
    results: dict[str, CheckResult], function: str, functions: tuple[str, ...], case: str
) -> None:
    """Some check of ``function`` failed on ``case``, each failure with a real message."""
    failed = failed_checks_of(results, function, functions)
    assert failed, f"no check of {function} caught {case}"
    for result in failed:
        assert result.output.strip(), result.name
        assert GRADER_FAULT not in result.output, (result.name, result.output)


def failed_checks_of(
    results: dict[str, CheckResult], function: str, functions: list[str] | tuple[str, ...]
) -> list[CheckResult]:
    """The failed checks named after ``function`` among the assignment's ``functions``."""
    return [
        r for name, r in results.items()
        if function_of(name, list(functions)) == function and not r.passed
    ]  # fmt: skip


#: Three or more floats in a row: an array printed into a message.
FLOAT_RUN = re.compile(r"(?:-?\d*\.\d+(?:e[-+]?\d+)?[\s,\]\[]+){3,}")


def messages_with_float_arrays(results_by_case: dict[str, dict[str, CheckResult]]) -> list:
    """``(case, check, message)`` of every message that prints an array of numbers."""
    return [
        (case, name, result.output)
        for case, results in results_by_case.items()
        for name, result in results.items()
        if FLOAT_RUN.search(result.output)
    ]


def check_module(assignment: str):
    """The hidden checks' module of ``assignment``, imported once into the tests' process."""
    import importlib.util
    import sys

    name = f"_hidden_checks_{assignment}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, registry.assignment(assignment).checks)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def failing_seeds(assignment: str, check: str, namespace: dict, seeds) -> dict[int, str]:
    """Run one hidden check on ``namespace`` once per seed, in-process, without pytest.

    The check gets the ``rng`` the grader's plugin gives it for that run's seed
    (:mod:`autograder.scoring`), so a seed found here repeats with ``score``. A fault of
    the check itself (anything but a failed check) is raised, never counted.

    The calls go through :class:`CopyingSubmission`, which skips the channel's
    encoding (most of the time of a check that calls its function hundreds of times).

    Returns:
        ``{seed: message}`` of the runs whose check failed.
    """
    import hashlib

    from autograder.checks.common import CheckFailure

    function = getattr(check_module(assignment), check)
    salt = int.from_bytes(hashlib.sha256(check.encode()).digest()[:8], "little")
    failed = {}
    for seed in seeds:
        submission = CopyingSubmission(namespace, seed=seed)
        try:
            function(submission, np.random.default_rng([seed, salt]))
        except CheckFailure as failure:
            failed[seed] = str(failure)
    return failed


class SyntheticTraining:
    """A submission whose judge answers a training with predictions a test made up.

    A learning check's partial credit is computed in the grader from the predictions
    alone, so it is tested without Keras: ``answer(payload)`` returns ``(before, after)``
    for the judge's ``fit_predict`` payload (``x_train``, ``y_train``, ``x_test``, ...).
    Call the check function directly with it and a ``np.random.Generator``.
    """

    def __init__(self, answer: Callable[[dict], tuple[np.ndarray, np.ndarray]]) -> None:
        self.answer = answer
        self.metrics: dict = {}
        self.seed = 0

    def judge(self, action: str, builder: str, **payload):
        assert action in ("fit_predict", "transfer"), action
        before, after = self.answer(payload)
        result = {
            "before": np.asarray(before, dtype=float),
            "after": np.asarray(after, dtype=float),
        }
        if action == "transfer":  # the capstone's: one model's facts (no fine-tuning asked)
            assert not payload["task_kwargs"].get("n_layers")
            result["facts"] = [{}]
        return result


def learning_outcome(check: Callable, submission: SyntheticTraining, seed: int = 0):
    """``(fraction of the check's points, message)`` of a learning check on made-up predictions."""
    from autograder.checks.common import CheckFailure, PartialCredit

    try:
        check(submission, np.random.default_rng(seed))
    except PartialCredit as error:
        return error.fraction, str(error)
    except CheckFailure as error:
        return 0.0, str(error)
    return 1.0, ""


def assert_learning_outcome(
    check: Callable, submission: SyntheticTraining, fraction: float, *phrases: str
) -> None:
    """The learning check gives ``fraction`` of its points on made-up predictions; short of
    full points, its message holds every phrase and says the share given, in words."""
    got, message = learning_outcome(check, submission)
    assert got == fraction, (got, message)
    if fraction < 1:
        for phrase in (*phrases, f": {fraction:.0%} of this check's points"):
            assert phrase in message, (phrase, message)
        assert GRADER_FAULT not in message


class CopyingSubmission(LocalSubmission):
    """A LocalSubmission that deep-copies arguments and results instead of encoding them.

    For running a statistical check over many seeds: the values the student's function
    sees and returns are the same as through the channel (arrays keep their dtype, the
    rng marker becomes ``np.random.default_rng(seed)``), but nothing is refused for the
    channel's limits; the generic suite, through :class:`LocalSubmission`, checks those.
    """

    copy_value = staticmethod(copy.deepcopy)
