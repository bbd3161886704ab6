# Commands for a fresh clone: `make test`, `make bench` (see README.md).
# Each creates .venv if missing and installs, in this order: torch's CPU build (a plain
# `pip install torch` on Linux pulls several GB of CUDA packages), mlnotes with its
# test/bench/docs extras, then compiles and caches mlnotes' numba kernels
# (`python -m mlnotes.compile`) so that no estimator's first fit waits for a compiler.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
TORCH_VERSION ?= 2.13.0
# PyTorch's CPU-only wheels; used on Linux when reachable, else the default index
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
STAMP  := $(VENV)/.installed
# make bench: seconds for the whole run (each suite gets an equal share of what is left)
BENCH_BUDGET ?= 240
BENCH_ARGS ?=

.PHONY: test test-no-fastpaths bench bench-full bench-publish bench-full-publish first-call \
	compile docs install clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install --upgrade pip
	@if [ "$$(uname -s)" = Linux ] && $(PY) -c "import sys, urllib.request; \
	urllib.request.urlopen(sys.argv[1] + '/torch/', timeout=5)" "$(TORCH_CPU_INDEX)" \
	2>/dev/null; then \
		echo "torch: installing the CPU build from PyTorch's CPU index $(TORCH_CPU_INDEX)"; \
		$(PIP) install "torch==$(TORCH_VERSION)" --index-url "$(TORCH_CPU_INDEX)"; \
	else \
		echo "torch: PyTorch's CPU index is not reachable (or not Linux); installing" \
			"torch==$(TORCH_VERSION) from the default index"; \
		$(PIP) install "torch==$(TORCH_VERSION)"; \
	fi
	@$(PY) -c "import torch; print('torch', torch.__version__, '(CUDA build)' \
	if torch.version.cuda else '(CPU build)')"
	$(PIP) install -e ".[test,bench,docs,distributed]"
	$(PY) -m mlnotes.compile || echo "warning: python -m mlnotes.compile failed for" \
		"some estimators; their first fit compiles instead"
	touch $(STAMP)

install: $(STAMP)

# re-run the compile step alone (after pulling new code)
compile: $(STAMP)
	$(PY) -m mlnotes.compile

test: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) -m pytest -n 2 -q

# the tests that exercise the fast paths (mlnotes/_fastpaths.py), once more with every
# fast path off: the public-API fallbacks stay correct (CONTRIBUTING.md, "Fast paths and
# private APIs"); numba kernels compile into a cache of their own on the first run
# (--dist loadfile: the tree tests on one worker, so the tree kernels compile once).
# Measured (default --dist load): 300 tests, 5.5 CPU-minutes with an empty cache
NOFASTPATH_TESTS ?= tests/test_fastpaths.py tests/neural_network/test_mlp.py \
	tests/rl/test_sac_fast_path.py tests/rl/test_agents_common.py tests/tree/test_decision_tree.py \
	tests/svm/test_smo_kernel_state.py
NOFASTPATH_SELECT ?= not test_agents_common or A2C or SAC or TD3 or DQN
test-no-fastpaths: $(STAMP)
	MLNOTES_DISABLE_FASTPATHS=1 OMP_NUM_THREADS=1 $(PY) -m pytest -n 2 --dist loadfile -q \
		$(NOFASTPATH_TESTS) -k "$(NOFASTPATH_SELECT)"

# a few minutes: each suite's representative cases on reduced data, time-boxed;
# writes benchmarks/results/local/ (git-ignored) and prints a one-screen summary
bench: $(STAMP)
	$(PY) -m benchmarks --quick --subset --brief --repeats 3 --budget $(BENCH_BUDGET) \
		$(BENCH_ARGS)

# every case at the acceptance sizes (hours); also to benchmarks/results/local/
bench-full: $(STAMP)
	$(PY) -m benchmarks $(BENCH_ARGS)

# refresh the tracked benchmarks/results/ (quick mode, every case): from a clean tree
# only, so that each table names the commit it measured; then commit the results
bench-publish: $(STAMP)
	$(PY) -m benchmarks --quick --out benchmarks/results $(BENCH_ARGS)

bench-full-publish: $(STAMP)
	$(PY) -m benchmarks --out benchmarks/results $(BENCH_ARGS)

# first fit+predict of every estimator in fresh processes (cached and empty numba cache)
first-call: $(STAMP)
	$(PY) -m benchmarks.first_call $(BENCH_ARGS)

# the site, warnings as errors; the gallery (examples/) runs once, then only the examples
# that changed (sphinx-gallery keeps their output in docs/auto_examples, git-ignored)
docs: $(STAMP)
	OMP_NUM_THREADS=1 MPLBACKEND=Agg $(PY) -m sphinx -W -b html -d docs/_build/doctrees \
		docs docs/_build/html

clean:
	rm -rf $(VENV) docs/_build build *.egg-info
