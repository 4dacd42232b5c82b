"""A Gradescope autograder bundle for one assignment: the same checks, on Gradescope.

Gradescope unzips the bundle into ``/autograder/source``, runs ``setup.sh`` once
when it builds the image, and ``run_autograder`` for each submission, which must
leave ``/autograder/results/results.json``. The bundle holds the package source
(``kit/``): the files :mod:`autograder.registry` says its one assignment's
grading needs, no other assignment's checks; ``setup.sh`` installs it with
Debian's ``bubblewrap`` into ``/autograder/venv``, and ``run_autograder``
grades the submitted notebook with ``autograder grade``.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from autograder import registry
from autograder.results import write_atomic

PROJECT_DIR = registry.PACKAGE_DIR.parent
#: Files of the project, besides the package, that ``pip install`` needs.
PROJECT_FILES = ("pyproject.toml", "README.md")
#: Zip entries' time stamp: the same source gives the same bundle, byte for byte.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail

AUTOGRADER_ROOT="${AUTOGRADER_ROOT:-/autograder}"
VENV="${VENV:-$AUTOGRADER_ROOT/venv}"
KIT="$AUTOGRADER_ROOT/source/kit"

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# bubblewrap is the sandbox the student's notebook runs in.
apt-get install -y -qq --no-install-recommends \
    python3 python3-pip python3-venv bubblewrap ca-certificates

python_at_least_3_11() {
    "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}
PYTHON=""
for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null && python_at_least_3_11 "$candidate"; then
        PYTHON="$candidate"
        break
    fi
done
if [ -z "$PYTHON" ]; then
    echo "The system Python is older than 3.11; installing python3.11 ..."
    apt-get install -y -qq --no-install-recommends python3.11 python3.11-venv
    PYTHON=python3.11
fi

"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# The Keras backend: TensorFlow's CPU build unless BACKEND says jax or torch.
"$VENV/bin/python" -m pip install --quiet "$KIT[${BACKEND:-tensorflow}]"
"$VENV/bin/autograder" --help >/dev/null
echo "Installed the autograder for __ASSIGNMENT__ into $VENV."
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for each submission. It exits 0 and, whenever the installed
# kit's Python runs, leaves a results.json: a submission that cannot be graded scores
# 0 on every check, with the reason.
set -uo pipefail

ASSIGNMENT="__ASSIGNMENT__"
AUTOGRADER_ROOT="${AUTOGRADER_ROOT:-/autograder}"
SUBMISSION_DIR="${SUBMISSION_DIR:-$AUTOGRADER_ROOT/submission}"
RESULTS_DIR="${RESULTS_DIR:-$AUTOGRADER_ROOT/results}"
VENV="${VENV:-$AUTOGRADER_ROOT/venv}"
RESULTS="$RESULTS_DIR/results.json"

# A submission that cannot be graded: the kit writes its results (every check at 0,
# with the reason), as it writes every other result.
fail() {
    echo "$1" >&2
    mkdir -p "$RESULTS_DIR"
    "$VENV/bin/python" -m autograder unrunnable "$ASSIGNMENT" --reason "$1" --results "$RESULTS"
    exit 0
}

mkdir -p "$RESULTS_DIR" || true
rm -f "$RESULTS"

notebooks=()
if [ -d "$SUBMISSION_DIR" ]; then
    while IFS= read -r -d '' path; do
        notebooks+=("$path")
    done < <(find "$SUBMISSION_DIR" -type f -name '*.ipynb' \
        -not -path '*/.ipynb_checkpoints/*' -not -path '*/__MACOSX/*' -print0 | sort -z)
fi

if [ "${#notebooks[@]}" -eq 0 ]; then
    fail "No notebook (.ipynb file) was found in your submission. Please submit $ASSIGNMENT.ipynb."
fi
notebook="${notebooks[0]}"
if [ "${#notebooks[@]}" -gt 1 ]; then
    notebook=""
    for path in "${notebooks[@]}"; do
        if [ "$(basename "$path")" = "$ASSIGNMENT.ipynb" ]; then
            if [ -n "$notebook" ]; then
                notebook=""
                break
            fi
            notebook="$path"
        fi
    done
    if [ -z "$notebook" ]; then
        names=""
        for path in "${notebooks[@]}"; do
            names="$names ${path#"$SUBMISSION_DIR"/}"
        done
        fail "Your submission holds ${#notebooks[@]} notebooks (${names# }); please submit only $ASSIGNMENT.ipynb."
    fi
fi

echo "Grading ${notebook#"$SUBMISSION_DIR"/} as $ASSIGNMENT ..."
"$VENV/bin/autograder" grade "$notebook" --assignment "$ASSIGNMENT" --results "$RESULTS"
status=$?
if [ "$status" -ne 0 ] || [ ! -s "$RESULTS" ]; then
    fail "The grader could not grade your notebook ${notebook#"$SUBMISSION_DIR"/} (exit status $status). This is not about your score: please tell your instructor."
fi
exit 0
"""


def _kit_files(assignment: str) -> list[tuple[Path, str]]:
    """``(source path, name in the bundle)`` of each file of ``kit/``, sorted by name.

    The package files are those the registry says the assignment's grading needs.
    """
    for name in PROJECT_FILES:
        if not (PROJECT_DIR / name).is_file():
            raise FileNotFoundError(
                f"{PROJECT_DIR / name} is missing: build the bundle from the course kit's "
                "source tree (an editable install), not from an installed wheel"
            )
    files = [(PROJECT_DIR / name, f"kit/{name}") for name in PROJECT_FILES]
    book = registry.REGISTRY
    files += [
        (path, f"kit/{book.relative_name(path)}") for path in book.assignment(assignment).files()
    ]
    return sorted(files, key=lambda file: file[1])


def _add(bundle: zipfile.ZipFile, name: str, data: bytes, *, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, so that unzip honours the permission bits.
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    bundle.writestr(info, data)


def build_bundle(assignment: str, output: Path) -> Path:
    """Write the Gradescope autograder zip of ``assignment``.

    The zip holds ``setup.sh`` and ``run_autograder`` at its root (both
    executable) and ``kit/``: ``pyproject.toml``, ``README.md`` and the files of
    the ``autograder`` package that :mod:`autograder.registry` says this
    assignment's grading needs: the grader's code, this assignment's checks and
    the helpers and tasks they use, and no other assignment's checks. It is
    written through a temporary file and a rename.

    Args:
        assignment: an id from :func:`autograder.registry.assignment_ids`.
        output: the zip's path, or an existing folder to write
            ``gradescope_<assignment>.zip`` into.

    Returns:
        The path of the zip.

    Raises:
        ValueError: ``assignment`` has no checks.
        FileNotFoundError: the kit's ``pyproject.toml`` or ``README.md`` is not
            next to the package (it was installed from a wheel).

    Example:
        >>> build_bundle("backprop", Path("/tmp"))  # doctest: +SKIP
        PosixPath('/tmp/gradescope_backprop.zip')
    """
    registry.assignment(assignment)  # ValueError for an unknown id, before any file is made
    output = Path(output)
    if output.is_dir():
        output = output / f"gradescope_{assignment}.zip"
    output.parent.mkdir(parents=True, exist_ok=True)
    files = _kit_files(assignment)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        for name, script in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)):
            text = script.replace("__ASSIGNMENT__", assignment)
            _add(bundle, name, text.encode(), executable=True)
        for path, name in files:
            _add(bundle, name, path.read_bytes())
    write_atomic(output, archive.getvalue())
    return output


def main(*, assignment: str, output: str) -> int:
    """``autograder gradescope ASSIGNMENT``: write the bundle and say where it is."""
    if output.endswith(("/", os.sep)):  # a folder, even one that does not exist yet
        Path(output).mkdir(parents=True, exist_ok=True)
    path = build_bundle(assignment, Path(output))
    print(
        f"{assignment}: Gradescope autograder bundle -> {path}\n"
        "Upload it as the assignment's autograder (a base image with Python 3.11 or newer, "
        "such as Ubuntu 24.04)."
    )
    return 0
