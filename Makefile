# The two commands a newcomer needs:  make demo   and   make test
# Both set up a virtual environment in .venv from constraints.txt first (once; again when it changes).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup demo test test-fast bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24,<27"
	$(PY) -m pip install --quiet -c constraints.txt -e ".[spark,dev]"
	@touch $(STAMP)

# The main job: simulate a retail world and run the loop on it, embedded on DuckDB.
demo: setup
	$(VENV)/bin/jingzhun demo

# Every test: the quick ones, the slow lane (real data sets, large simulations) and the Spark lane,
# on two workers (each with its own Spark session); a test file stays on one worker.
test: setup
	$(PY) -m pytest -m "" -p no:cacheprovider -n 2 --dist loadfile

# The quick local loop (DuckDB only, no real data sets).
test-fast: setup
	$(PY) -m pytest

# Benchmarks: side-by-side comparisons that print ratios (see benchmarks/README.md).
bench: setup
	OPENBLAS_NUM_THREADS=1 $(PY) -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache
