# The two set-up commands: `make demo` and `make test`. Both create .venv from the lock file first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP := set -o pipefail; $(BIN)/python -m pip install --quiet --disable-pip-version-check
# pip's notes about unreachable extra index folders are noise; real errors still show and fail.
QUIET := { grep -v "^WARNING: Location" || true; }

.PHONY: demo test lint typecheck contracts pytest bench lock clean venv

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (found " + sys.version.split()[0] + ")")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip==26.3 2>&1 | $(QUIET)
	$(PIP) --no-deps -r requirements.lock 2>&1 | $(QUIET)
	$(PIP) --no-deps --no-build-isolation -e . 2>&1 | $(QUIET)
	$(BIN)/python -m pip check
	touch $(STAMP)

# Runs the main job on the embedded default (the virtual factory). Non-interactive.
demo: $(STAMP)
	$(BIN)/workbench demo --yes

# Every check CI runs: ruff, mypy, import-linter contracts, pytest.
test: $(STAMP) lint typecheck contracts pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Re-resolve the pins in requirements.in into requirements.lock (needs the package index).
lock:
	rm -rf /tmp/wb-lock && $(PYTHON) -m venv /tmp/wb-lock
	/tmp/wb-lock/bin/pip install --quiet -r requirements.in
	/tmp/wb-lock/bin/pip check
	/tmp/wb-lock/bin/pip freeze --all --exclude-editable | grep -v '^pip==' | sort -f > requirements.lock

clean:
	rm -rf $(VENV) .workbench .pytest_cache .mypy_cache .ruff_cache
