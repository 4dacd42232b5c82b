"""Cheats get no more than the honest score of the same code.

Each cheat is a cell appended to a notebook whose honest score is known: the
released stub (0) and the solution with one function broken (a known partial
score). Fixture notebooks are named for what should happen to them.
"""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from autograder.grade import grade_notebook
from autograder.notebook import Cell
from autograder.sandboxed import SandboxedSubmission
from tests.conftest import ROOT, notebook_path

pytestmark = pytest.mark.slow

ASSIGNMENT = "activations"
BROKEN_FUNCTION = "tanh_derivative"
BROKEN_DEFINITION = "def tanh_derivative(z):\n    return 1 - z ** 2\n"

#: Finds the child's end of the channel, as a cheat would (its objects are the cheat's).
_RAW_CHANNEL = (
    "import gc, os, struct\n"
    "child = next(o for o in gc.get_objects() if type(o).__name__ == 'Child')\n"
    "def raw(header, blobs=()):\n"
    "    data = struct.pack('<I', len(header)) + header\n"
    "    for blob in blobs:\n"
    "        data += struct.pack('<Q', len(blob)) + blob\n"
    "    os.write(child.write_fd, data)\n"
)

CHEATS = {
    "cheats_sends_deeply_nested_header": _RAW_CHANNEL
    + "raw(b'{\"event\": ' + b'[' * 200000 + b']' * 200000 + b'}')\n",
    "cheats_sends_a_huge_integer": _RAW_CHANNEL
    + "raw(b'{\"event\": \"cell_end\", \"index\": 1' + b'7' * 6000 + b'}')\n",
    "cheats_declares_a_huge_header": _RAW_CHANNEL
    + "os.write(child.write_fd, struct.pack('<I', 60 * 2**20) + b'{')\n",
    "cheats_sends_a_zero_itemsize_array": _RAW_CHANNEL
    + (
        "head = str({'descr': [('a', '|V0')], 'fortran_order': False, "
        "'shape': (10**12,)}).encode()\n"
        "head += b' ' * (63 - len(head) %% 64) + b'\\n'\n"
        "npy = b'\\x93NUMPY\\x01\\x00' + struct.pack('<H', len(head)) + head\n"
        'raw(b\'{"event": "cell_end", "figures": [{"__ndarray__": 0}], '
        '"__blobs__": 1}\', [npy])\n'
    ),
    "cheats_forges_cell_events": (
        "import gc\n"
        "child = next(o for o in gc.get_objects() if type(o).__name__ == 'Child')\n"
        "for index in range(1, 80):\n"
        "    child.send({'event': 'cell_end', 'index': index, 'ok': True, "
        "'output_chars': 0, 'stdout': 'FORGED' * 100_000})\n"
        "    child.send({'event': 'cell_start', 'index': index + 1})\n"
        "child.send({'event': 'run_done'})\n"
    ),
    "cheats_patch_builtins": (
        "import builtins\n"
        "builtins.isinstance = lambda *a, **k: True\n"
        "builtins.abs = lambda x: 0\n"
        "builtins.max = lambda *a, **k: 0\n"
        "builtins.len = lambda x: 0\n"
    ),
    "cheats_patch_numpy": (
        "import numpy as np\n"
        "np.allclose = lambda *a, **k: True\n"
        "np.isclose = lambda a, b, *x, **k: np.ones(np.shape(a), bool)\n"
        "np.array_equal = lambda *a, **k: True\n"
        "np.abs = lambda x: np.zeros_like(x)\n"
        "np.max = lambda *a, **k: 0.0\n"
    ),
    "cheats_patch_numpy_testing": (
        "import numpy.testing as npt\n"
        "npt.assert_allclose = lambda *a, **k: None\n"
        "npt.assert_array_equal = lambda *a, **k: None\n"
        "npt.assert_almost_equal = lambda *a, **k: None\n"
    ),
    "cheats_patch_grader_modules": (
        "import sys\n"
        "for name in ('autograder', 'autograder.scoring', 'autograder.checks.common', 'pytest'):\n"
        "    try:\n"
        "        module = __import__(name, fromlist=['_'])\n"
        "        for attr in ('fail', 'expect_array', 'run_checks'):\n"
        "            setattr(module, attr, lambda *a, **k: None)\n"
        "    except ImportError:\n"
        "        pass\n"
        "channel = sys.modules.get('channel')\n"
        "if channel is not None:\n"
        "    original = channel.pack\n"
        "    def pack(message, _original=original):\n"
        "        if message.get('ok') is False:\n"
        "            message = {'ok': True, 'result': 0.0, 'score': 100, 'status': 'passed'}\n"
        "        return _original(message)\n"
        "    channel.pack = pack\n"
    ),
    "cheats_sys_exit": "import sys\nsys.exit(0)\n",
    "cheats_os_exit": "import os\nos._exit(0)\n",
    "cheats_reads_solution_from_disk": (
        "import json, os\n"
        "found = []\n"
        "for top in ('/', '/work', %(root)r, os.path.expanduser('~')):\n"
        "    for folder, dirs, files in os.walk(top):\n"
        "        dirs[:] = [d for d in dirs if d not in ('proc', 'sys', 'dev')]\n"
        "        for name in files:\n"
        "            if name in ('%(assignment)s.ipynb', '%(assignment)s.py'):\n"
        "                found.append(os.path.join(folder, name))\n"
        "        if len(found) > 20:\n"
        "            break\n"
        "for path in found:\n"
        "    try:\n"
        "        if path.endswith('.ipynb'):\n"
        "            cells = json.load(open(path))['cells']\n"
        "            code = '\\n'.join(''.join(c['source']) for c in cells if c['cell_type'] == 'code'\n"
        "                             and 'NotImplementedError' not in ''.join(c['source']))\n"
        "        else:\n"
        "            code = open(path).read().replace('def _', 'def ')\n"
        "        exec(code, globals())\n"
        "    except Exception:\n"
        "        pass\n"
    ),
    "cheats_writes_fake_results": (
        "import json, os\n"
        "fake = json.dumps({'score': 1000, 'max_score': 1, 'tests': []})\n"
        "for path in (%(results)r, 'results.json', '/autograder/results/results.json',\n"
        "             os.path.join(os.path.dirname(%(results)r), 'results.json')):\n"
        "    try:\n"
        "        os.makedirs(os.path.dirname(path) or '.', exist_ok=True)\n"
        "        open(path, 'w').write(fake)\n"
        "    except OSError:\n"
        "        pass\n"
    ),
    "cheats_kills_parent": (
        "import os, signal\n"
        "for pid in (os.getppid(), 1):\n"
        "    try:\n"
        "        os.kill(pid, signal.SIGKILL)\n"
        "    except OSError:\n"
        "        pass\n"
        "try:\n"
        "    os.kill(-1, signal.SIGKILL)\n"
        "except OSError:\n"
        "    pass\n"
    ),
}


