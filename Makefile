# csm-workbooks: two commands.
#   make demo   set up (once) and render the example engagements' reports into runs/
#   make test   set up (once, with test tools) and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
PIP_FLAGS ?= --disable-pip-version-check --quiet

.PHONY: demo test setup setup-test browser lab benchmark clean clean-runs help
.DEFAULT_GOAL := help

help:
	@echo "make demo       set up and render the example reports into runs/"
	@echo "make test       set up and run the test suite"
	@echo "make lab        open JupyterLab on the workbooks, wired to the store"
	@echo "make benchmark  run the speed benchmarks"
	@echo "make clean      remove the virtual environment, the demo store and runs/"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "csm-workbooks needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)

# Stamp files make the second run fast: reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install $(PIP_FLAGS) --upgrade pip
	$(PIP) install $(PIP_FLAGS) -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PIP) install $(PIP_FLAGS) -e '.[test]'
	@touch $@

setup: $(VENV)/.installed
setup-test: $(VENV)/.installed-test

# The browser tests use Debian's Chromium (no browser download); skipped with a
# clear reason when it is missing and CI is not set.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: chromium not found; browser tests will be skipped (install Debian's 'chromium' package)"; fi; }

demo: setup
	$(BIN)/csm-nb demo

test: setup-test browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lab: setup
	$(BIN)/csm-nb lab

benchmark: setup-test
	$(BIN)/python benchmarks/portfolio.py

clean-runs:
	find runs -mindepth 1 ! -name .keep -exec rm -rf {} +

clean: clean-runs
	rm -rf $(VENV) csm-nb.sqlite csm-nb.sqlite-wal csm-nb.sqlite-shm
