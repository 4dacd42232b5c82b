"""Feedback pages: everything in results.json, escaped, and nothing else."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from autograder import feedback
from autograder.feedback import feedback_page, readable_name, write_feedback
from autograder.registry import graded_functions

#: The checks' scores that make up each total the tests use (the total is their sum).
_SCORES = {3.0: (2.0, 0.0, 1.0), 5.0: (2.0, 1.5, 1.5), 1.0: (1.0, 0.0, 0.0)}


def _results(score: float = 3.0) -> dict:
    document = {
        "score": score,
        "max_score": 5.0,
        "execution_time": 1.234,
        "output": "Cell 4 raised NameError: name 'np' is not defined.",
        "tests": [
            {
                "name": "test_softmax_rows_sum_to_one",
                "score": 2.0,
                "max_score": 2.0,
                "status": "passed",
                "output": "Passed.",
                "visibility": "visible",
            },
            {
                "name": "test_softmax_does_not_modify_input",
                "score": 0.0,
                "max_score": 1.5,
                "status": "failed",
                "output": "`softmax(z)` changed its argument z in place. Hint: copy it first.",
                "visibility": "visible",
            },
            {
                "name": "test_layer_gradient_norms_matches_reference",
                "score": 1.0,
                "max_score": 1.5,
                "status": "failed",
                "output": "returned <script>alert('owned')</script> & more",
                "visibility": "visible",
            },
        ],
        "extra_data": {"assignment": "activations", "seed": 1234, "sandbox": "bubblewrap"},
    }
    for test, points in zip(document["tests"], _SCORES[float(score)], strict=True):
        test["score"] = points
        test["status"] = "passed" if points >= test["max_score"] else "failed"
    return document


class _Text(HTMLParser):
    """The page's visible text, one chunk per text node, outside <style>."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self.tags: set[str] = set()
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if not self._in_style and data.strip():
            self.chunks.append(data.strip())


def _text_of(page: str) -> _Text:
    parser = _Text()
    parser.feed(page)
    parser.close()
    return parser


def test_page_shows_every_check_with_points_and_message():
    page = feedback_page(_results(), student="ada", assignment="activations")
    text = " ".join(_text_of(page).chunks)
    assert "activations" in text and "ada" in text
    assert "3 / 5" in text
    assert "softmax — rows sum to one" in text
    assert "softmax — does not modify input" in text
    assert "layer_gradient_norms — matches reference" in text
    for name in ("test_softmax_rows_sum_to_one", "test_layer_gradient_norms_matches_reference"):
        assert name in text
    for points in ("2 / 2", "0 / 1.5", "1 / 1.5"):
        assert points in text
    assert "Passed." in text
    assert "`softmax(z)` changed its argument z in place. Hint: copy it first." in text
    assert "Cell 4 raised NameError: name 'np' is not defined." in text
    assert text.count("passed") >= 1 and text.count("failed") >= 2


def test_page_escapes_what_the_results_hold():
    results = _results()
    results["output"] = "<b>bold</b> notes"
    page = feedback_page(results, student="<i>eve</i>", assignment="a&b")
    assert "<script>" not in page and "</script>" not in page
    assert "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt; &amp; more" in page
    assert "<b>" not in page and "<i>" not in page
    assert "&lt;i&gt;eve&lt;/i&gt;" in page and "a&amp;b" in page
    assert _text_of(page).tags <= {
        *"html head meta title style body main h1 h2 p strong section pre".split(),
        *"table thead tbody tr th td span code div footer".split(),
    }


def test_page_holds_nothing_but_the_results():
    results = _results()
    page = feedback_page(results, student="ada", assignment="activations")
    assert "def test_" not in page
    assert "import" not in page
    assert "assert" not in page
    assert "<script" not in page and "src=" not in page and "href=" not in page
    assert "url(" not in page
    from_results = {"ada", "activations", "seed 1234", "sandbox: bubblewrap"}
    for test in results["tests"]:
        from_results |= {test["name"], test["output"], test["status"]}
        from_results.add(readable_name(test["name"], graded_functions("activations")))
    from_results.add(results["output"])
    labels = {"Feedback for", "Notes from the grader", "Check", "Result", "Points", "Message"}
    for chunk in _text_of(page).chunks:
        if chunk in from_results or chunk in labels:
            continue
        # What remains is numbers from the results with their units.
        words = re.sub(r"[\d.]+", "", chunk).replace("·", " ").replace("/", " ").split()
        assert set(words) <= {
            "points,",
            "of",
            "checks",
            "passed",
            "graded",
            "in",
            "s",
            "sandbox:",
            "bubblewrap",
            "seed",
            "—",
            "activations",
            "ada",
        }, chunk


def test_page_without_notes_has_no_notes_box():
    results = _results(score=5)
    del results["output"]
    page = feedback_page(results, student="ada", assignment="activations")
    assert "Notes from the grader" not in page
    assert "5 / 5" in page


def test_page_rejects_what_is_not_a_results_document():
    with pytest.raises(ValueError):
        feedback_page({"score": 1}, student="ada", assignment="x")
    with pytest.raises(ValueError):
        feedback_page({"tests": ["not a test"]}, student="ada", assignment="x")


@pytest.mark.parametrize(
    ("name", "assignment", "expected"),
    [
        ("test_softmax_rows_sum_to_one", "activations", "softmax — rows sum to one"),
        ("test_sigmoid_derivative_values", "activations", "sigmoid_derivative — values"),
        ("test_mse_gradients_match_reference", "gradient_descent",
         "mse_gradients — match reference"),
        ("test_relu", "activations", "relu"),
        ("test_something_else", "activations", "something else"),
    ],
)  # fmt: skip
def test_readable_name(name, assignment, expected):
    assert readable_name(name, graded_functions(assignment)) == expected


