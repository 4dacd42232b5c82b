"""The registry: each assignment's checks, helpers, tasks and the grader's code, read from the code."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autograder import registry
from autograder.registry import PACKAGE_DIR, Registry

IDS = registry.assignment_ids()


def _imported_after(modules: list[str], prefix: str) -> set[str]:
    """The modules under ``prefix`` that importing ``modules`` loads, in a fresh interpreter."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({prefix!r}))))\n"
    )
    probe = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(probe.stdout))


def test_the_assignments_are_the_checks_modules():
    assert IDS == tuple(sorted(IDS)) and len(IDS) >= 9
    assert {"cnn", "autoencoder", "backprop"} <= set(IDS)
    assert not {"common", "_digits", "_keras", "_reference", "__init__"} & set(IDS)
    for assignment_id in IDS:
        entry = registry.assignment(assignment_id)
        assert entry.checks.name == f"{assignment_id}.py"
        assert "FUNCTIONS" in entry.checks.read_text()


def test_the_registry_reads_functions_points_and_training_checks_from_the_code():
    """What the registry reads with ast is what importing the checks module gives."""
    import importlib

    for assignment_id in IDS:
        entry = registry.assignment(assignment_id)
        module = importlib.import_module(f"autograder.checks.{assignment_id}")
        assert entry.functions == tuple(module.FUNCTIONS)
        assert entry.datasets == tuple(getattr(module, "DATASETS", ()))
        checks = {n: f for n, f in vars(module).items() if n.startswith("test_")}
        assert [c.name for c in entry.graded] == list(checks)
        for check in entry.graded:
            markers = {m.name: m for m in getattr(checks[check.name], "pytestmark", [])}
            points = float(markers["points"].args[0]) if "points" in markers else 1.0
            assert check.points == points
            assert check.trains == ("trains" in markers)
            assert check.function in entry.functions
    with pytest.raises(ValueError, match="expected one of"):
        registry.assignment("no_such_assignment")


@pytest.mark.parametrize("assignment_id", IDS)
def test_helpers_are_exactly_what_the_checks_import(assignment_id):
    entry = registry.assignment(assignment_id)
    loaded = _imported_after([f"autograder.checks.{assignment_id}"], "autograder.checks.")
    loaded -= {f"autograder.checks.{assignment_id}"}
    assert {f"autograder.checks.{p.stem}" for p in entry.helpers} == loaded


@pytest.mark.parametrize("assignment_id", IDS)
def test_tasks_are_those_the_checks_run_and_what_those_import(assignment_id):
    entry = registry.assignment(assignment_id)
    named = set()
    for path in (entry.checks, *entry.helpers):
        text = path.read_text()
        named |= set(re.findall(r"\.task\(\s*f?\"(\w+)\.", text))
        for constant in re.findall(r"\.task\(\s*([A-Z_]+)\b", text):  # a task named by a constant
            named |= set(re.findall(rf"^{constant} = \"(\w+)\.", text, re.M))
    if any("submission.judge(" in p.read_text() for p in (entry.checks, *entry.helpers)):
        named.add("keras_models")  # the model is exported by the child first (also via _keras)
    assert {p.stem for p in entry.tasks} >= named
    if named:
        loaded = _imported_after([f"autograder.tasks.{m}" for m in sorted(named)], "autograder.")
        loaded = {m.removeprefix("autograder.tasks.") for m in loaded if ".tasks." in m}
        assert {p.stem for p in entry.tasks} == loaded
    else:
        assert entry.tasks == ()


def test_the_keras_assignments_need_the_shared_digits_and_their_tasks():
    cnn, autoencoder, backprop = (
        registry.assignment(a) for a in ("cnn", "autoencoder", "backprop")
    )
    checks = PACKAGE_DIR / "checks"
    tasks = PACKAGE_DIR / "tasks"
    shared = (checks / "_digits.py", checks / "_keras.py", checks / "common.py")
    assert cnn.helpers == shared
    assert autoencoder.helpers == shared
    assert backprop.helpers == (checks / "_reference.py", checks / "common.py")
    assert cnn.tasks == (tasks / "keras_models.py",)
    # The autoencoder's models are judged: the child runs only the export task.
    assert autoencoder.tasks == (tasks / "keras_models.py",)
    assert backprop.tasks == ()


def test_the_grader_is_every_other_module_of_the_package():
    grader = set(registry.grader_files())
    everything = {p for p in PACKAGE_DIR.rglob("*.py") if "__pycache__" not in p.parts}
    subpackages = {p for p in everything if p.parent.name in ("checks", "tasks", "cases")}
    inits = {PACKAGE_DIR / "checks" / "__init__.py", PACKAGE_DIR / "tasks" / "__init__.py"}
    assert grader == (everything - subpackages) | inits
    for name in ("sandbox.py", "child.py", "channel.py", "grade.py", "registry.py"):
        assert PACKAGE_DIR / name in grader


