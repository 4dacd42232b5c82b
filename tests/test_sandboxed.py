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
            assert "Cell 2" in notes
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
        with pytest.raises(StudentException, match=r"IndexError.*line 2 of cell 3"):
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
