# Two entry points, each doing all set-up itself (needs only Python 3.11+):
#   make run   - create .venv, install qualcode, code the bundled corpus into out/
#   make test  - create .venv, install qualcode with test extras, run the tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/qualcode run --corpus corpus --codebook codebook.yaml -o out

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_coding.py
	$(BIN)/python benchmarks/bench_graph.py
	$(BIN)/python benchmarks/bench_growth.py
	$(BIN)/python benchmarks/bench_claims.py
	$(BIN)/python benchmarks/bench_report.py

clean:
	rm -rf $(VENV) out
