# The two commands of the README: `make demo` (the main job) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
# BACKEND=jax or BACKEND=torch: install that Keras backend instead of TensorFlow's CPU build.
BACKEND ?= tensorflow
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)

.PHONY: install sandbox postgres browser notebooks demo test test-backends gpu-wheels lint benchmark clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(BACKEND),dev]'
	touch $@

# bubblewrap is the sandbox; without it the grader still runs, unsandboxed, and says so.
sandbox:
	@if command -v bwrap >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing bubblewrap (the grader's sandbox) ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; \
	else \
		echo "********************************************************************"; \
		echo "WARNING: bubblewrap (bwrap) is not installed and cannot be installed"; \
		echo "here. Notebooks will be graded WITHOUT the sandbox. Install Debian's"; \
		echo "'bubblewrap' package (e.g. sudo apt-get install bubblewrap)."; \
		echo "********************************************************************"; \
	fi

# PostgreSQL, for the test of two graders sharing a PostgreSQL gradebook (skipped without it).
postgres:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing PostgreSQL (for the gradebook tests) ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else \
		echo "PostgreSQL is not installed: its gradebook test will be skipped (sqlite is tested)."; \
	fi

# Debian's Chromium renders the class report's pages in a test (headless, offline).
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Chromium (renders the class report in a test) ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "Chromium is not installed: the report's browser test will be skipped, loudly."; \
	fi

# Regenerate the released and solution notebooks whose source changed (FORCE=1: all of them).
notebooks: install
	python -m autograder.generate $(if $(FORCE),--force)

# CLASS_SIZE=N: a sample class of N students who each hand in every assignment (default:
# each kind of work once). JOBS=N: notebooks graded at once (default: the CPU cores).
demo: install sandbox notebooks
	autograder demo $(if $(CLASS_SIZE),--class-size $(CLASS_SIZE)) $(if $(JOBS),--jobs $(JOBS))

# One Keras backend's suite (tests/conftest.py): the Keras notebooks graded end to end, the
# Keras checks' tables, the judge, the tasks and the devices, in a virtual environment that
# holds that backend and no other.
BACKEND_SUITE = AUTOGRADER_BACKEND_SUITE=full AUTOGRADER_ONE_BACKEND=1
QUICK_BACKEND_SUITE = AUTOGRADER_BACKEND_SUITE=quick AUTOGRADER_ONE_BACKEND=1
# TORCH: how pip gets PyTorch for `make test-backends` (e.g. a CPU build's file or index).
TORCH ?= torch

.venv-jax/.installed: pyproject.toml
	$(PYTHON) -m venv .venv-jax
	.venv-jax/bin/python -m pip install --quiet --upgrade pip
	.venv-jax/bin/python -m pip install --quiet -e '.[jax,dev]'
	touch $@

.venv-torch/.installed: pyproject.toml
	$(PYTHON) -m venv .venv-torch
	.venv-torch/bin/python -m pip install --quiet --upgrade pip
	.venv-torch/bin/python -m pip install --quiet $(TORCH)
	.venv-torch/bin/python -m pip install --quiet -e '.[torch,dev]'
	touch $@

# The whole suite on TensorFlow, then the quick backend suite on JAX (CPU).
test: install sandbox postgres browser .venv-jax/.installed
	python -m pytest
	$(QUICK_BACKEND_SUITE) KERAS_BACKEND=jax .venv-jax/bin/python -m pytest

# The backend suite on each of TensorFlow, JAX and PyTorch, each in its own environment.
test-backends: install sandbox .venv-jax/.installed .venv-torch/.installed
	$(BACKEND_SUITE) KERAS_BACKEND=tensorflow python -m pytest
	$(BACKEND_SUITE) KERAS_BACKEND=jax .venv-jax/bin/python -m pytest
	$(BACKEND_SUITE) KERAS_BACKEND=torch .venv-torch/bin/python -m pytest

# Wheels for benchmarks/gpu_grade.sh on a GPU machine without network, for its Python
# (GPU_PYTHON, e.g. 3.12): Keras and what the kit needs beyond a CUDA image's usual
# packages (GPU_IMAGE_HAS) and what grading never imports (GPU_NOT_NEEDED: the web
# interfaces, the class report's similarity detector), into .whl/.
GPU_PYTHON ?= 3.12
GPU_IMAGE_HAS ?= numpy scipy pandas matplotlib scikit-learn statsmodels pillow jax jaxlib \
	torch rich pytest h5py ml-dtypes absl-py protobuf pyyaml requests jinja2 markupsafe \
	contourpy cycler fonttools kiwisolver pyparsing joblib threadpoolctl patsy formulaic \
	interface-meta narwhals packaging pluggy iniconfig pygments markdown-it-py mdurl attrs \
	anyio h11 httpcore httpx idna certifi charset-normalizer urllib3 psutil six \
	python-dateutil typing-extensions zipp fsspec cloudpickle etils setuptools wrapt \
	opt-einsum prometheus-client
GPU_NOT_NEEDED ?= jupyterlab notebook babel widgetsnbextension jupyterlab-widgets ipywidgets \
	jupyter-lsp jupyterlab-server notebook-shim jupyter-builder json5 async-lru copydetect tqdm
gpu-wheels: install
	python benchmarks/gpu_wheels.py --python-version $(GPU_PYTHON) --dest .whl \
		--skip $(GPU_IMAGE_HAS) $(GPU_NOT_NEEDED)

lint: install
	ruff check .
	ruff format --check .

benchmark: install sandbox
	python benchmarks/grade_vs_execute.py
	python benchmarks/jail_limits.py
	python benchmarks/judge_overhead.py
	python benchmarks/mutants.py
	python benchmarks/batch_vs_nbgrader.py
	python benchmarks/notebook_metrics.py

clean:
	rm -rf $(VENV) .venv-jax .venv-torch .whl gradebook.db