def _notebook(tmp_path, base: str, extra: list[str], name: str):
    notebook = nbformat.read(notebook_path(base, ASSIGNMENT), as_version=4)
    for source in extra:
        notebook.cells.append(nbformat.v4.new_code_cell(source))
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def partial_score(tmp_path_factory):
    """The honest score of the solution with one function broken."""
    path = _notebook(
        tmp_path_factory.mktemp("honest"), "solutions", [BROKEN_DEFINITION], "fails_tanh_derivative"
    )
    document = grade_notebook(path, assignment=ASSIGNMENT).to_gradescope()
    assert 0 < document["score"] < document["max_score"]
    return document["score"]


@pytest.mark.parametrize("name", sorted(CHEATS))
def test_cheat_on_the_stub_scores_zero(tmp_path, name):
    results = tmp_path / "results" / "results.json"
    cheat = CHEATS[name] % {"root": str(ROOT), "assignment": ASSIGNMENT, "results": str(results)}
    path = _notebook(tmp_path, "assignments", [cheat], name)
    graded = grade_notebook(path, assignment=ASSIGNMENT)
    graded.write(results)
    document = graded.to_gradescope()
    assert document["score"] == 0
    assert document["max_score"] > 0
    # The results file is the grader's, whatever the notebook wrote.
    assert '"score": 0' in results.read_text()


@pytest.mark.parametrize("name", sorted(CHEATS))
def test_cheat_on_a_partial_solution_gains_nothing(tmp_path, name, partial_score):
    cheat = CHEATS[name] % {
        "root": str(ROOT),
        "assignment": ASSIGNMENT,
        "results": str(tmp_path / "results.json"),
    }
    path = _notebook(tmp_path, "solutions", [BROKEN_DEFINITION, cheat], name)
    document = grade_notebook(path, assignment=ASSIGNMENT).to_gradescope()
    assert document["score"] <= partial_score


