# The two commands of the README: `make demo` (the main job) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
# BACKEND=jax or BACKEND=torch: install that Keras backend instead of TensorFlow's CPU build.
BACKEND ?= tensorflow
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)

.PHONY: install sandbox postgres notebooks demo test lint benchmark clean

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

# Regenerate the released and solution notebooks whose source changed (FORCE=1: all of them).
notebooks: install
	python -m autograder.generate $(if $(FORCE),--force)

# CLASS_SIZE=N: a sample class of N students who each hand in every assignment (default:
# each kind of work once). JOBS=N: notebooks graded at once (default: the CPU cores).
demo: install sandbox notebooks
	autograder demo $(if $(CLASS_SIZE),--class-size $(CLASS_SIZE)) $(if $(JOBS),--jobs $(JOBS))

test: install sandbox postgres
	python -m pytest

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
	rm -rf $(VENV) gradebook.db
