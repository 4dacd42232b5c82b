"""Pairs of students whose own code is suspiciously alike, for the instructor's report.

The detector is copydetect's winnowing (a MOSS-like fingerprinting of tokenized code,
with variable, function and class names replaced by one letter and strings by ``S``,
comments and whitespace left out), run on each student's *own* code
(:func:`own_code`: the notebook's code cells less the released template's). Two kinds of
fingerprints are left out, as boilerplate:

- the released template's (imports, stubs, docstrings, visible tests), and
- common code, as MOSS's ``-m``: a fingerprint found in more than
  ``max(COMMON_MIN, COMMON_SHARE * n)`` of ``n`` submissions is the task's idiom, not a
  copy.

Only pairs that share a fingerprint that remains are compared (an inverted index, not
all pairs), and a pair is listed when more than :data:`THRESHOLD` of one student's
remaining code is the other's too, with at least :data:`MIN_SHARED_TOKENS` shared.

Example:
    >>> template = "def f(x):\\n    raise NotImplementedError()\\n"
    >>> mine = "def f(x):\\n    total = 0\\n    for value in x:\\n        total = total + value * value\\n    return total\\n"
    >>> theirs = mine.replace("total", "acc").replace("value", "v")
    >>> other = "def f(x):\\n    return sum(item ** 2 for item in x)\\n"
    >>> pairs = similar_pairs({"ada": mine, "ben": theirs, "cleo": other}, template,
    ...                       min_shared_tokens=0)  # a short example
    >>> [pair.students for pair in pairs]
    [('ada', 'ben')]
    >>> pairs[0].score
    1.0
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations
from os import PathLike
from typing import Any

import numpy as np

#: The noise threshold k: the length of the k-grams fingerprinted, in characters of the
#: *filtered* code (names are one letter, whitespace and comments are gone, so 25
#: characters are a statement or two, e.g. ``V=V.V(V.V[1])V=0.0V=V.V(V)``). Shorter
#: k-grams match between any two numpy programs; longer ones miss a copy whose
#: statements were reordered. copydetect's default, kept: the fixtures' honest pairs stay
#: far below :data:`THRESHOLD` with it and copies are still found whole.
NOISE_THRESHOLD = 25
#: The guarantee threshold: a match at least this long is always found. Equal to the
#: noise threshold, i.e. a winnowing window of 1, every k-gram kept: copydetect hashes
#: k-grams with Python's ``hash()``, which is salted per process, so a wider window
#: would keep different k-grams in different runs and the similarities would change from
#: one report to the next. With every k-gram kept the result does not depend on the
#: salt (deterministic), and the template is left out completely (a window drops
#: template k-grams that a student's code would then keep). Submissions are small: a
#: class of 500 still takes seconds (``benchmarks/similarity.py``).
GUARANTEE_THRESHOLD = NOISE_THRESHOLD
#: The winnowing window copydetect takes, from the two thresholds.
WINDOW = GUARANTEE_THRESHOLD - NOISE_THRESHOLD + 1
#: A pair is listed when more than this share of one student's own code (template and
#: common code left out) is also the other's. Measured on the fixtures
#: (tests/fixtures/similarity: gradient_descent, ten students and the reference handed in
#: twice; test_threshold_sits_between_honest_pairs_and_copies): honest pairs reach at
#: most 0.39 (an honest student against the reference: the natural way to write it is
#: close to it), 0.38 among the eight honest students alone; copies (variables renamed,
#: comments changed, blank lines added; the reference handed in twice) score 1.00. 0.6
#: leaves 0.2 of margin above honest work and still catches a copy with two fifths of it
#: rewritten.
THRESHOLD = 0.6
#: Common code, as MOSS's ``-m``: a fingerprint in more than
#: ``max(COMMON_MIN, COMMON_SHARE * n)`` of ``n`` submissions is the task's idiom (the
#: one natural way to write a line, or the reference solution that a sizeable part of a
#: class hands in), not a copy, and is left out. COMMON_MIN keeps a small ring of copiers
#: (up to 4 students sharing code) findable in a small class, where a share alone would
#: be under one student.
COMMON_MIN = 4
#: See :data:`COMMON_MIN`. A tenth of the class: the same code in more than one in ten
#: submissions is what the class writes (in the sample class, the reference is handed in
#: by 2/7 of the students and most of it by 4/7; its cheating cell by 1/7). MOSS's
#: default ``-m`` is 10 submissions; a share scales that with the class.
COMMON_SHARE = 0.1
#: At least this many shared tokens (characters of filtered code) for a pair to be
#: listed: about three statements. When the template and common code leave little of a
#: student's own code, a high share of a few tokens is chance, not copying.
MIN_SHARED_TOKENS = 60

_STUDENT_SUFFIX = ".py"  # copydetect picks its tokenizer (pygments' Python lexer) by the name


@dataclass(frozen=True)
class SimilarPair:
    """Two students whose own code is alike.

    Attributes:
        students: the two student ids, sorted.
        similarity: for each student (in the order of ``students``), the share (0..1) of
            their own code, after the template and common code are left out, that the
            other one has too.
        shared_tokens: how many tokens (characters of the filtered code) of the first
            student's code are in k-grams the second one has too.
        lines: each student's own code, as ``(line number from 1, line text, shared with
            the other?)``; the text is as the student wrote it (not escaped).
    """

    students: tuple[str, str]
    similarity: tuple[float, float]
    shared_tokens: int
    lines: tuple[list[tuple[int, str, bool]], list[tuple[int, str, bool]]]

    @property
    def score(self) -> float:
        """The larger of the two similarities: how much of one student's code is the other's."""
        return max(self.similarity)


def _read_notebook(notebook: Any, what: str):
    """An nbformat notebook from a notebook, a path or the file's bytes (ValueError if none)."""
    import nbformat

    if hasattr(notebook, "cells"):
        return notebook
    try:
        if isinstance(notebook, bytes | bytearray):
            read = nbformat.reads(bytes(notebook).decode("utf-8"), as_version=4)
        elif isinstance(notebook, str | PathLike):
            read = nbformat.read(notebook, as_version=4)
        else:
            raise TypeError(f"expected a path or a notebook, got {type(notebook).__name__}")
        cells = read.cells
        if not isinstance(cells, list):
            raise TypeError("its cells are not a list")
        if not all("cell_type" in cell and "source" in cell for cell in cells):
            raise TypeError("a cell has no cell_type or no source")
    except Exception as error:  # nbformat raises many kinds, all meaning "not a notebook"
        name = notebook if isinstance(notebook, str | PathLike) else what
        raise ValueError(f"{name} cannot be read as a notebook: {error}") from error
    return read


