# clientsense — the two commands of the Quick start are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
SHARED ?= ../shared

.PHONY: run test lint typecheck unit train evaluate bench notebook clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Score the bundled sample export with the shipped model and print a summary.
run: $(STAMP)
	$(VENV)/bin/clientsense score data/samples/messages.csv -o build/sample_scored.csv

## Lint, type-check and run the whole test suite.
test: $(STAMP) lint typecheck unit

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	CLIENTSENSE_SHARED=$(SHARED) $(PY) -m pytest -q

## Rebuild models/ from ../shared/corpora and data/corpus (reproducible; writes the model card).
train: $(STAMP)
	$(VENV)/bin/clientsense train --shared $(SHARED)/corpora --data data/corpus --out models

evaluate: $(STAMP)
	$(VENV)/bin/clientsense evaluate --split test

bench: $(STAMP)
	$(PY) benchmarks/bench_throughput.py

## Execute notebooks/explore.ipynb into build/notebook/ (plots as PNG; tone_by_language.png is the README figure).
notebook: $(STAMP)
	mkdir -p build/notebook
	$(VENV)/bin/jupyter-execute notebooks/explore.ipynb --output=../build/notebook/explore

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache
