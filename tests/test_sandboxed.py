"""A sandboxed submission survives whatever its notebook does, and says what happened."""

import os
import time

import pytest

from autograder.notebook import Cell
from autograder.sandbox import Limits
from autograder.sandboxed import SandboxedSubmission
from autograder.submission import (
    BadReturn,
    CallTimeout,
    CouldNotRun,
    FunctionMissing,
    NotImplementedYet,
    StudentException,
    Unavailable,
)

FAST = Limits(cell_timeout=2, call_timeout=2, notebook_timeout=60, memory_bytes=2 * 1024**3)
DEFINE_F = "def f(x):\n    return x + 1"


def _run(*sources, limits=FAST):
    cells = [Cell(i, source) for i, source in enumerate(sources, start=1)]
    submission = SandboxedSubmission(cells, limits)
    submission.run()
    return submission


@pytest.mark.parametrize(
    "bad_cell",
    [
        "import os\nos._exit(3)",
        "import sys\nsys.exit(1)",
        "raise SystemExit",
        "while True:\n    pass",
        "while True:\n    try:\n        time.sleep(10)\n    except BaseException:\n        pass",
        "import numpy as np\nhuge = np.ones(int(50e9 / 8))",
        "print('x' * 100_000_000)",
        "import os\nos.write(1, b'y' * 100_000_000)",
        "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
        "import os, signal\nos.kill(-1, signal.SIGKILL)",
        "import os\nos.close(201); os.close(200)",
        "import os\nos.write(201, b'garbage' * 1000)",
        "def oops(:",
    ],
    ids=[
        "os-exit",
        "sys-exit",
        "raise-systemexit",
        "infinite-loop",
        "swallows-timeout",
        "50GB-allocation",
        "100MB-print",
        "100MB-fd-write",
        "kill-parent",
        "kill-all",
        "close-channel",
        "garble-channel",
        "syntax-error",
    ],
)
def test_a_bad_cell_costs_only_itself(bad_cell, request):
    """The function defined after the bad cell still answers; the notes name the cell."""
    submission = _run("import time", bad_cell, DEFINE_F)
    try:
        assert submission.call("f", 41) == 42
        notes = "\n".join(submission.notes())
        # Writing to the raw file descriptor is only bounded (RLIMIT_FSIZE), and a
        # signal to the sandbox's init process is simply ignored: nothing to report.
        if request.node.callspec.id not in ("100MB-fd-write", "kill-parent"):
            # Named as JupyterLab shows it: by its first line, never by a number.
            assert f"The cell starting `{bad_cell.splitlines()[0]}`" in notes
            assert "Cell 2" not in notes and "cell 2" not in notes
        log_sizes = [p.stat().st_size for p in submission.jail.dir.glob("child*.log")]
        assert max(log_sizes) <= FAST.file_bytes
    finally:
        submission.close()


def test_calls_report_student_errors_precisely():
    with _run(
        DEFINE_F,
        "def g(x):\n    raise NotImplementedError()",
        "def h(x):\n    return x[10]",
        "def bad():\n    return object()",
    ) as submission:
        with pytest.raises(NotImplementedYet):
            submission.call("g", 1)
        with pytest.raises(FunctionMissing):
            submission.call("missing", 1)
        with pytest.raises(
            StudentException, match=r"IndexError.*line 2 of the cell starting `def h\(x\):`"
        ):
            submission.call("h", [1])
        with pytest.raises(BadReturn):
            submission.call("bad")
        assert submission.call("f", 1) == 2


def test_a_hanging_call_times_out_and_the_next_call_works():
    with _run(DEFINE_F, "def spin():\n    while True:\n        pass") as submission:
        started = time.monotonic()
        with pytest.raises(CallTimeout):
            submission.call("spin")
        assert time.monotonic() - started < FAST.call_timeout + 6
        assert submission.call("f", 1) == 2


def test_a_call_that_kills_the_child_costs_that_call_only():
    with _run(DEFINE_F, "import os\ndef die():\n    os._exit(1)") as submission:
        with pytest.raises(Unavailable):
            submission.call("die")
        assert submission.call("f", 1) == 2


def test_inputs_come_back_for_mutation_checks():
    import numpy as np

    with _run("def inplace(x):\n    x *= 2\n    return x.sum()") as submission:
        result, args, _ = submission.call_keep_args("inplace", np.ones(3))
    assert result == 6
    assert np.array_equal(args[0], 2 * np.ones(3))


def test_a_notebook_over_its_time_limit_is_unavailable():
    limits = Limits(cell_timeout=30, call_timeout=2, notebook_timeout=3)
    with _run("import time\ntime.sleep(20)", DEFINE_F, limits=limits) as submission:
        with pytest.raises(Unavailable, match="did not finish"):
            submission.call("f", 1)


def test_work_folder_is_removed():
    submission = _run(DEFINE_F)
    folder = submission.jail.dir
    submission.close()
    assert not os.path.exists(folder)


def test_a_function_that_could_not_run_says_so_and_names_the_cell_of_the_missing_name():
    """A NameError means the function could not run: the message says which name, which
    cell defines it (by its nbgrader id and first line) and what became of that cell."""
    cells = [
        Cell(1, "import numpy as np"),
        Cell(2, "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\nraise ValueError('oops')",
             "sigmoid"),
        Cell(3, "def forward(x):\n    return sigmoid(x) + helper(x)", "forward"),
        Cell(4, "def uses_deleted(x):\n    return deleted_helper(x)"),
        Cell(5, "import not_a_module_of_the_course"),
        Cell(6, "def late(x):\n    import not_a_module_of_the_course\n    return x"),
    ]  # fmt: skip
    with SandboxedSubmission(cells, FAST) as submission:
        submission.run()
        with pytest.raises(CouldNotRun) as error:
            submission.call("uses_deleted", 1.0)
        message = str(error.value)
        assert "`uses_deleted` could not run" in message
        assert "`deleted_helper`, which is not defined" in message
        assert "No cell of your notebook defines `deleted_helper`" in message
        assert "line 2 of the cell starting `def uses_deleted(x):`" in message
        assert "not about its values" in message and "cell 4" not in message
        # The helper's own cell ran up to an error after defining it: forward finds it,
        # and then misses `helper`, defined nowhere.
        with pytest.raises(CouldNotRun, match="`helper`, which is not defined"):
            submission.call("forward", 1.0)
        with pytest.raises(CouldNotRun, match="an import failed") as error:
            submission.call("late", 1.0)
        assert "ModuleNotFoundError" in str(error.value)
        notes = "\n".join(submission.notes())
        assert "The cell `sigmoid` (starting `def sigmoid(z):`) raised ValueError" in notes
        assert "The cell starting `import not_a_module_of_the_course` raised" in notes


def test_a_name_whose_cell_failed_before_defining_it_points_at_that_cell():
    cells = [
        Cell(1, "raise RuntimeError('stop')\ndef sigmoid(z):\n    return z", "sigmoid"),
        Cell(2, "def forward(x):\n    return sigmoid(x)", "forward"),
    ]
    with SandboxedSubmission(cells, FAST) as submission:
        submission.run()
        with pytest.raises(CouldNotRun) as error:
            submission.call("forward", 1.0)
    message = str(error.value)
    assert "`sigmoid` is defined in the cell `sigmoid` (starting `raise RuntimeError" in message
    assert "which raised RuntimeError" in message
