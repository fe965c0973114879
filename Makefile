# clientsense — the two commands of the Quick start are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
SHARED ?= ../shared
FUZZ_EXAMPLES ?= 100000
# comparison tools of the language-ID benchmark: installed by bench-langid only, never runtime deps
LANGID_BENCH_DEPS ?= langid==1.1.6 lingua-language-detector==2.1.1
# training source of the language-ID model (models/langid/README.md: wordfreq 3.1)
LANGID_TRAIN_DEPS ?= wordfreq>=3.1,<3.2

.PHONY: run test lint typecheck unit tokenizers signal-index train evaluate bench bench-email bench-langid train-langid fuzz notebook clean

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

## Rewrite src/clientsense/tokenizer_data/ from the installed spaCy (after a spaCy upgrade).
tokenizers: $(STAMP)
	$(PY) -m clientsense.tokenizers

## Rewrite src/clientsense/signal_patterns/index.json (after editing a pattern file; a test checks it).
signal-index: $(STAMP)
	$(PY) -m clientsense.signals

## Rebuild models/ from ../shared/corpora and data/corpus (reproducible; writes the model card).
train: $(STAMP)
	$(VENV)/bin/clientsense train --shared $(SHARED)/corpora --data data/corpus --out models

evaluate: $(STAMP)
	$(VENV)/bin/clientsense evaluate --split test

## Performance harness: latency, throughput, cold start, RSS, model size, reference tools; updates README.
bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) benchmarks/bench_perf.py

## Language-ID benchmark vs langdetect, langid.py and lingua on $(SHARED)/langid/lingua_testdata
## (~30 min: three passes per detector and kind, speed = the best); writes benchmarks/langid/RESULTS.md/.json.
## BENCH_LANGID_ARGS=--quick for a smoke run.
bench-langid: $(STAMP)
	$(PY) -m pip install --quiet $(LANGID_BENCH_DEPS)
	LINGUA_TESTDATA=$(SHARED)/langid/lingua_testdata $(PY) benchmarks/langid/bench_langid.py $(BENCH_LANGID_ARGS)

## Rebuild models/langid/ and rewrite models/MANIFEST.json (python -m clientsense.language.train).
## Needs wordfreq (installed here) and, to reproduce the shipped Belarusian tables, Debian's
## dictionary and its expander:  sudo apt-get install hunspell-be hunspell-tools
train-langid: $(STAMP)
	$(PY) -m pip install --quiet '$(LANGID_TRAIN_DEPS)'
	@test -f /usr/share/hunspell/be_BY.dic && command -v unmunch >/dev/null || { \
		echo "train-langid: needs /usr/share/hunspell/be_BY.dic and unmunch: sudo apt-get install hunspell-be hunspell-tools" >&2; \
		exit 1; }
	$(PY) -m clientsense.language.train

## Long fuzzing run: FUZZ_EXAMPLES (default 100,000) hypothesis examples per entry point.
fuzz: $(STAMP)
	CLIENTSENSE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) CLIENTSENSE_SHARED=$(SHARED) $(PY) -m pytest -q -p no:randomly \
		tests/test_fuzz.py --hypothesis-show-statistics

## Email exports: parse/clean/score throughput, RSS on a generated mbox, quote-removal accuracy (EMAIL_RESULTS.md).
bench-email: $(STAMP)
	CLIENTSENSE_SHARED=$(SHARED) $(PY) benchmarks/bench_email.py $(BENCH_EMAIL_ARGS)

## Execute notebooks/explore.ipynb into build/notebook/ (plots as PNG; tone_by_language.png is the README figure).
notebook: $(STAMP)
	mkdir -p build/notebook
	$(VENV)/bin/jupyter-execute notebooks/explore.ipynb --output=../build/notebook/explore

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache
