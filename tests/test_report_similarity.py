"""The report's similarity detector (autograder/report/similarity.py) on a class of its own.

The fixtures (tests/fixtures/similarity/<student>.py) are the four functions of
``gradient_descent`` as ten students wrote them: eight honest ones (ada ... hana), each
their own way, and ivo, whose notebook jun copied with the variables renamed, the
comments changed and blank lines added. A fixture's top-level functions fill the
template's solution cells (the student's ``def`` line, the template's docstring, the
student's body; a helper goes into the cell of the function after it), and code after a
``# %%`` line is a cell the student added at the end. A fixture's leading imports (numpy,
for ruff and for running it) and the comments above them are not the student's cells.
"""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.report import similarity
from autograder.report.similarity import SimilarPair, own_code, similar_pairs, template_code

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).with_name("fixtures") / "similarity"
ASSIGNMENT = "gradient_descent"
TEMPLATE = ROOT / "assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
REFERENCE = ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
HONEST = ("ada", "ben", "cleo", "dan", "eve", "finn", "gus", "hana")
COPIED, COPIER = "ivo", "jun"
STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()"


def _solution_cells(notebook) -> list:
    return [
        cell
        for cell in notebook.cells
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution")
    ]


def _functions(source: str) -> tuple[dict[str, tuple[str, str, str]], str | None]:
    """A fixture's functions, as ``{name: (helpers before it, def line, body)}``, and its added cell."""
    source, _, added = source.partition("# %%\n")
    tree = ast.parse(source)
    lines = source.splitlines()
    functions, start = {}, 0
    while isinstance(tree.body[0], ast.Import):  # the fixture's own `import numpy as np`
        start = tree.body.pop(0).end_lineno  # (the template imports it): not the student's
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            first = node.lineno - 1
            helpers = "\n".join(lines[start:first]).strip()
            body = "\n".join(lines[first + 1 : node.end_lineno])
            functions[node.name] = (helpers, lines[first], body)
            start = node.end_lineno
    return functions, added.strip() or None


def notebook_of(student_code: str):
    """The released template with its solution cells filled by ``student_code``."""
    notebook = nbformat.read(TEMPLATE, as_version=4)
    functions, added = _functions(student_code)
    for cell in _solution_cells(notebook):
        name = re.match(r"def (\w+)\(", cell.source).group(1)
        helpers, def_line, body = functions[name]
        docstring = cell.source.split("\n", 1)[1].replace(STUB, "").rstrip()
        cell.source = "\n".join(part for part in (helpers, def_line, docstring, body) if part)
    if added:
        notebook.cells.append(nbformat.v4.new_code_cell(added))
    return notebook


def fixture(student: str) -> str:
    return (FIXTURES / f"{student}.py").read_text()


@pytest.fixture(scope="module")
def template() -> str:
    return template_code(TEMPLATE)


@pytest.fixture(scope="module")
def codes() -> dict[str, str]:
    """The own code of the ten fixture students' notebooks."""
    return {s: own_code(notebook_of(fixture(s)), TEMPLATE) for s in (*HONEST, COPIED, COPIER)}


def _reference_code() -> str:
    return own_code(REFERENCE, TEMPLATE)


def test_the_fixtures_are_correct_solutions():
    """Honest means correct too: each student's functions agree with the reference's."""
    reference: dict = {"np": np}
    exec("\n\n".join(c.source for c in _solution_cells(nbformat.read(REFERENCE, 4))), reference)
    rng = np.random.default_rng(3)
    X, y, w = rng.normal(size=(7, 3)), rng.normal(size=7), rng.normal(size=3)
    for student in (*HONEST, COPIED, COPIER):
        functions, _ = _functions(fixture(student))
        namespace: dict = {"np": np}
        exec(fixture(student).partition("# %%\n")[0], namespace)
        assert set(functions) == {"predict", "mse_loss", "mse_gradients", "gradient_descent"}
        for name, args in (
            ("predict", (X, w, 0.3)),
            ("mse_loss", (y, X @ w)),
            ("mse_gradients", (X, y, w, 0.3)),
            ("gradient_descent", (X, y, 0.05, 20)),
        ):
            got, want = namespace[name](*args), reference[name](*args)
            got, want = (got, want) if isinstance(want, tuple) else ((got,), (want,))
            assert len(got) == len(want), (student, name)
            for mine, theirs in zip(got, want, strict=True):
                assert np.allclose(mine, theirs), (student, name)


def _all_similarities(codes: dict[str, str], template: str) -> dict[tuple[str, str], float]:
    """Every pair's score, with nothing left out of the listing (threshold and minimum 0)."""
    pairs = similar_pairs(codes, template, threshold=0.0, min_shared_tokens=0)
    return {pair.students: pair.score for pair in pairs}


def test_threshold_sits_between_honest_pairs_and_copies(codes, template):
    """The figures beside THRESHOLD, on the fixtures' class and two students handing in the reference.

    Copies: jun's of ivo's notebook and the reference handed in twice. Every other pair is
    honest, the honest students against the reference too (ada's is close to it).
    """
    reference = _reference_code()
    scores = _all_similarities({**codes, "ref1": reference, "ref2": reference}, template)
    copies = {(COPIED, COPIER), ("ref1", "ref2")}
    students = sorted([*codes, "ref1", "ref2"])
    honest = [scores.get(p, 0.0) for p in itertools.combinations(students, 2) if p not in copies]
    copy = [scores[pair] for pair in copies]
    print(f"\nhighest honest similarity {max(honest):.3f}, lowest copy {min(copy):.3f}")
    assert max(honest) <= 0.45 < similarity.THRESHOLD < 0.9 <= min(copy)
    among_honest = _all_similarities({s: codes[s] for s in HONEST}, template)
    print(f"highest among the eight honest students alone {max(among_honest.values()):.3f}")
    assert max(among_honest.values()) <= 0.45


def test_honest_class_has_no_pair(codes, template):
    honest = {s: codes[s] for s in HONEST}
    assert all(honest.values())
    assert similar_pairs(honest, template) == []


def test_the_copy_and_only_the_copy_is_flagged(codes, template):
    pairs = similar_pairs(codes, template)
    assert [pair.students for pair in pairs] == [(COPIED, COPIER)]
    pair = pairs[0]
    assert isinstance(pair, SimilarPair)
    assert pair.score == max(pair.similarity) and min(pair.similarity) > 0.9
    assert pair.shared_tokens >= similarity.MIN_SHARED_TOKENS
    for side, student in enumerate(pair.students):
        lines = pair.lines[side]
        assert [number for number, _, _ in lines] == list(range(1, len(lines) + 1))
        assert "\n".join(text for _, text, _ in lines) == codes[student]
        marked = [text.strip() for _, text, mark in lines if mark]
        # every line of the four function bodies is marked, and nothing else: not the
        # template's def lines and docstrings, not blank lines, not comment-only lines
        given = {line.strip() for line in template.split("\n")}
        body = [
            text.strip()
            for _, text, _ in lines
            if text.strip() and not text.strip().startswith("#") and text.strip() not in given
        ]
        assert marked == body and len(marked) == 18
        assert "return lin + b" in marked if side else "return linear + b" in marked


def test_pairs_are_deterministic_and_sorted(codes, template):
    shuffled = dict(reversed(list(codes.items())))
    twins = {**codes, "zed": codes[COPIED], "amy": _reference_code(), "bo": _reference_code()}
    first, again = (
        similar_pairs(twins, template),
        similar_pairs(dict(reversed(twins.items())), template),
    )
    assert first == again
    assert [p.score for p in first] == sorted((p.score for p in first), reverse=True)
    assert all(p.students == tuple(sorted(p.students)) for p in first)
    assert similar_pairs(codes, template) == similar_pairs(shuffled, template)


def test_untouched_template_gives_no_pair(template):
    stubs = {f"s{i}": own_code(TEMPLATE, TEMPLATE) for i in range(4)}
    assert set(stubs.values()) == {""}
    assert similar_pairs(stubs, template) == []
    # nor does a template handed in with its cells' whitespace changed
    notebook = nbformat.read(TEMPLATE, as_version=4)
    for cell in notebook.cells:
        cell.source += "\n\n"
    assert own_code(notebook, TEMPLATE) == ""


def test_stub_cells_edited_but_unfinished_give_no_pair(template):
    """Stubs a student touched are their own cells, but the template's part is left out.

    Three students (too few for common code) each add a line of their own to every stub
    and finish none: what they share is the template's docstrings and stubs.
    """
    tries = (
        ("first_try = np.zeros(3)", "print(X.shape)", "assert len(y) > 0", "n = 5"),
        ("tmp = [1, 2, 3][::-1]", "w_guess = {'a': 1}", "raise ValueError('todo')", "pass"),
        ("import math", "help(np.dot)", "for k in range(2):\n    print(k)", "x = y = None"),
    )
    codes = {}
    for student, lines in enumerate(tries):
        notebook = nbformat.read(TEMPLATE, as_version=4)
        for cell, line in zip(_solution_cells(notebook), lines, strict=True):
            cell.source = line + "\n" + cell.source
        codes[f"s{student}"] = own_code(notebook, TEMPLATE)
    assert all("raise NotImplementedError()" in code for code in codes.values())
    assert similar_pairs(codes, template) == []
    assert len(similar_pairs(codes, "")) == 3  # what the template's fingerprints leave out


