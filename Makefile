# Everything installs into a local virtualenv (.venv) from nothing but python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install bytecode demo test lint chaos bench bench-short histories schemas clean

install: $(STAMP)

## Byte-compile the project: the workflow sandbox imports closer's modules afresh for every run, and
## where PYTHONDONTWRITEBYTECODE is set nothing else writes .pyc files (compiling from source each
## run halved throughput: see Performance in the README).
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q workflows activities genesys closer emulator bench worker.py

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## The main job: an embedded Temporal dev server (with UI), the emulator and a worker; terminates
## a varied set of conversations and prints one line each. With TEMPORAL_ADDRESS and Genesys
## credentials set, the same code targets real systems.
demo: $(STAMP) bytecode
	$(BIN)/closer demo

## The whole suite, against a real Temporal dev server and the emulator over loopback; first the
## compose file against the Compose specification's JSON schema (tests/test_deployment.py checks the rest).
test: $(STAMP) bytecode
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
	$(BIN)/python -m pytest -q -m "not chaos"

## The project's own checks: ruff (lint, format) and mypy with the pydantic plugin (pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## 100 terminations while the worker is SIGKILLed at random, with 5xx, 409s and a rate limit (~3 min).
chaos: $(STAMP) bytecode
	$(BIN)/python -m pytest -q -s -m chaos

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info

## Re-record the workflow histories the replay tests check (after an intended workflow change).
histories: $(STAMP)
	rm -f tests/histories/*.json
	CLOSER_RECORD_HISTORIES=1 $(BIN)/python -m pytest -q tests/test_replay.py -k test_record_history

## Write the JSON Schemas of every workflow input and result (schemas/) from the models.
schemas: $(STAMP)
	$(BIN)/python -m workflows.schemas

## The benchmark (not part of `make test`): ratios against baselines measured side by side in one
## run; prints a table and writes bench/latest.json. bench-short is the small version (about a quarter of an
## hour on 2 cores: each part prints its time as it ends; not run by .ci/run).
## Sources are byte-compiled first: the environment sets PYTHONDONTWRITEBYTECODE, and without .pyc
## files the sandbox compiles the workflow modules from source on every workflow run (the image's
## `pip install .` compiles them).
bench: $(STAMP) bytecode
	$(BIN)/python -m bench

bench-short: $(STAMP) bytecode
	BENCH_SCALE=short $(BIN)/python -m bench
