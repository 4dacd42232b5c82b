"""nbgrader's own commands graded by the kit: ``nbgrader autograde``, ``generate_feedback``.

The course's ``nbgrader_config.py`` plugs three preprocessors into nbgrader's
converters (their preprocessor lists are traitlets), so that formgrader's
Autograde and Generate feedback buttons go through the kit's grader too:

- :class:`GradeWithKit` takes the place of nbgrader's ``Execute`` in
  ``c.Autograde.autograde_preprocessors``. No kernel starts: it grades the
  student's *submitted* notebook file exactly as ``autograder grade submitted/``
  does (the batch's own :class:`~autograder.batch.Job` and
  :meth:`~autograder.batch.Batch.grade`, so the same digest and seed), in the
  sandbox with the hidden checks outside it, and writes the kit's
  ``results.json`` into ``autograded/<student>/<assignment>/``. Then it fills
  each graded test cell with the kit's check messages (a stdout stream) and
  the cell's points (an ``execute_result``, which nbgrader's ``SaveAutoGrades``
  reads as partial credit), so the gradebook gets the kit's points and
  formgrader shows the messages beside them. If grading fails it raises, and
  nbgrader writes no grade.
- :class:`RequireKitGrading` runs first in ``c.Autograde.sanitize_preprocessors``
  and refuses to autograde when the autograde pipeline does not grade with
  :class:`GradeWithKit` before ``SaveAutoGrades``, or would execute the notebook
  in a kernel.
- :class:`ShowKitFeedback` runs first in ``c.GenerateFeedback.preprocessors``: it
  refuses unless the autograded ``results.json`` is the kit's completed grade of
  the submission as last handed in, writes the kit's messages into the graded
  test cells, and strips any hidden test region from the page.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
from nbconvert.preprocessors import ExecutePreprocessor
from nbformat.notebooknode import NotebookNode
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor, SaveAutoGrades
from nbgrader.utils import is_grade
from traitlets import Dict, Enum, List
from traitlets.utils.importstring import import_item

from autograder import devices
from autograder.batch import Batch, Job, find_jobs
from autograder.feedback import readable_name
from autograder.gradebook import grade_cell_scores
from autograder.registry import function_of
from autograder.results import Results
from autograder.sandbox import Limits

#: A hidden test region, as nbgrader delimits one (none is left in the kit's notebooks).
HIDDEN_REGION = re.compile(
    r"^[^\n]*BEGIN HIDDEN TESTS.*?(?:^[^\n]*END HIDDEN TESTS[^\n]*$\n?|\Z)", re.S | re.M
)


class KitGradingError(Exception):
    """nbgrader cannot be given a grade that came from the kit: nothing is recorded."""


# -- where things are ---------------------------------------------------------
def _course_directory(preprocessor) -> CourseDirectory:
    """The converter's course directory (preprocessor -> exporter -> converter)."""
    owner = preprocessor
    while owner is not None:
        coursedir = getattr(owner, "coursedir", None)
        if isinstance(coursedir, CourseDirectory):
            return coursedir
        owner = getattr(owner, "parent", None)
    raise KitGradingError(
        "the kit's nbgrader preprocessors run only inside nbgrader's converters "
        "(nbgrader autograde, nbgrader generate_feedback, formgrader)"
    )


def submitted_job(
    coursedir: CourseDirectory, student: str, assignment: str, notebook: str
) -> tuple[Job, Path]:
    """The batch's job for one submission, and the course it belongs to.

    Raises:
        KitGradingError: the kit cannot grade this submission as the batch would.
    """
    course = Path(coursedir.root).resolve()
    folder = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
    autograded = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))
    found = [
        job
        for job in find_jobs(folder.parent.parent, assignment=assignment, student=student)
        if job.folder.resolve() == folder.resolve()
    ]
    if not found:
        raise KitGradingError(
            f"the kit has no checks for assignment {assignment!r} (or no submission of "
            f"{student!r} under {folder}); refusing to grade it any other way"
        )
    job = found[0]
    if job.out_dir(course).resolve() != autograded.resolve():
        raise KitGradingError(
            f"the kit writes results to {job.out_dir(course)}, but this course's nbgrader "
            f"autograded folder is {autograded}: use the default layout "
            "(<course>/submitted/<student>/<assignment>/ and autograded/...)"
        )
    if job.notebook is None or job.notebook.name != f"{notebook}.ipynb":
        raise KitGradingError(
            f"the kit grades {assignment!r} from {assignment}.ipynb "
            f"(found {job.notebook.name if job.notebook else 'no notebook'}), "
            f"not from {notebook}.ipynb"
        )
    return job, course