@pytest.mark.parametrize("assignment_id", IDS)
def test_files_hold_no_other_assignments_checks(assignment_id):
    entry = registry.assignment(assignment_id)
    files = entry.files()
    assert files == tuple(sorted(set(files)))
    assert {entry.checks, *entry.helpers, *entry.tasks, *entry.grader, *entry.data} == set(files)
    others = {PACKAGE_DIR / "checks" / f"{a}.py" for a in IDS if a != assignment_id}
    assert not others & set(files)
    assert all(p.is_file() for p in files)
    assert all(p.suffix == ".py" for p in files if p.is_relative_to(PACKAGE_DIR))
    assert registry.REGISTRY.relative_name(entry.checks) == f"autograder/checks/{assignment_id}.py"


def _package(tmp_path: Path, checks: dict[str, str], tasks: dict[str, str]) -> Registry:
    package = tmp_path / "autograder"
    for folder, modules in (("checks", checks), ("tasks", tasks)):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("")
        for name, source in modules.items():
            (package / folder / f"{name}.py").write_text(textwrap.dedent(source))
    (package / "__init__.py").write_text("")
    (package / "grade.py").write_text("")
    return Registry(package)


def test_helpers_and_tasks_are_followed_through_every_kind_of_import(tmp_path):
    book = _package(
        tmp_path,
        checks={
            "common": "from autograder.checks import _b\n",
            "_b": "from . import _c\n",
            "_c": "import autograder.checks._d\n",
            "_d": "",
            "_unused": "",
            "one": """
                from autograder.checks.common import thing
                TASK = "t1.run"
                def test_a(submission):
                    submission.task(TASK)
                    submission.task(f"t2.{'x'}")
                    submission.task(name="t3.go")
            """,
            "two": "from .common import thing\n",
        },
        tasks={"t1": "from .t4 import x\n", "t2": "", "t3": "", "t4": "", "t5": ""},
    )
    assert book.ids() == ("one", "two")
    one = book.assignment("one")
    assert [p.name for p in one.helpers] == ["_b.py", "_c.py", "_d.py", "common.py"]
    assert [p.name for p in one.tasks] == ["t1.py", "t2.py", "t3.py", "t4.py"]
    assert [book.relative_name(p) for p in one.grader] == [
        "autograder/__init__.py",
        "autograder/checks/__init__.py",
        "autograder/grade.py",
        "autograder/tasks/__init__.py",
    ]
    assert book.assignment("two").tasks == ()


def test_a_task_named_at_run_time_needs_every_task_module(tmp_path):
    book = _package(
        tmp_path,
        checks={"one": "def test_a(submission, name):\n    submission.task(name)\n"},
        tasks={"t1": "", "t2": ""},
    )
    assert [p.name for p in book.assignment("one").tasks] == ["t1.py", "t2.py"]


def test_a_changed_import_is_seen_without_a_new_registry(tmp_path):
    book = _package(tmp_path, checks={"one": "", "_h": ""}, tasks={})
    assert book.assignment("one").helpers == ()
    (book.checks_dir / "one.py").write_text("from autograder.checks import _h\n# changed\n")
    assert [p.name for p in book.assignment("one").helpers] == ["_h.py"]


def test_a_check_made_by_unchanged_check_is_read_as_a_one_point_check(tmp_path):
    book = _package(
        tmp_path,
        checks={
            "one": """
                FUNCTIONS = ("f", "g")
                @points(2)
                def test_f_values(submission, rng):
                    pass
                test_f_does_not_modify_input = unchanged_check("f", inputs)
                test_g_alias = test_f_values
                helper = unchanged_check("g", inputs)
            """,
        },
        tasks={},
    )
    graded = book.assignment("one").graded
    assert [(c.name, c.function, c.points, c.trains) for c in graded] == [
        ("test_f_values", "f", 2.0, False),
        ("test_f_does_not_modify_input", "f", 1.0, False),
    ]


def test_data_is_the_data_packages_init_or_all_of_it_for_an_assignment_that_reads_it():
    data_dir = PACKAGE_DIR.parent / "course_data"
    for assignment_id in IDS:
        entry = registry.assignment(assignment_id)
        reads = "course_data" in entry.checks.read_text()
        names = {registry.REGISTRY.relative_name(p) for p in entry.data}
        assert "course_data/__init__.py" in names  # the sandbox imports the package
        if not reads:
            assert names == {"course_data/__init__.py"}, assignment_id
            continue
        assert {"course_data/aircraft.py", "course_data/aircraft_damage/damage_base.keras",
                "course_data/aircraft_damage/damage_base_weights.npz"} <= names  # fmt: skip
        images = [p for p in data_dir.rglob("*.png")]
        assert images and set(images) <= set(entry.data)
        assert not any("__pycache__" in n for n in names)
