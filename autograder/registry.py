"""The assignment registry: every assignment the kit grades, and all that makes it up.

One place, read from the code itself, for everything that must know an
assignment: its checks with their functions and points, its tasks, its data, its
notebooks, its table of mistakes and alternatives, and every file its grading
needs. The Gradescope bundle ships exactly those files and the batch's content
hash covers exactly those, so a changed helper, task or grader module cannot
leave a bundle broken or an old result marked unchanged; the demo, the sample
class, the kit's generic tests and the docs ask the registry too.

An assignment is a module ``autograder/checks/<id>.py`` whose name neither starts
with ``_`` nor is ``common``; the other modules of ``autograder/checks/`` are
helpers. For each assignment the registry knows

* its **checks** module, and in it the student **functions** it grades (the
  module's ``FUNCTIONS``), each **check** with its points and whether it trains a
  model (``@points(n)``, ``@trains``), and the installed **data sets** it reads
  (``DATASETS``, each one of :data:`autograder.heldout.DATA_FILES`);
* its **cases**: ``autograder/cases/<id>.py``, the known mistakes and correct
  alternatives (not needed to grade);
* its **notebooks**: ``source/<id>/<id>.ipynb`` (the reference), and the released
  and solution notebooks nbgrader makes of it, in a course folder;
* its **helpers**: the modules of ``autograder/checks/`` the checks import,
  directly or through another helper (``common.py``, ``_digits.py``);
* its **tasks**: the modules of ``autograder/tasks/`` whose tasks the checks (or
  their helpers) run in the sandbox with ``submission.task("<module>.<function>")``
  or import, and the task modules those import (a check module that judges a
  model with ``submission.judge(...)``, itself or through a helper such as
  ``_keras.py``, runs the export task). A task whose module the scan
  cannot read (a name computed at run time) counts as needing every task module;
* its **data**: the course's data package beside this one (``course_data``): its
  ``__init__.py`` for every assignment (the sandbox binds the package, so the grader
  imports it), and every file of it (images, a pretrained model) for an assignment
  whose checks or helpers import it, since its notebook reads them too.

The **grader's own code** is every other module of the package (the two
subpackages' ``__init__.py`` included): a change to any of them may change how a
notebook runs or how its grade is written. The package's files are ``.py`` files,
which is what ``pip install`` puts in it; the data package's files are those its
``package-data`` installs.

Example:
    >>> cnn = assignment("cnn")
    >>> [p.name for p in cnn.helpers]
    ['_digits.py', '_keras.py', 'common.py']
    >>> [p.name for p in cnn.tasks]
    ['keras_models.py']
    >>> cnn.functions, cnn.datasets
    (('preprocess_images', 'build_cnn'), ('mnist',))
"""

from __future__ import annotations

import ast
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from autograder.tasks import EXPORT_TASK

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGE = PACKAGE_DIR.name
#: The course's data package beside this one (public data the notebooks read).
DATA_PACKAGE = "course_data"
#: Modules of ``checks/`` that are helpers whatever their name.
_SHARED_HELPERS = ("common",)


#: Where the course's notebooks are, for an assignment ``<id>``, under a course folder.
SOURCE = "source/{id}/{id}.ipynb"
RELEASED = "assignments/{id}/{id}.ipynb"
SOLUTION = "solutions/{id}/{id}.ipynb"


@dataclass(frozen=True)
class Check:
    """One hidden check: its name, the student function it is named after, its points."""

    name: str
    function: str
    points: float
    #: Whether it trains a model (``@trains``): seconds, not milliseconds, to run.
    trains: bool = False