def _graded(course: Path, student: str, assignment: str, document: dict | str) -> Path:
    path = course / "autograded" / student / assignment / "results.json"
    path.parent.mkdir(parents=True)
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def test_write_feedback_uses_nbgraders_layout(tmp_path):
    _graded(tmp_path, "ada", "activations", _results(score=5))
    _graded(tmp_path, "bob", "activations", _results(score=1))
    written = write_feedback(tmp_path)
    assert written == [
        tmp_path / "feedback" / "ada" / "activations" / "activations.html",
        tmp_path / "feedback" / "bob" / "activations" / "activations.html",
    ]
    assert "5 / 5" in written[0].read_text() and "ada" in written[0].read_text()
    assert "1 / 5" in written[1].read_text() and "bob" in written[1].read_text()
    assert not list((tmp_path / "feedback").rglob("*.tmp"))


def test_write_feedback_skips_a_corrupt_results_file_and_carries_on(tmp_path, capsys):
    corrupt = _graded(tmp_path, "ada", "activations", '{"score": 1, "tests": [')
    _graded(tmp_path, "bob", "activations", _results())
    written = write_feedback(tmp_path)
    assert written == [tmp_path / "feedback" / "bob" / "activations" / "activations.html"]
    assert not (tmp_path / "feedback" / "ada").exists()
    assert str(corrupt) in capsys.readouterr().err


def test_write_feedback_filters_by_student_and_assignment(tmp_path):
    for student in ("ada", "bob"):
        for assignment in ("activations", "backprop"):
            _graded(tmp_path, student, assignment, _results())
    assert write_feedback(tmp_path, student="bob") == [
        tmp_path / "feedback" / "bob" / "activations" / "activations.html",
        tmp_path / "feedback" / "bob" / "backprop" / "backprop.html",
    ]
    assert write_feedback(tmp_path, assignment="backprop", student="ada") == [
        tmp_path / "feedback" / "ada" / "backprop" / "backprop.html",
    ]
    assert write_feedback(tmp_path, student="nobody") == []


def test_main_says_how_many_and_where(tmp_path, capsys):
    _graded(tmp_path, "ada", "activations", _results())
    assert feedback.main(course=str(tmp_path), assignment=None, student=None) == 0
    out = capsys.readouterr().out
    assert "1 feedback page" in out and str(tmp_path / "feedback") in out


def _flagged(flags) -> dict:
    results = _results()
    results["extra_data"]["flags"] = flags
    return results


def test_a_flagged_submission_gets_a_clear_escaped_notice():
    flags = [
        {"kind": "channel", "detail": "reply header nested 10,000 deep"},
        {"kind": "forged_event", "detail": "cell_end for cell 7 <script>alert(1)</script>"},
        {"kind": "sysctl", "detail": "wrote /proc/sys/kernel/hostname"},
        {"kind": "limit", "detail": "memory: 1.2 GB of 1 GB"},
        {"kind": "patched", "detail": "numpy.allclose"},
        {"kind": "<b>new</b>", "detail": ""},
    ]
    page = feedback_page(_flagged(flags), student="ada", assignment="activations")
    parsed = _text_of(page)
    text = " ".join(parsed.chunks)
    assert "Flagged for review" in text and "6 things" in text
    for flag in flags[:5]:
        assert flag["kind"] in text and feedback.FLAG_KINDS[flag["kind"]] in text
    assert "reply header nested 10,000 deep" in text and "numpy.allclose" in text
    assert "<script>" not in page and "<b>" not in page
    assert "cell 7 &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;new&lt;/b&gt;" in page
    assert page.index("Flagged for review") < page.index("Notes from the grader")
    assert parsed.tags <= {
        *"html head meta title style body main h1 h2 p strong section pre".split(),
        *"table thead tbody tr th td span code div footer ul li br".split(),
    }


@pytest.mark.parametrize("flags", [None, [], "absent"])
def test_honest_work_shows_no_flag_notice(flags):
    results = _results() if flags == "absent" else _flagged(flags)
    page = feedback_page(results, student="ada", assignment="activations")
    assert "Flagged" not in page and 'class="flags"' not in page
    assert feedback.flags_of(results) == []


def test_flags_in_an_unexpected_shape_are_still_shown():
    assert feedback.flags_of(_flagged({"kind": "limit"})) == [{"kind": "limit", "detail": ""}]
    assert feedback.flags_of(_flagged(["odd", {"detail": 3}, {"kind": 7, "detail": "x"}])) == [
        {"kind": "unknown", "detail": "odd"},
        {"kind": "unknown", "detail": "3"},
        {"kind": "unknown", "detail": "x"},
    ]
    assert feedback.flags_of({"extra_data": "not a dict"}) == []
    assert feedback.flags_of("not a document") == []
    page = feedback_page(_flagged("<i>odd</i>"), student="ada", assignment="activations")
    assert "Flagged for review" in page and "&lt;i&gt;odd&lt;/i&gt;" in page


def test_write_feedback_marks_only_the_flagged_page(tmp_path):
    _graded(tmp_path, "ada", "activations", _results())
    _graded(tmp_path, "eve", "activations", _flagged([{"kind": "patched", "detail": "np.sum"}]))
    ada, eve = write_feedback(tmp_path)
    assert "Flagged for review" not in ada.read_text()
    assert "Flagged for review" in eve.read_text() and "np.sum" in eve.read_text()
