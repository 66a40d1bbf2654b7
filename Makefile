# Two commands do all the set-up on a fresh machine:
#   make run    - create .venv, install the agent (GUI, torch, PostgreSQL driver) and start it
#   make test   - create .venv, install everything the tests need and run the whole suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# torch is pinned: an unpinned torch pulls a multi-GB CUDA build; 2.13.0 is a CPU build on this image.
TORCH ?= torch==2.13.0
TEST_TIMEOUT ?= 1500

.PHONY: setup run run-headless test lint bench package clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q "$(TORCH)"
	$(PIP) install -q -e ".[all,dev]"
	touch $@

setup: $(VENV)/.installed

run: setup
	$(VENV)/bin/ruckus-agent $(ARGS)

run-headless: setup
	$(VENV)/bin/ruckus-agent --no-gui $(ARGS)

test: setup
	timeout -k 30 $(TEST_TIMEOUT) $(PY) -m pytest -q $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: setup
	$(PY) benchmarks/startup_and_api.py

package: setup
	$(PIP) install -q pyinstaller
	PYTHON=$(PY) packaging/build.sh

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
