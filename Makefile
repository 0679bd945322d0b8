# Two commands on a fresh clone: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# Processes for `make run` and `make check`: one per core (pytest-xdist); JOBS=0 runs in this process.
JOBS ?= auto
XDIST := $(if $(filter 0,$(JOBS)),,-n $(JOBS))
# `make test`: one process per core too (TEST_JOBS=0: one process); the catalogue at the smoke profile.
TEST_JOBS ?= auto
TEST_XDIST := $(if $(filter 0,$(TEST_JOBS)),,-n $(TEST_JOBS))
EXAMPLES := --pairs-from examples/hf_bert.py --pairs-from examples/hf_resnet.py --pairs-from examples/keras_hub_converters.py

.PHONY: run test check examples rate robust bench gpu-check docs gate-demo setup clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	PIP_CONSTRAINT=$(CURDIR)/constraints.txt $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[cpu,models]'
	PIP_CONSTRAINT=$(CURDIR)/constraints.txt $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps keras-hub
	touch $@

setup: $(STAMP)  ## create the pinned virtualenv (.venv) if it is missing or stale

run: $(STAMP)  ## run the conformance suite on CPU, one process per core, write reports/<run-id>/ and reports/latest
	$(BIN)/conform run $(XDIST)

robust: $(STAMP)  ## the sensitive records again under every CPU kernel set, thread count and MKL path here; exit 1 if a verdict changes
	$(BIN)/conform robust $(XDIST) --out reports/robust

rate: $(STAMP)  ## the harness's examples/s beside a bare hand-written check of the same pair (nn.Linear/Dense)
	$(BIN)/python -m benchmarks.rate

bench: $(STAMP)  ## time every pair in both frameworks on CPU (quick), write reports/<run-id>/ and reports/latest
	$(BIN)/conform bench --device cpu --quick

# On a machine with a GPU, in the environment that has torch with CUDA (and the project installed there with
# `pip install -e . --no-deps`): `make gpu-check PYTHON=python`. Five minutes at most; exit 2 without a GPU.
gpu-check:  ## the GPU path in one summary: CUDA tests, conform run and bench --device cuda (no .venv: the GPU's python)
	$(PYTHON) -m harness.gpu_check

# A real upgrade, gated: the baseline environment differs from .venv in one package,
# tensorflow-cpu 2.20.0 instead of the pinned 2.21.0. Forward and gradient checks in eval
# mode plus the snapshots keep it to minutes; the gate runs in the candidate (2.21) and
# replays the baseline's snapshot there; each environment re-checks the findings ledger, and the gate lists the
# defects the upgrade fixed or brought. Its exit code is the demo's.
DEMO := reports/gate-demo
OLD := .venv-tf220
gate-demo: $(STAMP)  ## tensorflow-cpu 2.20.0 (baseline) vs the pinned 2.21.0 (candidate), gated
	test -x $(OLD)/bin/conform || { $(PYTHON) -m venv $(OLD) && \
	  grep -v '^tensorflow-cpu==' constraints.txt > $(OLD)/constraints.txt && \
	  echo 'tensorflow-cpu==2.20.0' >> $(OLD)/constraints.txt && \
	  PIP_CONSTRAINT=$(CURDIR)/$(OLD)/constraints.txt $(OLD)/bin/python -m pip install --quiet \
	    --disable-pip-version-check -e '.[cpu]'; }
	rm -rf $(DEMO)
	-$(OLD)/bin/conform run --checks forward,gradient --modes eval --out $(DEMO)/baseline
	$(OLD)/bin/conform snapshot --out $(DEMO)/baseline
	$(OLD)/bin/conform findings --check --out $(DEMO)/baseline
	-$(BIN)/conform run --checks forward,gradient --modes eval --out $(DEMO)/candidate
	$(BIN)/conform snapshot --out $(DEMO)/candidate
	$(BIN)/conform findings --check --out $(DEMO)/candidate
	$(BIN)/conform gate $(DEMO)/baseline $(DEMO)/candidate

test: $(STAMP)  ## the harness's own tests and the catalogue at the smoke profile, one process per core
	$(BIN)/python -m pytest $(TEST_XDIST) tests conformance --conform-profile=smoke $(PYTEST_ARGS)

examples: $(STAMP)  ## the real-model ports and keras_hub's converters in full at the ci profile, and the ledger re-checked
	$(BIN)/conform run $(XDIST) $(EXAMPLES) --out reports/examples --overwrite
	$(BIN)/conform findings --check

check: $(STAMP)  ## the fast loop: the harness's own tests without the slow end-to-end runs (no conformance suite)
	$(BIN)/python -m pytest $(XDIST) tests -m "not slow" $(PYTEST_ARGS)

docs: $(STAMP)  ## write the reference pages generated from data: docs/atlas.md and docs/findings.md
	$(BIN)/python -m harness.docgen

clean:  ## remove the virtualenv and generated results
	rm -rf $(VENV) $(OLD) reports/*-* reports/latest reports/gate-demo .hypothesis
