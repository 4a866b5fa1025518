# Two commands set everything up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
SIZE ?= small
SEED ?= 42
# Test workers: one per core (tests that share a build run on the same worker).
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
# More pytest options for make test, e.g. PYTEST_ARGS=--durations=10 or PYTEST_ARGS='-k scoring'.
PYTEST_ARGS ?=
# The Dagster UI listens on this address only; it has no login, so keep it local.
DEV_HOST ?= 127.0.0.1
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/data/dagster
export LEADSCORE_LANDING ?= $(CURDIR)/data/landing
export LEADSCORE_WAREHOUSE ?= $(CURDIR)/data/warehouse/leadscore.duckdb
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

DBT_SOURCES := $(shell find dbt_project/models dbt_project/macros dbt_project/tests seeds -type f 2>/dev/null) dbt_project/dbt_project.yml dbt_project/profiles.yml
MANIFEST := dbt_project/target/manifest.json

.PHONY: help install run test test-slow test-spark bench dev data prepare lint lock clean

help:
	@echo "make run    build the environment if needed, generate demo data if none, run the pipeline"
	@echo "make test   the test suite on small generated data, in parallel (the slow scenarios apart)"
	@echo "make test-slow  the slow end-to-end scenarios: the benchmark harness, a run killed at three points"
	@echo "make bench  SIZE=small|medium|large: cold, incremental and no-op runs against the DuckDB floor"
	@echo "make test-spark  build the models on a local Spark and compare them with DuckDB's (needs Java 17)"
	@echo "make dev    the Dagster UI on http://127.0.0.1:3000 (DEV_HOST=... to listen elsewhere)"
	@echo "make data   SIZE=tiny|small|medium|large SEED=n: (re)generate the landing data"

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

# The dbt manifest is built once here, never when Dagster imports the definitions.
prepare: $(MANIFEST)

$(MANIFEST): $(VENV)/.installed $(DBT_SOURCES)
	cd dbt_project && ../$(BIN)/dbt parse --quiet --profiles-dir . --project-dir .
	touch $@

data: $(VENV)/.installed
	$(BIN)/python -m demo.generate --size $(SIZE) --seed $(SEED) --force

run: $(VENV)/.installed $(MANIFEST)
	@if [ -z "$$(ls -A $(LEADSCORE_LANDING) 2>/dev/null)" ]; then \
		$(BIN)/python -m demo.generate --size $(SIZE) --seed $(SEED); fi
	$(BIN)/python -m orchestration.run

test: $(VENV)/.installed $(MANIFEST)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) -m "not slow" $(PYTEST_ARGS)

# The long end-to-end scenarios (the benchmark harness, a run killed at three points).
test-slow: $(VENV)/.installed $(MANIFEST)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) -m slow $(PYTEST_ARGS)

# The benchmark defaults to medium data; `make run` keeps small. Data and results: data/bench/.
BENCH_SIZE := $(if $(filter command line environment,$(origin SIZE)),$(SIZE),medium)
bench: $(VENV)/.installed $(MANIFEST)
	$(BIN)/python -m bench --size $(BENCH_SIZE) --seed $(SEED)

# The Spark extra (dbt-spark, pyspark) is installed here only, never by `make test`.
$(VENV)/.installed-spark: $(VENV)/.installed pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,spark]'
	touch $@

test-spark: $(VENV)/.installed-spark $(MANIFEST)
	LEADSCORE_SPARK_TESTS=1 $(BIN)/python -m pytest -q tests/spark

dev: $(VENV)/.installed $(MANIFEST)
	mkdir -p $(DAGSTER_HOME)
	test -f $(DAGSTER_HOME)/dagster.yaml || cp orchestration/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -h $(DEV_HOST) -p 3000 -w workspace.yaml

lint: $(VENV)/.installed
	$(BIN)/ruff check orchestration assets demo bench tests

# Re-pin constraints.txt from the current environment after changing pyproject.toml.
lock: $(VENV)/.installed
	{ head -n 2 constraints.txt; $(BIN)/python -m pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf data dbt_project/target dbt_project/logs