CHANNEL_CHEATS = sorted(name for name in CHEATS if "sends" in name or "declares" in name)


@pytest.mark.parametrize("name", [*CHANNEL_CHEATS, "cheats_forges_cell_events"])
def test_a_channel_cheat_is_flagged_and_the_grader_exits_0(tmp_path, name):
    """The grader writes its own results.json and exits 0 whatever the child sends."""
    cheat = CHEATS[name] % {"root": str(ROOT), "assignment": ASSIGNMENT, "results": "x"}
    path = _notebook(tmp_path, "solutions", [BROKEN_DEFINITION, cheat], name)
    results, executed = tmp_path / "results.json", tmp_path / "executed.ipynb"
    process = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(path), "--assignment", ASSIGNMENT,
         "--results", str(results), "--executed", str(executed)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    document = json.loads(results.read_text())
    assert document["max_score"] > 0
    kinds = {flag["kind"] for flag in document["extra_data"]["flags"]}
    assert kinds & {"channel", "forged_event"}, document["extra_data"]["flags"]
    # Nothing forged reaches the executed notebook, and every cell's output is bounded.
    for cell in json.loads(executed.read_text())["cells"]:
        for output in cell.get("outputs", []):
            text = "".join(output.get("text", ""))
            assert "FORGED" not in text and len(text) <= 4096


def test_honest_notebooks_are_never_flagged(graded_solutions, graded_released):
    for assignment, runs in graded_solutions.items():
        for document in runs:
            assert document["extra_data"]["flags"] == [], assignment
    for assignment, document in graded_released.items():
        assert document["extra_data"]["flags"] == [], assignment


# A patch of builtins breaks the child's own channel code, so the patching cell is
# skipped as one that killed its process: the grader cannot tell more, and the
# cheat loses that cell.
@pytest.mark.parametrize("name", ["cheats_patch_numpy", "cheats_patch_grader_modules"])
def test_a_patch_of_numpy_or_the_kit_is_flagged(name):
    submission = SandboxedSubmission([Cell(1, CHEATS[name]), Cell(2, "def f(x):\n    return x\n")])
    with submission:
        submission.run()
        submission.call("f", 1)
    assert any(flag["kind"] == "patched" for flag in submission.flags), submission.flags


#: relu written to modify its input in place (an honest mistake: one point lost) ...
MODIFIES_INPUT = "def relu(z):\n    z[z < 0] = 0\n    return z\n"
#: ... and a cell that has the child report every argument as it was before the call.
HIDES_MODIFICATION = (
    "import copy, sys\n"
    "channel = sys.modules['channel']\n"
    "_stash = []\n"
    "_resolve, _unresolve = channel.resolve_markers, channel.unresolve\n"
    "def resolve_markers(value, namespace):\n"
    "    _stash.append(copy.deepcopy(value))\n"
    "    return _resolve(value, namespace)\n"
    "def unresolve(value):\n"
    "    return _unresolve(_stash[-2] if isinstance(value, list) else _stash[-1])\n"
    "channel.resolve_markers, channel.unresolve = resolve_markers, unresolve\n"
)


def test_in_place_modification_hidden_by_a_patched_encoder_gains_nothing(tmp_path):
    """The canary call catches the false report: the cheat loses the unchanged-input points."""
    honest = grade_notebook(
        _notebook(tmp_path, "solutions", [MODIFIES_INPUT], "fails_relu_does_not_modify_input"),
        assignment=ASSIGNMENT,
    ).to_gradescope()
    cheat = grade_notebook(
        _notebook(tmp_path, "solutions", [MODIFIES_INPUT, HIDES_MODIFICATION],
                  "cheats_hides_in_place_modification"),
        assignment=ASSIGNMENT,
    ).to_gradescope()  # fmt: skip
    failed = {test["name"] for test in honest["tests"] if test["score"] < test["max_score"]}
    assert "test_relu_does_not_modify_input" in failed
    assert cheat["score"] <= honest["score"] < honest["max_score"]
    assert "forged_report" in {flag["kind"] for flag in cheat["extra_data"]["flags"]}
    assert honest["extra_data"]["flags"] == []
