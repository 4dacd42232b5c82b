"""The course's generated notebooks: which are stale, regenerate those, keep outputs stable.

``assignments/<id>/<id>.ipynb`` (released) and ``solutions/<id>/<id>.ipynb`` (executed by
``nbgrader generate_solution``) are made from ``source/<id>/`` by nbgrader and committed.
``make notebooks`` (``python -m autograder.generate``) regenerates only the stale ones:

* Each generated notebook carries a stamp, ``metadata.autograder.generated_from``: the
  :func:`source_digest` of what it was made from (every file of ``source/<id>/``, the
  nbgrader version and :data:`RECIPE`). :class:`StampSource`, configured in both of
  nbgrader's generation pipelines in ``nbgrader_config.py``, writes it, so plain
  ``nbgrader generate_assignment`` and ``generate_solution`` stamp too. A notebook whose
  stamp matches is fresh; nothing else is read.
* A notebook without a matching stamp is compared with what nbgrader makes of its source
  now, without executing anything (cell types, sources, nbgrader metadata: what
  ``tests/test_notebooks.py`` holds the committed notebooks to). It is stale only if they
  differ, so a notebook made before stamps existed, or from a source that was saved again
  unchanged, is left as it is.

Executed solutions are made as stable as execution allows: :class:`StableOutputs` (after
``Execute``) drops cell execution timestamps and TensorFlow's start-up and logging lines,
and regeneration runs the kernel with ``PYTHONHASHSEED`` fixed and TensorFlow's C++ logs
off (:data:`KERNEL_ENV`). What can still change between two executions (figures whose
pixels carry float noise, timings a lesson prints) is the notebook's own output.

Example:
    >>> from pathlib import Path
    >>> [(notebook.assignment, notebook.kind) for notebook in stale(Path("."))]
    []
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

#: What, besides the source and nbgrader's version, decides the generated notebooks:
#: change it whenever the generation pipelines in nbgrader_config.py, or what
#: :class:`StampSource` and :class:`StableOutputs` write, change, so every stamp is renewed.
RECIPE = "generation pipelines of nbgrader_config.py, rev 1"
#: Where the stamp lives in a generated notebook's metadata (``metadata.autograder``).
STAMP = "generated_from"
#: The two generated notebooks of an assignment: their folder and nbgrader's command.
KINDS = {"released": ("assignments", "generate_assignment"),
         "solution": ("solutions", "generate_solution")}  # fmt: skip
#: The kernel's environment for regeneration: a fixed hash seed (the order of sets and
#: dicts of strings), no TensorFlow C++ start-up logs.
KERNEL_ENV = {"PYTHONHASHSEED": "0", "TF_CPP_MIN_LOG_LEVEL": "3"}
#: Files of a source folder that are not the assignment's (editor and Python leftovers).
IGNORED = (".ipynb_checkpoints", "__pycache__")

#: Lines TensorFlow and absl write at start-up and when they log, never a lesson's output:
#: absl's ``I0000 00:00:1796245633.902821   14777 port.cc:153] ...`` and its preamble,
#: TensorFlow's Python logger (``WARNING:tensorflow:...``, which prints object addresses),
#: ``2026-12-02 21:07:12.123456: I tensorflow/...`` and the CPU-feature notice's lines.
TF_LOG_LINE = re.compile(
    r"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w./-]+:\d+\]"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|(?:WARNING|INFO|ERROR):tensorflow:"
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] "
    r"|To enable the following instructions: .*rebuild TensorFlow"
    r"|WARNING:absl:)"
)
#: A Keras progress-bar line (``1/1 ━━━━━━━━ 0s 12ms/step``): its timing changes every run.
KERAS_PROGRESS = re.compile(r"^\s*\d+/\d+ ━+.*\d+(?:s|ms|us)/step")


@dataclass(frozen=True)
class Generated:
    """One generated notebook of an assignment: ``kind`` is "released" or "solution"."""

    assignment: str
    kind: str

    def path(self, course: Path) -> Path:
        folder, _ = KINDS[self.kind]
        return Path(course) / folder / self.assignment / f"{self.assignment}.ipynb"


def source_digest(course: Path, assignment: str) -> str:
    """The stamp of notebooks made from ``source/<assignment>/`` of ``course`` now.

    Args:
        course: the course directory.
        assignment: the assignment id.

    Returns:
        A sha256 hex digest of every file of the source folder (names and bytes),
        nbgrader's version and :data:`RECIPE`.
    """
    digest = hashlib.sha256(f"{RECIPE}\0nbgrader {version('nbgrader')}\0".encode())
    folder = Path(course) / "source" / assignment
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not any(part in IGNORED for part in relative.parts):
            data = path.read_bytes()
            digest.update(f"{relative.as_posix()}\0{len(data)}\0".encode() + data)
    return digest.hexdigest()


def stamp_of(path: Path) -> str | None:
    """The stamp a generated notebook carries (``None``: none, or not a notebook)."""
    try:
        notebook = nbformat.read(path, as_version=4)
    except (OSError, ValueError):
        return None
    return notebook.metadata.get("autograder", {}).get(STAMP)


def comparable(notebook: NotebookNode) -> tuple:
    """What a regeneration must reproduce: each cell's type, source and nbgrader metadata,
    and the notebook's ``autograder`` metadata (without the stamp)."""
    kit = {k: v for k, v in notebook.metadata.get("autograder", {}).items() if k != STAMP}
    cells = [
        (cell.cell_type, cell.source, dict(cell.metadata.get("nbgrader", {})))
        for cell in notebook.cells
    ]
    return kit, cells