@dataclass(frozen=True)
class Assignment:
    """One assignment: its checks, functions, data and files (absolute paths, sorted)."""

    id: str
    checks: Path
    helpers: tuple[Path, ...]
    tasks: tuple[Path, ...]
    grader: tuple[Path, ...]
    functions: tuple[str, ...] = ()
    graded: tuple[Check, ...] = ()
    datasets: tuple[str, ...] = ()
    cases: Path | None = None
    #: Files of the course's data package: its ``__init__.py`` (the sandbox imports it)
    #: for every assignment, the whole package for one whose checks import it.
    data: tuple[Path, ...] = ()

    def files(self) -> tuple[Path, ...]:
        """Every file grading it needs: the grader's code, its checks, helpers, tasks and data."""
        return tuple(sorted({*self.grader, self.checks, *self.helpers, *self.tasks, *self.data}))

    @property
    def points(self) -> float:
        """The most a submission can score."""
        return sum(check.points for check in self.graded)

    def checks_of(self, function: str) -> tuple[Check, ...]:
        """The checks named after ``function``."""
        return tuple(check for check in self.graded if check.function == function)

    def notebook(self, kind: str, course: Path) -> Path:
        """Its ``"source"``, ``"released"`` or ``"solution"`` notebook under ``course``."""
        pattern = {"source": SOURCE, "released": RELEASED, "solution": SOLUTION}[kind]
        return Path(course) / pattern.format(id=self.id)


class Registry:
    """The assignments of the package in ``package_dir`` (the installed one by default).

    Imports are read with :mod:`ast`, never by importing the modules; each
    file's scan is kept until the file changes. Safe to use from several threads.
    """

    def __init__(self, package_dir: Path = PACKAGE_DIR) -> None:
        self.package_dir = Path(package_dir)
        self.checks_dir = self.package_dir / "checks"
        self.tasks_dir = self.package_dir / "tasks"
        self.data_dir = self.package_dir.parent / DATA_PACKAGE
        self._scans: dict[Path, tuple[tuple[int, int], _Scan]] = {}
        # One scan at a time: CPython 3.11's ast.parse is not safe across threads
        # ("AST constructor recursion depth mismatch"), and batches digest in threads.
        self._scan_lock = threading.Lock()

    def ids(self) -> tuple[str, ...]:
        """The assignment ids, sorted."""
        return tuple(
            sorted(
                path.stem
                for path in self.checks_dir.glob("*.py")
                if not path.stem.startswith("_") and path.stem not in _SHARED_HELPERS
            )
        )

    def assignment(self, assignment_id: str) -> Assignment:
        """The files of ``assignment_id``; ``ValueError`` for an id without checks."""
        known = self.ids()
        if assignment_id not in known:
            raise ValueError(f"unknown assignment {assignment_id!r}; expected one of {list(known)}")
        checks = self.checks_dir / f"{assignment_id}.py"
        helpers = self._closure(checks, self.checks_dir, lambda scan: scan.checks_modules)
        task_modules: set[str] = set()
        for path in (checks, *helpers):
            scan = self._scan(path)
            task_modules |= scan.task_modules | scan.tasks_modules
        if any(self._scan(path).judges for path in (checks, *helpers)):  # e.g. through _keras
            task_modules.add(EXPORT_TASK.partition(".")[0])
        if _ANY in task_modules:
            roots = [p for p in self.tasks_dir.glob("*.py") if p.stem != "__init__"]
        else:
            roots = [self.tasks_dir / f"{name}.py" for name in task_modules]
            roots = [path for path in roots if path.is_file() and path.stem != "__init__"]
        tasks: set[Path] = set()
        for root in roots:
            tasks |= {root, *self._closure(root, self.tasks_dir, lambda scan: scan.tasks_modules)}
        reads_data = any(self._scan(path).reads_data for path in (checks, *helpers))
        scan = self._scan(checks)
        cases = self.package_dir / "cases" / f"{assignment_id}.py"
        return Assignment(
            id=assignment_id,
            checks=checks,
            helpers=tuple(sorted(helpers)),
            tasks=tuple(sorted(tasks)),
            grader=self.grader_files(),
            functions=scan.functions,
            graded=tuple(
                Check(name, function_of(name, scan.functions) or "", points, trains)
                for name, points, trains in scan.checks
            ),
            datasets=scan.datasets,
            cases=cases if cases.is_file() else None,
            data=self.data_files(whole=reads_data),
        )

    def data_files(self, *, whole: bool) -> tuple[Path, ...]:
        """The course data package's ``__init__.py``, or (``whole``) every file it installs."""
        if not whole:
            init = self.data_dir / "__init__.py"
            return (init,) if init.is_file() else ()
        return tuple(sorted(
            path for path in self.data_dir.rglob("*")
            if path.is_file() and not any(
                part.startswith(".") or part == "__pycache__"
                for part in path.relative_to(self.data_dir).parts)
        ))  # fmt: skip

    def grader_files(self) -> tuple[Path, ...]:
        """The grader's own code: every module outside ``checks/`` and ``tasks/``, and their
        ``__init__.py``."""
        files = []
        for path in self.package_dir.rglob("*.py"):
            relative = path.relative_to(self.package_dir)
            if any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
                continue
            if relative.parts[0] in ("checks", "tasks") and relative.parts[1:] != ("__init__.py",):
                continue
            if relative.parts[0] == "cases":  # the kit's tests and the demo read them, not grading
                continue
            if path.is_file():
                files.append(path)
        return tuple(sorted(files))

    def relative_name(self, path: Path) -> str:
        """``path`` beside the package, as ``autograder/checks/common.py`` or ``course_data/...``."""
        return Path(path).relative_to(self.package_dir.parent).as_posix()

    # -- reading the code ----------------------------------------------------
    def _closure(self, start: Path, folder: Path, edges) -> set[Path]:
        """The modules of ``folder`` that ``start`` imports, directly or not (not ``start``)."""
        found: set[Path] = set()
        todo = [start]
        while todo:
            for name in edges(self._scan(todo.pop())):
                path = folder / f"{name}.py"
                if path != start and path not in found and path.is_file():
                    found.add(path)
                    todo.append(path)
        return found

    def _scan(self, path: Path) -> _Scan:
        stat = path.stat()
        key = (stat.st_mtime_ns, stat.st_size)
        with self._scan_lock:
            cached = self._scans.get(path)
            if cached is None or cached[0] != key:
                cached = (key, _scan(path))
                self._scans[path] = cached
        return cached[1]