def _code_cells(notebook) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def template_code(template: Any) -> str:
    """The released template's code, joined as :func:`own_code` joins a student's.

    This is what :func:`similar_pairs` takes as ``template``: its fingerprints are left
    out of every student's code.

    Args:
        template: the released notebook, a path or an ``nbformat`` notebook.

    Returns:
        Its code cells joined, one blank line between cells.

    Raises:
        ValueError: when the template cannot be read as a notebook.

    Example:
        >>> import nbformat
        >>> book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import numpy as np"),
        ...     nbformat.v4.new_markdown_cell("# Task"), nbformat.v4.new_code_cell("x = 1")])
        >>> template_code(book)
        'import numpy as np\\n\\nx = 1'
    """
    return "\n\n".join(_code_cells(_read_notebook(template, "the template")))


def own_code(submission: Any, template: Any) -> str:
    """The student's own code of a submitted notebook.

    Its code cells joined (one blank line between cells), minus every cell whose source
    equals a code cell of the released template (given imports, visible tests, stubs left
    as they were), compared without leading and trailing whitespace. Blank cells are left
    out too. A cell the student changed or added is kept whole.

    Args:
        submission: the handed-in notebook: a path, an ``nbformat`` notebook or the file's
            bytes.
        template: the released notebook, the same way; ``None`` leaves nothing out.

    Returns:
        The student's own code, ``""`` when there is none.

    Raises:
        ValueError: when a notebook cannot be read (invalid JSON, not a notebook); the
            message names it. The caller skips that submission.

    Example:
        >>> import nbformat
        >>> cell = nbformat.v4.new_code_cell
        >>> released = nbformat.v4.new_notebook(cells=[cell("import numpy as np"),
        ...     cell("def f(x):\\n    raise NotImplementedError()")])
        >>> handed_in = nbformat.v4.new_notebook(cells=[cell("import numpy as np"),
        ...     cell("def f(x):\\n    return 2 * x"), cell("print(f(1))")])
        >>> print(own_code(handed_in, released))
        def f(x):
            return 2 * x
        <BLANKLINE>
        print(f(1))
    """
    notebook = _read_notebook(submission, "the submission")
    given = (
        set()
        if template is None
        else {source.strip() for source in _code_cells(_read_notebook(template, "the template"))}
    )
    return "\n\n".join(
        source.rstrip()
        for source in _code_cells(notebook)
        if source.strip() and source.strip() not in given
    )


def _hashes(hashes) -> np.ndarray:
    """Fingerprints as copydetect's boilerplate: sorted, unique, 64-bit like ``hash()``'s."""
    return np.array(sorted(hashes), dtype=np.int64)


def _fingerprint(name: str, code: str, boilerplate: np.ndarray):
    from copydetect import CodeFingerprint

    return CodeFingerprint(
        file=name + _STUDENT_SUFFIX,
        k=NOISE_THRESHOLD,
        win_size=WINDOW,
        boilerplate=boilerplate,
        fp=io.StringIO(code),
    )


def _counted(code: str) -> np.ndarray:
    """Which characters of ``code`` the fingerprints see: not whitespace, not comments."""
    from pygments import token
    from pygments.lexers import PythonLexer

    counted = np.zeros(len(code), dtype=bool)
    lexer = PythonLexer(stripnl=False, ensurenl=False)  # offsets exactly as in ``code``
    for index, kind, text in lexer.get_tokens_unprocessed(code):
        if kind not in token.Comment and kind not in token.Text:  # as copydetect's filter
            counted[index : index + len(text)] = True
    return counted


def _lines(code: str, slices: np.ndarray, given: frozenset[str]) -> list[tuple[int, str, bool]]:
    """``code``'s lines, each marked shared when a character of its code is in a copied slice.

    Whitespace and comments are not code (the fingerprints do not see them, so a slice
    that runs over them proves nothing about them), and a line the template has too
    (``given``: a docstring's, a ``def`` line's) is everyone's: neither is marked.
    """
    texts = code.split("\n")
    copied = np.zeros(len(code), dtype=bool)
    if slices.size:
        # copydetect's lexer drops leading newlines before it counts offsets: put them back
        lead = len(code) - len(code.lstrip("\n"))
        for begin, end in zip(slices[0].tolist(), slices[1].tolist(), strict=True):
            copied[int(begin) + lead : int(end) + lead] = True
    copied &= _counted(code)
    lines, start = [], 0
    for number, text in enumerate(texts, 1):
        shared = bool(copied[start : start + len(text)].any()) and text.strip() not in given
        lines.append((number, text, shared))
        start += len(text) + 1
    return lines


def similar_pairs(
    codes: Mapping[str, str],
    template: str,
    *,
    threshold: float = THRESHOLD,
    min_shared_tokens: int = MIN_SHARED_TOKENS,
    common_min: int = COMMON_MIN,
    common_share: float = COMMON_SHARE,
) -> list[SimilarPair]:
    """Pairs of students whose own code is alike beyond ``threshold``, most alike first.

    Each student's code is fingerprinted with copydetect with the template's fingerprints
    left out; then the fingerprints in more than ``max(common_min, common_share * n)`` of
    the ``n`` students' code (common code) are left out too. Only pairs that share a
    fingerprint that remains are compared, and only the listed pairs get their ``lines``.

    Args:
        codes: each student's own code (:func:`own_code`), by student id. Blank code is
            left out (there is nothing to compare).
        template: the released template's code (:func:`template_code`).
        threshold: a pair is listed when its :attr:`SimilarPair.score` is above it.
        min_shared_tokens: and when it shares at least this many tokens.
        common_min: see :data:`COMMON_MIN`.
        common_share: see :data:`COMMON_SHARE`.

    Returns:
        The listed pairs, highest score first (then by student ids): the same input
        gives the same list. ``[]`` for fewer than two students with code.

    Example:
        >>> code = "def norm(v):\\n    squares = [x * x for x in v]\\n    return sum(squares) ** 0.5\\n"
        >>> pairs = similar_pairs({"ada": code, "ben": code.replace("squares", "sq")}, "",
        ...                       min_shared_tokens=0)  # a short example
        >>> pairs[0].students, pairs[0].similarity
        (('ada', 'ben'), (1.0, 1.0))
        >>> [shared for _, _, shared in pairs[0].lines[1]]
        [True, True, True, False]
        >>> similar_pairs({"ada": code}, "")
        []
    """
    students = sorted(student for student, code in codes.items() if code and code.strip())
    if len(students) < 2:
        return []
    given = _hashes(_fingerprint("template", template or "", _hashes(())).hashes)
    prints = {student: _fingerprint(student, codes[student], given) for student in students}
    frequency = Counter(h for student in students for h in prints[student].hashes)
    limit = max(common_min, common_share * len(students))
    common = {h for h, count in frequency.items() if count > limit}

    # The inverted index, over the fingerprints that remain: with every k-gram kept
    # (WINDOW 1) they are exactly those of fingerprinting again with the common ones as
    # boilerplate too.
    holders: defaultdict[int, list[str]] = defaultdict(list)
    for student in students:  # students in order, so each list is sorted
        for h in prints[student].hashes - common:
            holders[h].append(student)
    candidates = sorted({pair for group in holders.values() for pair in combinations(group, 2)})

    if common:  # only a student who is compared is fingerprinted again, common code left out
        left_out = np.union1d(given, _hashes(common))
        for student in sorted({student for pair in candidates for student in pair}):
            if not prints[student].hashes.isdisjoint(common):
                prints[student] = _fingerprint(student, codes[student], left_out)

    from copydetect import compare_files

    given_lines = frozenset(line.strip() for line in (template or "").split("\n"))
    pairs = []
    for first, second in candidates:
        overlap, similarity, slices = compare_files(prints[first], prints[second])
        similarity = (float(similarity[0]), float(similarity[1]))
        if max(similarity) <= threshold or overlap < min_shared_tokens:
            continue
        pairs.append(
            SimilarPair(
                students=(first, second),
                similarity=similarity,
                shared_tokens=int(overlap),
                lines=(
                    _lines(prints[first].raw_code, slices[0], given_lines),
                    _lines(prints[second].raw_code, slices[1], given_lines),
                ),
            )
        )
    pairs.sort(key=lambda pair: (-pair.score, pair.students))
    return pairs