def course_assignments(course: Path) -> list[str]:
    """The assignment ids with a source notebook in ``course``, sorted."""
    return sorted(p.parent.name for p in Path(course).glob("source/*/*.ipynb")
                  if p.stem == p.parent.name)  # fmt: skip


def stale(course: Path, assignments: Iterable[str] | None = None) -> list[Generated]:
    """The generated notebooks of ``course`` that regeneration would change.

    Args:
        course: the course directory (holds ``source/``, ``assignments/``, ``solutions/``).
        assignments: only these (default: every assignment with a source notebook).

    Returns:
        The missing notebooks, and those whose stamp is not :func:`source_digest` and
        whose content differs from what nbgrader makes of the source now; sorted.
    """
    course = Path(course)
    ids = sorted(assignments) if assignments is not None else course_assignments(course)
    unstamped = [
        notebook
        for assignment in ids
        for notebook in (Generated(assignment, kind) for kind in KINDS)
        if stamp_of(notebook.path(course)) != source_digest(course, assignment)
    ]
    missing = [notebook for notebook in unstamped if not notebook.path(course).exists()]
    present = [notebook for notebook in unstamped if notebook not in missing]
    if not present:
        return missing
    with tempfile.TemporaryDirectory(prefix="autograder-generate-") as scratch:
        fresh = _generate_unexecuted(course, sorted({n.assignment for n in present}), Path(scratch))
        changed = [
            notebook
            for notebook in present
            if comparable(nbformat.read(notebook.path(course), as_version=4))
            != comparable(nbformat.read(notebook.path(fresh), as_version=4))
        ]
    return sorted(missing + changed, key=lambda n: (n.assignment, n.kind))


def _generate_unexecuted(course: Path, assignments: list[str], scratch: Path) -> Path:
    """nbgrader's released and solution notebooks of ``assignments``, made in a scratch
    copy of the course's sources with the course's configuration, and nothing executed."""
    from nbgrader.converters import GenerateAssignment, GenerateSolution
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader
    from traitlets.utils.importstring import import_item

    for assignment in assignments:
        shutil.copytree(course / "source" / assignment, scratch / "source" / assignment,
                        ignore=shutil.ignore_patterns(*IGNORED))  # fmt: skip
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(scratch)
    config.CourseDirectory.db_url = f"sqlite:///{scratch / 'gradebook.db'}"
    configured = config.GenerateSolution.get("preprocessors")
    pipeline = configured or GenerateSolution.class_traits()["preprocessors"].default()
    config.GenerateSolution.preprocessors = [
        step
        for step in pipeline
        if not issubclass(import_item(step) if isinstance(step, str) else step, _executes())
    ]
    traitlets_log = logging.getLogger("traitlets")
    level, path = traitlets_log.level, os.environ.get("PATH", "")
    traitlets_log.setLevel(logging.ERROR)
    # nbgrader's gradebook runs `alembic`, installed beside this interpreter.
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), path])
    try:
        for assignment in assignments:
            for converter in (GenerateAssignment, GenerateSolution):
                coursedir = CourseDirectory(config=config)
                coursedir.assignment_id = assignment
                step = converter(coursedir=coursedir, config=config)
                step.force = True
                step.start()
    finally:
        traitlets_log.setLevel(level)
        os.environ["PATH"] = path
    return scratch