# -- the graded cells -----------------------------------------------------------
def _points(value: float) -> str:
    return f"{value:g}"


def cell_messages(results: Results | dict[str, Any], cell_names: list[str]) -> dict[str, str]:
    """The text each grade cell ``test_<function>`` shows: its checks, points and messages."""
    functions = [name.removeprefix("test_") for name in cell_names]
    lines: dict[str, list[str]] = {name: [] for name in cell_names}
    results = Results.of(results)
    for check in results.checks:
        cell = f"test_{function_of(check.name, functions)}"
        if cell not in lines:
            continue
        status = "passed" if check.passed else "failed"
        lines[cell].append(
            f"{readable_name(check.name, functions)}: {status}, "
            f"{_points(check.score)} / {_points(check.max_score)}"
        )
        output = check.output.strip()
        if output:
            lines[cell].extend(f"    {line}" for line in output.splitlines())
    if results.notes and cell_names:  # the grader's notes, once
        lines[cell_names[0]] += ["", "Grader notes:", *results.notes]
    return {name: "\n".join(text) + "\n" for name, text in lines.items()}


def fill_grade_cells(nb: NotebookNode, results: Results | dict[str, Any]) -> dict[str, float]:
    """Give each graded test cell the kit's messages (stdout) and points (execute_result).

    nbgrader's ``determine_grade`` reads the ``execute_result`` as the cell's
    partial credit; there is no stderr stream and no error output, which it would
    read as 0.

    Returns:
        The points written into each grade cell, by cell name.
    """
    cells = {
        cell.metadata["nbgrader"]["grade_id"]: cell
        for cell in nb.cells
        if is_grade(cell) and cell.cell_type == "code"
    }
    maxima = {name: float(cell.metadata["nbgrader"]["points"]) for name, cell in cells.items()}
    scores = grade_cell_scores(results, maxima)
    messages = cell_messages(results, list(cells))
    written = {}
    for name, cell in cells.items():
        written[name] = max(0.0, scores[name])
        cell.execution_count = None
        cell.outputs = [
            nbformat.v4.new_output("stream", name="stdout", text=messages[name]),
            nbformat.v4.new_output("execute_result", data={"text/plain": repr(written[name])}),
        ]
    return written


def _copy_other_outputs(nb: NotebookNode, executed: Path) -> None:
    """Show the sandboxed run's outputs (prints, plots, errors) under the ungraded code cells."""
    try:
        run = nbformat.read(executed, as_version=4)
    except Exception:  # noqa: BLE001 (no executed copy: the cells stay empty)
        return
    if len(run.cells) != len(nb.cells):
        return
    for cell, ran in zip(nb.cells, run.cells, strict=True):
        if cell.cell_type == "code" == ran.cell_type and not is_grade(cell):
            cell.outputs = ran.get("outputs", [])
            cell.execution_count = None


