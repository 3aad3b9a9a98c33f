# The two commands: `make demo` and `make test`. Both set up what they need from nothing.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check --quiet
PIP_VERSION := 25.3
SCALE ?= small
SEED ?= 7
DATA ?= data/generated

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_DEFAULT_REGION ?= ap-northeast-2

.PHONY: help demo test lint format typecheck synth check lock dictionary clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

$(PY):
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install pip==$(PIP_VERSION)

# The runtime alone (what the demo needs); the full set adds CDK, tests and linters.
$(VENV)/.runtime: pyproject.toml requirements.lock | $(PY)
	$(PIP) install -c requirements.lock -e ".[spark,local,ml]"
	@touch $@

$(VENV)/.full: pyproject.toml requirements.lock | $(PY)
	$(PIP) install -c requirements.lock -e ".[spark,local,ml,infra,dev]"
	@touch $@ $(VENV)/.runtime

# The CDK CLI and the dashboard's chart library (copied into the site by exportintel.web.site).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	@touch $@

node_modules/.bin/cdk: node_modules/.installed

# Debian's chromium for the browser tests (Playwright cannot download a browser here), and a
# Korean font so that the screenshots show Hangul. Installed once; apt-get update only when the
# package lists do not know them yet.
CHROMIUM := /usr/bin/chromium
KOREAN_FONT := /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_INSTALL := $(SUDO) apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk
$(CHROMIUM) $(KOREAN_FONT):
	@$(APT_INSTALL) >/dev/null 2>&1 \
	  || { $(SUDO) apt-get update -qq >/dev/null && $(APT_INSTALL) >/dev/null; }

.PHONY: chromium
chromium: $(CHROMIUM) $(KOREAN_FONT) ## Install Debian's chromium and a Korean font for the browser tests

demo: $(VENV)/.runtime node_modules/.installed ## The whole pipeline on the local emulation, narrated (SERVE=1: then serve the API)
	$(VENV)/bin/exportintel demo --scale $(SCALE) --seed $(SEED) --data $(DATA) $(if $(SERVE),--serve)

test: $(VENV)/.full node_modules/.installed chromium ## Run the whole test suite (unit, infra, end to end), then the SageMaker SDK's
	$(PY) -m pytest
	$(MAKE) test-sagemaker

# The SageMaker SDK in an environment of its own: its pins (rich < 15, ...) clash with the main
# lock. The [sagemaker] extra alone: the code it runs needs neither Spark nor the models'
# libraries.
SM_VENV := .venv-sagemaker
SM_PY := $(SM_VENV)/bin/python
SM_PIP := $(SM_PY) -m pip --disable-pip-version-check --quiet

$(SM_PY):
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	$(PYTHON) -m venv $(SM_VENV)
	$(SM_PIP) install pip==$(PIP_VERSION)

$(SM_VENV)/.installed: pyproject.toml requirements-sagemaker.lock | $(SM_PY)
	$(SM_PIP) install -c requirements-sagemaker.lock -e ".[sagemaker]" pytest moto
	@touch $@

.PHONY: test-sagemaker lock-sagemaker
test-sagemaker: $(SM_VENV)/.installed ## Training on SageMaker through the SDK, against moto
	$(SM_PY) -m pytest -p no:cacheprovider tests/sagemaker_sdk

lock-sagemaker: $(SM_PY) ## Re-pin the SageMaker environment into requirements-sagemaker.lock
	$(SM_PIP) install -e ".[sagemaker]" pytest==9.2.0 moto==5.2.5
	$(SM_PIP) freeze --exclude-editable | grep -v '^-e ' > requirements-sagemaker.lock

lint: $(VENV)/.full ## ruff check and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.full ## Apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: $(VENV)/.full ## mypy over the core package, the CDK app and the benchmarks
	$(VENV)/bin/mypy

synth: $(VENV)/.full node_modules/.bin/cdk ## Synthesize every stage; cdk-nag findings fail it
	node_modules/.bin/cdk synth --all --quiet

check: lint typecheck test synth ## The quality gate: lint, types, tests, synth

dictionary: $(VENV)/.full ## Rewrite docs/data-dictionary.md from the contracts
	$(VENV)/bin/exportintel dictionary

lock: $(PY) ## Re-pin every transitive dependency into requirements.lock
	$(PIP) install -e ".[spark,local,ml,infra,dev]"
	$(PIP) freeze --exclude-editable | grep -v '^-e ' > requirements.lock

clean: ## Remove generated data, synth output and the environment
	rm -rf $(VENV) node_modules cdk.out data .pytest_cache .mypy_cache .ruff_cache

# A phony target: the bench/ folder of the same name would otherwise make it look up to date.
.PHONY: bench
bench: $(VENV)/.full ## Benchmarks (long: ETL at 1M and 10M events, continuity at large): bench/results/
	$(PY) -m bench.etl
	$(PY) -m bench.continuity

.PHONY: bench-matching
bench-matching: $(VENV)/.full ## The matching benchmark at large scale (hours on 2 cores): bench/results/
	$(PY) -m bench.matching --scale large --score-options=--approximate-reasons

.PHONY: bench-markets
bench-markets: $(VENV)/.full ## Market suggestions: held-out hit@5 against the baselines, three seeds: bench/results/
	$(PY) -m bench.markets --scale small --seeds 7,11,23

.PHONY: bench-api
bench-api: $(VENV)/.full ## The API benchmark at large scale (moto, local server, bundles): bench/results/
	$(PY) -m bench.api --scale large
