"""Feedback pages: one self-contained HTML page per student and assignment.

A page shows what the student's ``results.json`` holds and nothing else: the
total, what the grader flagged (``extra_data.flags``, if anything), the grader's
notes, and each check with its points and message. The
checks' source and their expected values are never in ``results.json``, so they
can never reach a page. Pages go where nbgrader keeps feedback
(``feedback/<student>/<assignment>/<assignment>.html``), so ``nbgrader
release_feedback`` can hand them out.
"""

from __future__ import annotations

import html
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograder.registry import function_of, graded_functions
from autograder.results import CheckResult, Results, write_atomic

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       background: #f6f7f9; color: #1d2330; line-height: 1.45; }
main { max-width: 70rem; margin: 2rem auto; padding: 0 1.25rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.1rem; margin: 0 0 .5rem; }
.who { margin: 0 0 1rem; color: #4a5468; }
.total { font-size: 1.25rem; margin: 0 0 1.25rem; }
.total strong { font-size: 1.6rem; }
.notes { background: #fff8e1; border: 1px solid #f0c36d; border-radius: 6px;
         padding: .75rem 1rem; margin: 0 0 1.25rem; }
.notes pre, .message { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0;
                       font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
                       font-size: .875rem; }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid #d8dce3; }
th, td { text-align: left; vertical-align: top; padding: .55rem .75rem;
         border-bottom: 1px solid #e4e7ec; }
th { background: #eef0f4; font-size: .85rem; text-transform: uppercase; letter-spacing: .03em; }
.check { font-weight: 600; display: block; }
.raw { color: #6b7386; font-size: .8rem; }
.points { white-space: nowrap; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: .1rem .55rem; border-radius: 999px;
         font-size: .8rem; font-weight: 600; }
.passed { background: #dff3e4; color: #17652d; }
.failed { background: #fbe3e3; color: #9b1c1c; }
.flags { background: #fdecea; border: 2px solid #c62828; border-radius: 6px;
         padding: .75rem 1rem; margin: 0 0 1.25rem; }
.flags h2 { color: #9b1c1c; }
.flags ul { margin: .25rem 0 0; padding-left: 1.25rem; }
.flags li { margin: .2rem 0; overflow-wrap: anywhere; }
.flags .detail { white-space: pre-wrap; font-family: ui-monospace, SFMono-Regular, Menlo,
                 Consolas, monospace; font-size: .875rem; }
footer { margin: 1rem 0 2rem; color: #6b7386; font-size: .85rem; }
"""


#: What each kind of flag means, in words for the page.
FLAG_KINDS = {
    "channel": "a message from the notebook's process broke the grader's protocol",
    "forged_event": "the notebook's process sent a cell event the grader did not expect",
    "sysctl": "a cell tried to change a setting of the grading machine (/proc/sys)",
    "limit": "the notebook reached one of the grader's resource limits",
    "patched": "a cell patched a module of the grader or numpy",
    "forged_report": "the notebook's process misreported what became of a call's arguments",
}


def flags_of(results: Any) -> list[dict[str, str]]:
    """What the grader flagged in a results document, as ``{"kind", "detail"}`` strings.

    ``extra_data.flags`` is a list of ``{"kind": str, "detail": str}``; a document
    without it has no flags. Anything else found there is still reported (as
    kind ``"unknown"``), never dropped.

    Example:
        >>> flags_of({"extra_data": {"flags": [{"kind": "limit", "detail": "memory"}]}})
        [{'kind': 'limit', 'detail': 'memory'}]
        >>> flags_of({"tests": []})
        []
    """
    if isinstance(results, Results):
        extra = results.extra
    else:
        extra = results.get("extra_data") if isinstance(results, dict) else None
    raw = extra.get("flags") if isinstance(extra, dict) else None
    if raw is None or raw == []:
        return []
    if not isinstance(raw, list):
        raw = [raw]
    flags = []
    for flag in raw:
        if isinstance(flag, dict):
            kind, detail = flag.get("kind"), flag.get("detail", "")
        else:
            kind, detail = None, flag
        flags.append(
            {
                "kind": kind if isinstance(kind, str) and kind else "unknown",
                "detail": detail if isinstance(detail, str) else json.dumps(detail, default=str),
            }
        )
    return flags


def _flags_notice(flags: list[dict[str, str]]) -> str:
    items = []
    for flag in flags:
        meaning = FLAG_KINDS.get(flag["kind"])
        head = f"<strong>{_text(flag['kind'])}</strong>" + (
            f": {_text(meaning)}" if meaning else ""
        )
        detail = (
            f'<br><span class="detail">{_text(flag["detail"])}</span>' if flag["detail"] else ""
        )
        items.append(f"<li>{head}{detail}</li>")
    return (
        '<section class="flags"><h2>Flagged for review</h2>'
        f"<p>While grading this notebook the grader saw {len(flags)} thing"
        f"{'s' if len(flags) != 1 else ''} that your instructor will look at:</p>"
        f"<ul>{''.join(items)}</ul></section>"
    )


def _text(value: Any) -> str:
    """``value`` as escaped HTML text."""
    return html.escape(value if isinstance(value, str) else str(value), quote=True)


def _number(value: Any) -> str:
    """A score as a student reads it: ``2`` not ``2.0``, ``1.5`` as is."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:g}"
    return str(value)


def _functions_of(assignment: str) -> tuple[str, ...]:
    """The functions an assignment grades, or none for an assignment without checks."""
    try:
        return graded_functions(assignment)
    except ValueError:
        return ()


def readable_name(name: str, functions: Sequence[str] = ()) -> str:
    """A check's name as a heading: ``softmax — rows sum to one``.

    Args:
        name: the check's name, ``test_<function>_<property>``.
        functions: the functions the assignment grades (its checks' ``FUNCTIONS``).

    Returns:
        ``"<function> — <property in words>"``, or the name with spaces for
        underscores where it names none of ``functions``.

    Example:
        >>> readable_name("test_softmax_rows_sum_to_one", ["softmax"])
        'softmax — rows sum to one'
        >>> readable_name("test_sigmoid_derivative_values", ["sigmoid", "sigmoid_derivative"])
        'sigmoid_derivative — values'
    """
    function = function_of(name, list(functions))
    if function is None:
        return name.removeprefix("test_").replace("_", " ").strip()
    return f"{function} — {name[len(f'test_{function}_') :].replace('_', ' ')}"


def _check_row(check: CheckResult, functions: Sequence[str]) -> str:
    name, score, max_score = check.name, check.score, check.max_score
    status = "passed" if check.passed else "failed"
    return (
        "<tr>"
        f'<td><span class="check">{_text(readable_name(name, functions))}</span>'
        f'<code class="raw">{_text(name)}</code></td>'
        f'<td><span class="badge {status}">{status}</span></td>'
        f'<td class="points">{_text(_number(score))} / {_text(_number(max_score))}</td>'
        f'<td><div class="message">{_text(check.output)}</div></td>'
        "</tr>"
    )


def feedback_page(results: Results | dict[str, Any], *, student: str, assignment: str) -> str:
    """A self-contained HTML feedback page for one student's graded assignment.

    Everything shown comes from ``results`` and is HTML-escaped (messages quote
    what the student's code returned). A submission with flags
    (:func:`flags_of`) gets a notice of each above the notes; one without, none.
    The page has inline CSS, no scripts and no external resources.

    Args:
        results: the results, or a ``results.json`` document as ``autograder grade`` writes it.
        student: the student's id, shown in the title.
        assignment: the assignment's id, shown in the title.

    Returns:
        The page as a string.

    Raises:
        ValueError: ``results`` is not a results document (no list of ``tests``).

    Example:
        >>> page = feedback_page(
        ...     {"score": 2, "max_score": 2, "tests": [{"name": "test_relu_values",
        ...      "score": 2, "max_score": 2, "status": "passed", "output": "Passed."}]},
        ...     student="ada", assignment="activations")
        >>> "relu — values" in page and "2 / 2" in page
        True
    """
    results = Results.of(results)
    tests = results.checks
    functions = _functions_of(assignment)
    score, max_score = results.score, results.max_score
    passed = sum(1 for check in tests if check.passed)

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_text(assignment)} — {_text(student)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{_text(assignment)}</h1>",
        f'<p class="who">Feedback for <strong>{_text(student)}</strong></p>',
        f'<p class="total"><strong>{_text(_number(score))} / {_text(_number(max_score))}</strong>'
        f" points, {passed} of {len(tests)} checks passed</p>",
    ]
    flags = flags_of(results)
    if flags:
        parts.append(_flags_notice(flags))
    if results.notes:
        parts.append(
            '<section class="notes"><h2>Notes from the grader</h2>'
            f"<pre>{_text(chr(10).join(results.notes))}</pre></section>"
        )
    parts += [
        "<table>",
        "<thead><tr><th>Check</th><th>Result</th><th>Points</th><th>Message</th></tr></thead>",
        "<tbody>",
        *(_check_row(test, functions) for test in tests),
        "</tbody>",
        "</table>",
    ]
    footer = []
    if results.execution_time:
        footer.append(f"graded in {_text(_number(results.execution_time))} s")
    extra = results.extra
    if "sandbox" in extra:
        footer.append(f"sandbox: {_text(extra['sandbox'])}")
    if "seed" in extra:
        footer.append(f"seed {_text(extra['seed'])}")
    if footer:
        parts.append(f"<footer>{' · '.join(footer)}</footer>")
    parts += ["</main>", "</body>", "</html>", ""]
    return "\n".join(parts)


def write_feedback(
    course: Path, *, assignment: str | None = None, student: str | None = None
) -> list[Path]:
    """Write a feedback page for each graded submission of the course.

    Reads ``autograded/<student>/<assignment>/results.json`` and writes
    ``feedback/<student>/<assignment>/<assignment>.html`` (nbgrader's layout),
    each through a temporary file and a rename. A results file that cannot be
    read is reported on stderr and skipped; the others are still written.

    Args:
        course: the course directory (the one holding ``autograded/``).
        assignment: only this assignment; all when ``None``.
        student: only this student; all when ``None``.

    Returns:
        The pages written, sorted by student then assignment.

    Example:
        >>> write_feedback(Path("."), assignment="backprop")  # doctest: +SKIP
        [PosixPath('feedback/ada/backprop/backprop.html'), ...]
    """
    course = Path(course)
    written: list[Path] = []
    for results_path in sorted((course / "autograded").glob("*/*/results.json")):
        assignment_dir = results_path.parent
        student_id, assignment_id = assignment_dir.parent.name, assignment_dir.name
        if student_id.startswith(".") or assignment_id.startswith("."):
            continue
        if (student is not None and student_id != student) or (
            assignment is not None and assignment_id != assignment
        ):
            continue
        try:
            results = Results.from_gradescope(json.loads(results_path.read_text(encoding="utf-8")))
            page = feedback_page(results, student=student_id, assignment=assignment_id)
        except (OSError, ValueError) as error:
            print(f"feedback: skipped {results_path}: {error}", file=sys.stderr)
            continue
        target = course / "feedback" / student_id / assignment_id / f"{assignment_id}.html"
        try:
            write_atomic(target, page)
        except OSError as error:
            print(f"feedback: could not write {target}: {error}", file=sys.stderr)
            continue
        written.append(target)
    return written


def main(*, course: str, assignment: str | None, student: str | None) -> int:
    """``autograder feedback``: write the feedback pages and say how many and where."""
    written = write_feedback(Path(course), assignment=assignment, student=student)
    where = Path(course) / "feedback"
    print(f"wrote {len(written)} feedback page{'s' if len(written) != 1 else ''} under {where}")
    return 0