def test_reference_handed_in_twice_is_flagged(codes, template):
    """Two of a class of eight hand in the reference solution: the clearest copy."""
    small = {s: codes[s] for s in HONEST[:6]} | {"amy": _reference_code(), "bo": _reference_code()}
    pairs = similar_pairs(small, template)
    assert [pair.students for pair in pairs] == [("amy", "bo")]
    assert pairs[0].similarity == (1.0, 1.0)
    assert all(mark for _, text, mark in pairs[0].lines[0] if text.strip().startswith("return"))


def test_three_copiers_of_a_small_class_are_found(codes, template):
    small = {s: codes[s] for s in HONEST[:5]} | {f"c{i}": codes[COPIED] for i in range(3)}
    pairs = similar_pairs(small, template)
    assert [pair.students for pair in pairs] == [("c0", "c1"), ("c0", "c2"), ("c1", "c2")]


def test_reference_of_30_percent_of_a_class_is_common_code(codes, template):
    """12 of 40 hand in the reference: more than COMMON_SHARE of the class, not a copy."""
    rng = np.random.default_rng(0)
    big = {}
    for i in range(28):  # the honest students again, their names changed and lines reordered
        code = codes[HONEST[i % len(HONEST)]]
        cells = code.split("\n\n\n")
        big[f"honest{i:02d}"] = "\n\n\n".join(rng.permutation(cells)) + f"\nprint({i})"
    reference = _reference_code()
    big |= {f"ref{i:02d}": reference for i in range(12)}
    assert 12 > max(similarity.COMMON_MIN, similarity.COMMON_SHARE * len(big))
    flagged = {student for pair in similar_pairs(big, template) for student in pair.students}
    assert not {s for s in flagged if s.startswith("ref")}
    # the honest students' own variants are the same fixture code, so they pair up among
    # themselves (4 of 40 hand in each: copies below the common-code cut), never with ref
    assert all(len({s[:3] for s in pair.students}) == 1 for pair in similar_pairs(big, template))


def test_own_code_drops_template_cells_and_keeps_added_ones():
    notebook = notebook_of(fixture("eve"))
    code = own_code(notebook, TEMPLATE)
    assert "import numpy as np" not in code  # the given imports
    assert "predict looks right." not in code  # a visible test
    assert "X_raw = np.column_stack" not in code  # the given data cell
    assert "np.matmul(X, w) + b" in code
    assert code.endswith('print("my own try:", w_fit, b_fit, loss_curve[-1])')
    # four solution cells and the added one, one blank line between cells
    assert code.count("\n\ndef ") == 3 and code.count("\n\nw_fit, b_fit") == 1
    assert own_code(notebook, None).startswith("import numpy as np")


def test_own_code_reads_paths_and_bytes(tmp_path):
    path = tmp_path / "submitted.ipynb"
    nbformat.write(notebook_of(fixture("ada")), path)
    assert own_code(path, TEMPLATE) == own_code(str(path), TEMPLATE.read_bytes())
    assert own_code(path.read_bytes(), TEMPLATE).startswith("def predict(X, w, b):")


@pytest.mark.parametrize(
    "content", [b"{not json", REFERENCE.read_bytes()[:2000], b"[1, 2]", b'{"cells": 3}']
)
def test_unreadable_notebook_raises_value_error(tmp_path, content):
    path = tmp_path / "broken.ipynb"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="broken.ipynb cannot be read as a notebook"):
        own_code(path, TEMPLATE)
    with pytest.raises(ValueError, match="cannot be read as a notebook"):
        own_code(content, TEMPLATE)
    with pytest.raises(ValueError, match="does-not-exist.ipynb"):
        own_code(tmp_path / "does-not-exist.ipynb", TEMPLATE)


def test_html_in_code_passes_through_unchanged(codes, template):
    """Escaping is the page's job: the lines keep the student's text as it is."""
    script = "    note = \"<script>alert('hi')</script> & <b>bold</b>\"  # <!-- -->"
    html = codes[COPIED].replace("    return linear + b", f"{script}\n    return linear + b")
    pairs = similar_pairs({**codes, COPIED: html}, template)
    assert [pair.students for pair in pairs] == [(COPIED, COPIER)]
    texts = [text for _, text, _ in pairs[0].lines[0]]
    assert script in texts
    assert "\n".join(texts) == html


@pytest.mark.parametrize(
    "codes",
    [{}, {"ada": "x = 1\n"}, {"ada": "", "ben": ""}, {"ada": "   \n", "ben": "y = 2"}],
)
def test_empty_classes_give_no_pair(codes, template):
    assert similar_pairs(codes, template) == []
    assert similar_pairs(codes, "") == []
