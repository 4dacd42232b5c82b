"""Grade the whole course on this machine's device, as a GPU grader would, and print figures.

Two runs, each a real batch (``autograder grade submitted/``, sandboxes and judges
included, no gradebook):

1. **One student, the whole course**: every solution notebook, graded at once. Printed
   per notebook: score, seconds, backend and the device its judge computed on; then
   the batch's wall time against the 60 s target on one H100-class GPU.
2. **A class**: ``--class-size`` submissions of the Keras assignments, each kind of work
   in turn (honest, partial, mistaken, cheating, broken, late, missing), ``--jobs`` at
   once, spread over the GPUs several per GPU. Printed: wall time, submissions a
   minute, jobs per GPU, the most sandboxes seen holding memory on one GPU at once
   (``nvidia-smi``, every second), and whether every kind scored as it should.

It needs no network: the kit runs from this checkout (or as installed), with the
backend found here (``KERAS_BACKEND``, else the first one installed). ``--device cpu``
runs the same on the CPU (the kit's tests do, on a small selection).

Usage: python benchmarks/gpu_grade.py [--device auto|cpu|gpu] [--class-size 20]
       [--jobs N] [--assignments a,b] [--course DIR]
Exit status: 0 when every score is as expected.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder import devices, registry, sample_class  # noqa: E402
from autograder.demo import _as_expected  # noqa: E402

#: Seconds the whole course of one student may take on one H100-class GPU (the target).
COURSE_TARGET_S = 60.0


def _keras(assignment: str) -> bool:
    source = ROOT / "source" / assignment / f"{assignment}.ipynb"
    return "import keras" in source.read_text()


class _GpuWatch(threading.Thread):
    """The most processes seen holding memory on each GPU at once, by ``nvidia-smi``."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.smi = shutil.which("nvidia-smi")
        self.most: dict[str, int] = {}
        self._halt = threading.Event()

    def run(self) -> None:
        while self.smi and not self._halt.wait(1.0):
            try:
                out = subprocess.run(
                    [self.smi, "--query-compute-apps=gpu_bus_id,pid", "--format=csv,noheader"],
                    capture_output=True, text=True, timeout=10,
                ).stdout  # fmt: skip
            except (OSError, subprocess.SubprocessError):
                continue
            counts: dict[str, int] = {}
            for line in out.splitlines():
                bus = line.split(",")[0].strip()
                counts[bus] = counts.get(bus, 0) + 1
            for bus, count in counts.items():
                self.most[bus] = max(self.most.get(bus, 0), count)

    def stop(self) -> dict[str, int]:
        self._halt.set()
        return self.most


def _batch(course: Path, jobs: int, device: str) -> tuple[float, dict[str, int], str]:
    """Grade ``course/submitted`` as one batch; (wall seconds, GPU concurrency, output)."""
    watch = _GpuWatch()
    watch.start()
    started = time.monotonic()
    process = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(course / "submitted"),
         "--jobs", str(jobs), "--device", device, "--no-gradebook"],
        capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"},
    )  # fmt: skip
    seconds = time.monotonic() - started
    most = watch.stop()
    if process.returncode not in (0, 1):
        raise SystemExit(f"the batch failed ({process.returncode}):\n{process.stderr[-3000:]}")
    return seconds, most, process.stdout


def _results(course: Path, student: str, assignment: str) -> dict:
    path = course / "autograded" / student / assignment / "results.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _where(document: dict) -> str:
    runtime = document.get("extra_data", {}).get("runtime", {})
    judged = runtime.get("judge", {})
    device = judged.get("device") or runtime.get("device", "?")
    return f"{runtime.get('backend', '?')} on {device}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("auto", "cpu", "gpu"), default="auto")
    parser.add_argument("--class-size", type=int, default=20)
    parser.add_argument("--jobs", type=int, help="default: 5 per GPU, or the CPU cores")
    parser.add_argument("--assignments", help="comma-separated ids (default: all)")
    parser.add_argument("--course", help="a scratch folder (default: a temporary one)")
    args = parser.parse_args(argv)

    assignments = (
        args.assignments.split(",") if args.assignments else list(registry.assignment_ids())
    )
    gpus = [] if args.device == "cpu" else list(devices.machine_gpus())
    if args.device == "gpu" and not gpus:
        raise SystemExit("--device gpu: no NVIDIA GPU found")
    jobs = args.jobs or (5 * len(gpus) if gpus else os.cpu_count() or 1)
    backend = devices.backend()
    print(f"backend: {backend} {devices.version_of(backend)}, Keras {devices.version_of('keras')}")
    print("GPUs: " + (", ".join(f"{g.index}: {g.name}, {g.memory_bytes / 2**30:.0f} GiB"
                                for g in gpus) or "none, grading on the CPU"))  # fmt: skip
    course = Path(args.course or tempfile.mkdtemp(prefix="gpu-grade-"))
    ok = True

    # 1. one student, the whole course
    kinds = {("solution", a): "honest" for a in assignments}
    sample_class.write_class(course, ROOT, kinds)
    seconds, _, _ = _batch(course, min(jobs, len(assignments)), args.device)
    print(f"\n1. One student's whole course ({len(assignments)} notebooks, "
          f"{min(jobs, len(assignments))} at once)")  # fmt: skip
    print(f"{'notebook':<18}{'score':>12}{'seconds':>10}  where")
    for assignment in assignments:
        document = _results(course, "solution", assignment)
        score, top = document.get("score", 0), document.get("max_score", 0)
        good = bool(top) and score == top
        ok &= good
        print(f"{assignment:<18}{f'{score:g} / {top:g}':>12}"
              f"{document.get('execution_time', 0):>10.1f}  {_where(document)}"
              + ("" if good else "  <- not full marks"))  # fmt: skip
    print(f"whole course: {seconds:.1f} s (target on one H100-class GPU: {COURSE_TARGET_S:g} s; "
          f"ratio {seconds / COURSE_TARGET_S:.2f})")  # fmt: skip

    # 2. a class of submissions of the Keras assignments
    keras = [a for a in assignments if _keras(a)] or assignments
    kinds = {
        (sample_class.student_name(i), keras[i % len(keras)]):
            sample_class.KINDS[i % len(sample_class.KINDS)]
        for i in range(args.class_size)
    }  # fmt: skip
    sample_class.write_class(course, ROOT, kinds)
    shutil.rmtree(course / "autograded", ignore_errors=True)
    seconds, most, _ = _batch(course, jobs, args.device)
    wrong = []
    for (student, assignment), kind in kinds.items():
        document = _results(course, student, assignment)
        if not document or not _as_expected(kind, document["score"], document["max_score"]):
            wrong.append(f"{student}/{assignment} ({kind}): {document.get('score')}")
    ok &= not wrong
    per_gpu = -(-jobs // len(gpus)) if gpus else 0
    print(f"\n2. A class of {len(kinds)} submissions of {', '.join(keras)}, {jobs} at once")
    print(f"wall time: {seconds:.1f} s; {len(kinds) / seconds * 60:.1f} submissions a minute")
    if gpus:
        print(f"jobs per GPU: up to {per_gpu}; most processes seen on one GPU at once: "
              f"{max(most.values(), default=0)} (a job is a sandbox and its judge)")  # fmt: skip
    print("every kind scored as expected" if not wrong else "NOT as expected: " + "; ".join(wrong))
    if not args.course:
        shutil.rmtree(course, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
