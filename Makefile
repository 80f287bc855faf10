# csm-workbooks: two commands.
#   make demo   set up (once) and render the example engagements' reports into runs/
#   make test   set up (once, with test tools) and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
PIP_FLAGS ?= --disable-pip-version-check --quiet

.PHONY: demo test lint setup setup-test browser system-packages lab workshop benchmark clean clean-runs help
.DEFAULT_GOAL := help

help:
	@echo "make demo       set up and render the example reports into runs/"
	@echo "make test       set up and run the test suite (ruff lint and format check first)"
	@echo "make workshop   open the workshop forms as an app (no code), for a projector"
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
	$(BIN)/csm-nb kernelspec  # the csm-nb kernel: plain papermill -k csm-nb on the fast path
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PIP) install $(PIP_FLAGS) -e '.[test]'
	@touch $@

setup: $(VENV)/.installed
setup-test: $(VENV)/.installed-test

# System packages the tests drive: Debian's Chromium (browser tests, no browser
# download) and LibreOffice (spreadsheets recalculated as a person's Excel would).
# Installed with apt-get when run as root; a busy package manager is waited for
# (up to 10 minutes), not fatal. Without root they are skipped with a note
# (in CI they are required).
SYSTEM_PACKAGES := chromium libreoffice-calc-nogui
APT := DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3

browser system-packages:
	@missing=""; command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v soffice >/dev/null 2>&1 || missing="$$missing libreoffice-calc-nogui"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing the system packages the tests need:$$missing (Debian packages; waits if apt is busy)"; \
	    for i in $$(seq 60); do $(APT) update -qq && break; echo "apt-get is busy or failed; trying again in 10 s"; sleep 10; done; \
	    $(APT) install -y -qq $$missing >/dev/null || { echo "error: apt-get could not install$$missing"; exit 1; }; \
	  else echo "note:$$missing not installed; the tests that need them will be skipped (install the Debian packages$$missing)"; fi; \
	fi

demo: setup
	$(BIN)/csm-nb demo

# ruff first: a lint or format finding fails the tests (ruff format . fixes the second kind).
test: setup-test system-packages
	$(BIN)/ruff check --quiet .
	$(BIN)/ruff format --check --quiet .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

workshop: setup
	$(BIN)/csm-nb workshop

lab: setup
	$(BIN)/csm-nb lab

benchmark: setup-test
	$(BIN)/python benchmarks/portfolio.py
	$(BIN)/python benchmarks/workshop.py

clean-runs:
	find runs -mindepth 1 ! -name .keep -exec rm -rf {} +

clean: clean-runs
	rm -rf $(VENV) csm-nb.sqlite csm-nb.sqlite-wal csm-nb.sqlite-shm
