"""Download the wheels a GPU machine without network needs for benchmarks/gpu_grade.sh.

The kit's dependencies (``pyproject.toml``) and the JAX extra's data loader, for another
machine's Python (``--python-version``, x86-64 Linux), into ``--dest``; then the wheels
of packages the machine already has (``--skip``: a CUDA image's NumPy, SciPy, JAX, ...)
are removed, so that what travels stays small. The kit itself runs from the checkout.

Usage: python benchmarks/gpu_wheels.py [--python-version 3.12] [--dest .whl] [--skip NAME ...]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "manylinux1_x86_64")  # fmt: skip


def _name(wheel: Path) -> str:
    return re.sub(r"[-_.]+", "-", wheel.name.split("-")[0]).lower()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python-version", default="3.12")
    parser.add_argument("--dest", default=".whl")
    parser.add_argument("--skip", nargs="*", default=[])
    args = parser.parse_args()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["jax"]]
    dest = ROOT / args.dest
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir()
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
         "--python-version", args.python_version, "--implementation", "cp", *platforms,
         "-d", str(dest), *wanted],
        check=True,
    )  # fmt: skip
    skip = {re.sub(r"[-_.]+", "-", name).lower() for name in args.skip}
    kept = 0
    for wheel in sorted(dest.glob("*.whl")):
        if _name(wheel) in skip or _name(wheel).startswith("nvidia-"):
            wheel.unlink()
        else:
            kept += wheel.stat().st_size
    count = len(list(dest.glob("*.whl")))
    print(f"{count} wheels, {kept / 2**20:.1f} MiB, in {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
