# The README's two commands: `make test` and `make demo`. Both set up what they need.
PYTHON ?= python3
VENV ?= .venv
SERVE_VENV ?= .venv-serve
PIP = --disable-pip-version-check --no-input -q
export LANGCHAIN_HF_VLM_SERVE_VENV ?= $(abspath $(SERVE_VENV))

.PHONY: test demo lint unit protocol realserver bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP) --upgrade pip
	$(VENV)/bin/pip install $(PIP) -e '.[test,images,compare]'
	touch $@

# transformers serve with the tiny test VLM. torch is pinned: the CPU wheel (never unpinned).
$(SERVE_VENV)/.installed:
	$(PYTHON) -m venv $(SERVE_VENV)
	$(SERVE_VENV)/bin/pip install $(PIP) torch==2.13.0
	$(SERVE_VENV)/bin/pip install $(PIP) 'transformers[serving]==5.24.0' Pillow
	touch $@

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

unit: $(VENV)/.installed
	$(VENV)/bin/pytest tests/unit --disable-socket --allow-unix-socket -q

protocol: $(VENV)/.installed
	$(VENV)/bin/pytest tests/protocol tests/servers -q

realserver: $(VENV)/.installed $(SERVE_VENV)/.installed
	$(VENV)/bin/pytest tests/realserver -q

test: lint unit protocol

demo: $(VENV)/.installed
	$(VENV)/bin/python examples/quickstart.py

bench: $(VENV)/.installed
	$(VENV)/bin/python benchmarks/run.py

clean:
	rm -rf $(VENV) $(SERVE_VENV) .cache
