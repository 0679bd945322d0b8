# Two commands on a fresh clone: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test bench setup clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	PIP_CONSTRAINT=$(CURDIR)/constraints.txt $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[cpu]'
	touch $@

setup: $(STAMP)  ## create the pinned virtualenv (.venv) if it is missing or stale

run: $(STAMP)  ## run the conformance suite on CPU, write reports/<run-id>/ and reports/latest
	$(BIN)/conform run

bench: $(STAMP)  ## time every pair in both frameworks on CPU (quick), write reports/<run-id>/ and reports/latest
	$(BIN)/conform bench --device cpu --quick

test: $(STAMP)  ## the harness's own tests and the conformance suite
	$(BIN)/python -m pytest tests conformance $(PYTEST_ARGS)

clean:  ## remove the virtualenv and generated results
	rm -rf $(VENV) reports/*-* reports/latest .hypothesis