#: A task module the scan could not name: every task module may be needed.
_ANY = "*"


@dataclass(frozen=True)
class _Scan:
    """What one module refers to: modules of ``checks/``, of ``tasks/``, and tasks it runs."""

    checks_modules: frozenset[str]
    tasks_modules: frozenset[str]
    task_modules: frozenset[str]
    #: Whether it judges a model (``submission.judge(...)``), which runs the export task.
    judges: bool = False
    #: Whether it imports the course's data package (``course_data``).
    reads_data: bool = False
    #: A checks module's ``FUNCTIONS`` and ``DATASETS``, and its checks:
    #: ``(name, points, trains)`` for each top-level ``test_*`` function, in order.
    functions: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()
    checks: tuple[tuple[str, float, bool], ...] = ()


def _scan(path: Path) -> _Scan:
    tree = ast.parse(path.read_bytes(), filename=os.fspath(path))
    package = path.parent.name  # "checks" or "tasks": where relative imports point
    imported: dict[str, set[str]] = {"checks": set(), "tasks": set()}

    reads_data = False

    def add(dotted: str, names: list[str]) -> None:
        nonlocal reads_data
        reads_data = reads_data or dotted.split(".")[0] == DATA_PACKAGE
        # ``autograder.checks.common`` or ``tasks.keras_models`` (the sandbox's copy),
        # and ``from autograder.checks import _digits`` (a module among the names).
        parts = dotted.split(".")
        if parts[0] == PACKAGE:
            parts = parts[1:]
        if parts and parts[0] in imported:
            if len(parts) > 1:
                imported[parts[0]].add(parts[1])
            else:
                imported[parts[0]].update(names)

    strings = _module_strings(tree)
    tasks: set[str] = set()
    judges = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, [])
        elif isinstance(node, ast.ImportFrom):
            names = [alias.name for alias in node.names]
            if node.level:
                if node.level == 1 and package in imported:
                    if node.module:
                        imported[package].add(node.module.split(".")[0])
                    else:
                        imported[package].update(names)
            elif node.module:
                add(node.module, names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "task"
        ):
            tasks.add(_task_module(node, strings))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "judge"
        ):
            judges = True
    return _Scan(
        frozenset(imported["checks"]),
        frozenset(imported["tasks"]),
        frozenset(tasks),
        judges,
        reads_data,
        functions=_literal_names(tree, "FUNCTIONS"),
        datasets=_literal_names(tree, "DATASETS"),
        checks=tuple(_checks(tree)),
    )