# -- nbgrader autograde -----------------------------------------------------------
class GradeWithKit(NbGraderPreprocessor):
    """Grade the submitted notebook with the kit's batch grader; no kernel runs.

    Configure it in place of ``Execute`` in ``c.Autograde.autograde_preprocessors``.
    """

    limits = Dict(
        help="The sandbox's limits, as keyword arguments of autograder.sandbox.Limits "
        "(e.g. {'memory_bytes': 2 * 1024**3}); the defaults are those of `autograder grade`."
    ).tag(config=True)

    device = Enum(
        ("auto", "cpu", "gpu"),
        default_value="auto",
        help="Where the Keras backend computes: a GPU where there is one (auto), the CPU, "
        "or a GPU or fail; as `autograder grade --device`.",
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        info = resources["nbgrader"]
        job, course = submitted_job(
            _course_directory(self), info["student"], info["assignment"], info["notebook"]
        )
        out_dir = job.out_dir(course)
        # nbgrader copies the submission's other files here: a results.json among them is
        # not the kit's, and must not pass for it (the batch reuses one with its digest).
        (out_dir / "results.json").unlink(missing_ok=True)
        limits = Limits(**self.limits)
        pool = devices.batch_pool(self.device, "all", 1, limits.gpu_memory_bytes)
        batch = Batch(course, jobs=1, limits=limits, gradebook=False, gpus=pool)
        outcome = batch.grade(job)
        if outcome.status not in ("graded", "unchanged"):
            message = "\n".join(outcome.results.notes).strip().splitlines()
            raise KitGradingError(
                f"the kit could not grade {job.student}/{job.assignment}; no grade is "
                f"recorded. {message[-1] if message else ''}".strip()
            )
        _copy_other_outputs(nb, out_dir / f"{job.assignment}.ipynb")
        scores = fill_grade_cells(nb, outcome.results)
        self.log.info(
            "The kit graded %s/%s: %s / %s",
            job.student,
            job.assignment,
            _points(sum(scores.values())),
            _points(outcome.results.max_score),
        )
        return nb, resources


def _preprocessor_class(entry: Any) -> type | None:
    if isinstance(entry, str):
        try:
            entry = import_item(entry)
        except Exception:  # noqa: BLE001 (nbgrader itself will fail on it)
            return None
    return entry if isinstance(entry, type) else type(entry)


def check_autograde_pipeline(preprocessors: list) -> None:
    """Refuse a pipeline that does not grade with the kit or would run a kernel.

    Raises:
        KitGradingError: saying what to configure.
    """
    classes = [_preprocessor_class(entry) for entry in preprocessors]
    kit = [i for i, cls in enumerate(classes) if cls and issubclass(cls, GradeWithKit)]
    saves = [i for i, cls in enumerate(classes) if cls and issubclass(cls, SaveAutoGrades)]
    kernels = [cls.__name__ for cls in classes if cls and issubclass(cls, ExecutePreprocessor)]
    if kernels or not kit or (saves and min(saves) < kit[0]):
        problem = (
            f"it would execute the notebook in the student's kernel ({', '.join(kernels)})"
            if kernels
            else "the kit's grader is not in it"
            if not kit
            else "SaveAutoGrades comes before the kit's grader"
        )
        raise KitGradingError(
            f"refusing to autograde: {problem}. Grades come from the kit's sandboxed "
            "grader only: put autograder.nbgrader_grading.GradeWithKit in place of "
            "Execute in c.Autograde.autograde_preprocessors (see the course's "
            "nbgrader_config.py)."
        )


class RequireKitGrading(NbGraderPreprocessor):
    """First of ``c.Autograde.sanitize_preprocessors``: refuse unless the kit grades.

    It checks the autograde pipeline that will follow, before anything is graded.
    """

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        owner = self
        while owner is not None and not hasattr(owner, "autograde_preprocessors"):
            owner = getattr(owner, "parent", None)
        if owner is None:
            raise KitGradingError("RequireKitGrading belongs in c.Autograde.sanitize_preprocessors")
        check_autograde_pipeline(list(owner.autograde_preprocessors))
        return nb, resources


# -- nbgrader generate_feedback ------------------------------------------------
def kit_results(
    coursedir: CourseDirectory, student: str, assignment: str, notebook: str
) -> Results:
    """The kit's ``results.json`` of a submission, checked against the submission now.

    Only the kit writes ``results.json`` in the autograded folder (nbgrader never
    copies a submitted one there, and :class:`GradeWithKit` replaces any it finds).

    Raises:
        KitGradingError: there is none, grading failed, it is another submission's,
            or the work was handed in again after it was graded.
    """
    job, course = submitted_job(coursedir, student, assignment, notebook)
    out_dir = job.out_dir(course)
    path = out_dir / "results.json"
    results = Results.read(path)
    if results is None:
        raise KitGradingError(
            f"no grade from the kit for {student}/{assignment} ({path} is missing): run "
            "`nbgrader autograde` or `autograder grade submitted/` first"
        )
    extra = results.extra
    if (extra.get("student"), extra.get("assignment")) != (student, assignment):
        raise KitGradingError(f"{path} is not the kit's grade of {student}/{assignment}")
    if extra.get("digest") is None:
        raise KitGradingError(
            f"the kit could not grade {student}/{assignment}: regrade it before sending feedback"
        )
    submitted = coursedir.get_existing_timestamp(str(job.folder))
    if submitted is not None and submitted != coursedir.get_existing_timestamp(str(out_dir)):
        raise KitGradingError(
            f"{student}/{assignment} was handed in again after it was graded: regrade it "
            "before sending feedback"
        )
    return results


def strip_hidden_tests(nb: NotebookNode) -> None:
    """Remove every hidden test region from the cells' sources."""
    for cell in nb.cells:
        if "HIDDEN TESTS" in cell.source:
            cell.source = HIDDEN_REGION.sub("", cell.source)


class ShowKitFeedback(NbGraderPreprocessor):
    """First of ``c.GenerateFeedback.preprocessors``: the kit's messages, or a refusal."""

    #: Configurable, as in nbgrader's GetGrades: the HTML exporter's config sets it.
    display_data_priority = List(NbGraderPreprocessor.display_data_priority.default_value).tag(
        config=True
    )

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        info = resources["nbgrader"]
        results = kit_results(
            _course_directory(self), info["student"], info["assignment"], info["notebook"]
        )
        strip_hidden_tests(nb)
        fill_grade_cells(nb, results)
        return nb, resources
