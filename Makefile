# Two commands for a fresh clone: `make test` and `make bench`.
# Each creates .venv if missing, installs the CPU build of torch first (a plain
# `pip install torch` pulls several GB of CUDA packages), then the package.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
TORCH_VERSION ?= 2.13.0
STAMP  := $(VENV)/.installed

.PHONY: test bench bench-full docs install clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install --upgrade pip
	$(PIP) install "torch==$(TORCH_VERSION)"
	$(PIP) install -e ".[test,bench,docs]"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) -m pytest -n 2 -q

bench: $(STAMP)
	$(PY) -m benchmarks --quick

bench-full: $(STAMP)
	$(PY) -m benchmarks

docs: $(STAMP)
	$(PY) -m sphinx -W -b html docs docs/_build/html

clean:
	rm -rf $(VENV) docs/_build build *.egg-info
