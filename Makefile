# One-command set-up on a fresh machine: `make synth` and `make test` create the venv themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv synth test lint typecheck unit bench mutate clean tools

venv: $(STAMP)

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

tools:  ## the upstream tier's tools (Helm, talos-check, kube-apiserver, etcd, juicefs; the Mermaid parser from npm), built from Go modules into ~/.cache
	$(PYTHON) -m labctl.toolchain

synth: venv  ## render the prod stack offline into out/prod
	$(BIN)/python -m labctl synth prod

lint: venv
	$(BIN)/ruff check .

typecheck: venv
	$(BIN)/mypy components labctl policy benchmarks mutation

unit: venv
	$(BIN)/python -m pytest -n auto -q

test: lint typecheck unit  ## what CI runs

bench: venv  ## synth speed vs the SDK floor (not part of the test suite)
	$(BIN)/python -m benchmarks.bench

mutate: venv  ## mutation score of the deciding modules (mutmut; not part of .ci/run)
	$(BIN)/python -m mutation

clean:
	rm -rf out mutants .pytest_cache .mypy_cache .ruff_cache
