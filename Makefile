# One-command set-up on a fresh machine: `make synth` and `make test` create the venv themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv synth test lint typecheck unit bench mutate checkov clean tools

venv: $(STAMP)

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

tools:  ## the upstream tier's tools (Helm, talos-check, kube-apiserver, etcd, etcdctl, juicefs, kustomize, promtool, promql-eval, amtool; the Mermaid parser and the LogQL/TraceQL grammars from npm), built from Go modules into ~/.cache
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

# The outside scanner, in a venv of its own (its dependencies pin what the project's cannot share). It fails on
# any finding but those the README's Pod Security table gives a reason for.
CHECKOV_VENV ?= .checkov
CHECKOV_JUSTIFIED := CKV_K8S_8,CKV_K8S_9,CKV_K8S_11,CKV_K8S_15,CKV_K8S_25,CKV_K8S_35,CKV_K8S_38,CKV_K8S_43,CKV_K8S_158
checkov: venv  ## checkov over the synthesized prod and lab manifests (README, Pod Security; not part of .ci/run)
	test -x $(CHECKOV_VENV)/bin/checkov || { $(PYTHON) -m venv $(CHECKOV_VENV) && \
		$(CHECKOV_VENV)/bin/pip install --quiet checkov==3.3.30; }
	$(BIN)/python -m labctl synth prod --out out/prod
	$(BIN)/python -m labctl synth lab --out out/lab
	$(CHECKOV_VENV)/bin/checkov --framework kubernetes --compact --quiet --skip-download \
		--skip-check $(CHECKOV_JUSTIFIED) -d out/prod/manifests -d out/lab/manifests

clean:
	rm -rf out mutants .pytest_cache .mypy_cache .ruff_cache .checkov