def _literal_names(tree: ast.Module, name: str) -> tuple[str, ...]:
    """A module-level ``NAME = ("a", "b")`` (a tuple or list of strings); ``()`` if absent."""
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                try:
                    value = ast.literal_eval(node.value)
                except ValueError:
                    return ()
                if isinstance(value, tuple | list) and all(isinstance(v, str) for v in value):
                    return tuple(value)
    return ()


def _checks(tree: ast.Module):
    """``(name, points, trains)`` of each top-level ``test_*`` function.

    Points come from ``@points(n)`` (1 without it), training from ``@trains``. A
    top-level ``test_<name> = unchanged_check(...)`` is a check too, of 1 point
    (:func:`autograder.checks.common.unchanged_check`).
    """
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id.startswith("test_")
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "unchanged_check"
        ):
            yield node.targets[0].id, 1.0, False
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            points, trains = 1.0, False
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and isinstance(decorator.func, ast.Name)
                    and decorator.func.id == "points"
                    and decorator.args
                ):
                    points = float(ast.literal_eval(decorator.args[0]))
                elif isinstance(decorator, ast.Name) and decorator.id == "trains":
                    trains = True
            yield node.name, points, trains


def function_of(check: str, functions: tuple[str, ...] | list[str]) -> str | None:
    """The student function a check ``test_<function>_<property>`` is named after.

    The longest matching name wins, so ``test_sigmoid_derivative_values`` belongs
    to ``sigmoid_derivative``, not ``sigmoid``.

    Example:
        >>> function_of("test_sigmoid_derivative_values", ["sigmoid", "sigmoid_derivative"])
        'sigmoid_derivative'
    """
    matches = [f for f in functions if check.startswith(f"test_{f}_")]
    return max(matches, key=len) if matches else None


def _module_strings(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "text"`` constants, so a task named by one is still read."""
    strings = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        value = getattr(node, "value", None)
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            strings.update({t.id: value.value for t in targets if isinstance(t, ast.Name)})
    return strings


def _task_module(call: ast.Call, strings: dict[str, str]) -> str:
    """The module of the task a ``.task(name, ...)`` call runs, or :data:`_ANY`."""
    name = call.args[0] if call.args else None
    for keyword in call.keywords:
        if keyword.arg == "name":
            name = keyword.value
    if isinstance(name, ast.Constant) and isinstance(name.value, str):
        text = name.value
    elif isinstance(name, ast.Name) and name.id in strings:
        text = strings[name.id]
    elif (
        isinstance(name, ast.JoinedStr)
        and name.values
        and isinstance(name.values[0], ast.Constant)
        and "." in name.values[0].value
    ):
        # f"keras_intro.{task}": the module is written out, the function is not.
        module = name.values[0].value.partition(".")[0]
        return module if module.isidentifier() else _ANY
    else:
        return _ANY
    module, dot, function = text.partition(".")
    return module if dot and module.isidentifier() and function.isidentifier() else _ANY


#: The registry of the installed package.
REGISTRY = Registry()


def assignment_ids() -> tuple[str, ...]:
    """The ids of the assignments the kit grades, sorted."""
    return REGISTRY.ids()


def assignment(assignment_id: str) -> Assignment:
    """The files of one assignment's grading; ``ValueError`` for an unknown id."""
    return REGISTRY.assignment(assignment_id)


def grader_files() -> tuple[Path, ...]:
    """The grader's own code files."""
    return REGISTRY.grader_files()


def graded_functions(assignment_id: str) -> tuple[str, ...]:
    """The student functions an assignment's checks grade, in the notebook's order."""
    return REGISTRY.assignment(assignment_id).functions


def main() -> int:
    """``autograder assignments``: print what the registry knows of each assignment."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Assignments")
    for column in ("assignment", "functions", "checks", "points", "trains", "data", "tasks"):
        table.add_column(column, no_wrap=column == "assignment")
    for assignment_id in assignment_ids():
        book = assignment(assignment_id)
        table.add_row(
            assignment_id,
            str(len(book.functions)),
            str(len(book.graded)),
            f"{book.points:g}",
            str(sum(check.trains for check in book.graded)),
            ", ".join(book.datasets) or "-",
            ", ".join(path.stem for path in book.tasks) or "-",
        )
    Console().print(table)
    return 0
