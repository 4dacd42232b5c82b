#!/usr/bin/env bash
# Grade the whole course and a class on a GPU machine with no network, and print figures
# (per-notebook times, the device, the backend, the scores): see benchmarks/gpu_grade.py.
#
# Usage: benchmarks/gpu_grade.sh [--wheels DIR] [gpu_grade.py's flags, e.g. --device cpu]
#
#   --wheels DIR  install these wheels first, with no index (what the machine lacks of
#                 the kit's dependencies and Keras; `make gpu-wheels` writes them to
#                 .whl/). JAX or PyTorch, with CUDA, must be there already; TensorFlow
#                 need not be. The kit itself runs from this checkout.
#   KERAS_BACKEND jax or torch (default: the first of tensorflow, jax, torch installed).
#   PYTHON        the Python that has the backend (default: python3).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
if [ "${1:-}" = "--wheels" ]; then
    SITE="${SITE:-${TMPDIR:-/tmp}/gpu-grade-site}"
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
        --upgrade --target "$SITE" "$2"/*.whl
    export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
    shift 2
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader || true
fi
command -v bwrap >/dev/null 2>&1 || echo "note: bubblewrap is missing: notebooks run unsandboxed"
exec "$PYTHON" "$ROOT/benchmarks/gpu_grade.py" "$@"