def _executes() -> type:
    from nbconvert.preprocessors import ExecutePreprocessor

    return ExecutePreprocessor


def regenerate(
    course: Path, notebooks: Iterable[Generated], *, log=print
) -> list[Generated]:  # fmt: skip
    """Regenerate ``notebooks`` with nbgrader's commands (a solution is executed).

    Args:
        course: the course directory.
        notebooks: what to regenerate.
        log: called with a line per notebook.

    Returns:
        The notebooks regenerated.

    Raises:
        subprocess.CalledProcessError: when nbgrader fails (its output is printed).
    """
    nbgrader = Path(sys.executable).with_name("nbgrader")
    env = {**os.environ, **KERNEL_ENV}
    env["PATH"] = os.pathsep.join([str(nbgrader.parent), env.get("PATH", "")])
    done = []
    for notebook in notebooks:
        _, command = KINDS[notebook.kind]
        log(f"regenerating {notebook.path(Path('.'))} ...")
        subprocess.run(
            [str(nbgrader), command, notebook.assignment, "--force", "--log-level=WARN"],
            cwd=course, env=env, check=True,
        )  # fmt: skip
        done.append(notebook)
    return done


# -- nbgrader's preprocessors -------------------------------------------------------
class StampSource(NbGraderPreprocessor):
    """Write :func:`source_digest` into the generated notebook's ``metadata.autograder``.

    Configure it last in ``c.GenerateAssignment.preprocessors`` and
    ``c.GenerateSolution.preprocessors``.
    """

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        from autograder.nbgrader_grading import _course_directory

        root = Path(_course_directory(self).root)
        assignment = resources["nbgrader"]["assignment"]
        nb.metadata.setdefault("autograder", {})[STAMP] = source_digest(root, assignment)
        return nb, resources


class StableOutputs(NbGraderPreprocessor):
    """Drop what changes between two executions of the same notebook and teaches nothing.

    Configure it after ``Execute`` in ``c.GenerateSolution.preprocessors``: it removes
    each cell's ``metadata.execution`` (nbclient's ``iopub.*`` and ``shell.*``
    timestamps), joins consecutive outputs of one stream (the kernel cuts a stream into
    messages as timing decides), drops TensorFlow's log lines (:data:`TF_LOG_LINE`) and
    Keras's progress-bar lines (:data:`KERAS_PROGRESS`) from streams, and the streams
    left empty.
    """

    def preprocess_cell(self, cell, resources: dict, index: int):
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            return cell, resources
        outputs = []
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                previous = outputs[-1] if outputs else None
                if previous and previous.output_type == "stream" and previous.name == output.name:
                    previous.text += output.text  # one stream, however the kernel cut it
                    continue
            outputs.append(output)
        for output in outputs:
            if output.output_type == "stream":
                output.text = stable_text(output.text)
        cell.outputs = [o for o in outputs if o.output_type != "stream" or o.text]
        return cell, resources


def stable_text(text: str) -> str:
    """``text`` of a stream without TensorFlow's log lines and Keras's progress bars.

    Example:
        >>> stable_text("I0000 00:00:1796245633.902821   14777 port.cc:153] oneDNN on\\nok\\n")
        'ok\\n'
    """
    lines = text.splitlines(keepends=True)
    kept = [line for line in lines if not (TF_LOG_LINE.match(line) or KERAS_PROGRESS.match(line))]
    return "".join(kept)


def main(argv: list[str] | None = None) -> int:
    """``python -m autograder.generate [--force] [--dry-run] [ID ...]`` (``make notebooks``)."""
    parser = argparse.ArgumentParser(prog="python -m autograder.generate", description=__doc__)
    parser.add_argument("assignments", nargs="*", help="only these (default: all)")
    parser.add_argument("--course", default=".", help="the course directory (default: .)")
    parser.add_argument("--force", action="store_true", help="regenerate every notebook")
    parser.add_argument("--dry-run", action="store_true", help="only say what is stale")
    args = parser.parse_args(argv)
    course = Path(args.course).resolve()
    ids = args.assignments or course_assignments(course)
    todo = [Generated(a, kind) for a in ids for kind in KINDS] if args.force else stale(course, ids)
    if not todo:
        print(f"The generated notebooks of {len(ids)} assignment(s) are up to date.")
        return 0
    if args.dry_run:
        for notebook in todo:
            print(f"stale: {notebook.path(Path('.'))}")
        return 0
    regenerate(course, todo)
    return 0


if __name__ == "__main__":
    sys.exit(main())
