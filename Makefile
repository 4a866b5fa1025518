# Two commands set everything up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
SIZE ?= small
SEED ?= 42
# Test workers: one per core (tests that share a build run on the same worker).
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
# More pytest options for make test, e.g. PYTEST_ARGS=--durations=10 or PYTEST_ARGS='-k scoring'.
PYTEST_ARGS ?=
# The Dagster UI and the dbt docs listen on this address only; they have no login, so keep it local.
DEV_HOST ?= 127.0.0.1
PORT ?= 3000
DOCS_PORT ?= 8080
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/data/dagster
export LEADSCORE_LANDING ?= $(CURDIR)/data/landing
export LEADSCORE_WAREHOUSE ?= $(CURDIR)/data/warehouse/leadscore.duckdb
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

DBT_SOURCES := $(shell find dbt_project/models dbt_project/macros dbt_project/tests seeds -type f 2>/dev/null) dbt_project/dbt_project.yml dbt_project/profiles.yml
MANIFEST := dbt_project/target/manifest.json

# dbt docs of the warehouse, kept beside it like the runs' dbt target folder (dbt.py).
DOCS_DIR = $(abspath $(basename $(LEADSCORE_WAREHOUSE))_dbt_docs)

.PHONY: help install run test test-slow test-spark bench dev docs data prepare lint lock clean

help:
	@echo "make help        this list"
	@echo "make install     the virtualenv .venv with the pinned packages (constraints.txt)"
	@echo "make run         build the environment if needed, generate demo data if none, run the pipeline"
	@echo "make test        the test suite on small generated data, in parallel (the slow scenarios apart)"
	@echo "make test-slow   the slow end-to-end scenarios: the benchmark harness, a run killed at three points"
	@echo "make test-spark  build the models on a local Spark and compare them with DuckDB's (needs Java 17)"
	@echo "make bench       SIZE=small|medium|large: cold, incremental and no-op runs against the DuckDB floor"
	@echo "make dev         the Dagster UI on http://$(DEV_HOST):$(PORT) (PORT=..., DEV_HOST=... to change)"
	@echo "make docs        dbt docs of the warehouse (tables, columns, types, lineage) on http://$(DEV_HOST):$(DOCS_PORT)"
	@echo "make data        SIZE=tiny|small|medium|large SEED=n: (re)generate the landing data"
	@echo "make prepare     build the dbt manifest Dagster reads (dbt parse), after changing dbt files"
	@echo "make lint        ruff on the Python code, sqlfluff on the dbt SQL (about 2 minutes)"
	@echo "make lock        re-pin constraints.txt from the current environment after changing pyproject.toml"
	@echo "make clean       remove data/ (landing, warehouse, runs) and dbt's target and logs"

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
	$(BIN)/python -m leadscore.demo.generate --size $(SIZE) --seed $(SEED) --force

run: $(VENV)/.installed $(MANIFEST)
	@if [ -z "$$(ls -A $(LEADSCORE_LANDING) 2>/dev/null)" ]; then \
		$(BIN)/python -m leadscore.demo.generate --size $(SIZE) --seed $(SEED); fi
	$(BIN)/python -m leadscore.orchestration.run

test: $(VENV)/.installed $(MANIFEST)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) -m "not slow" $(PYTEST_ARGS)

# The long end-to-end scenarios (the benchmark harness, a run killed at three points).
test-slow: $(VENV)/.installed $(MANIFEST)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) -m slow $(PYTEST_ARGS)

# The benchmark defaults to medium data; `make run` keeps small. Data and results: data/bench/.
BENCH_SIZE := $(if $(filter command line environment,$(origin SIZE)),$(SIZE),medium)
bench: $(VENV)/.installed $(MANIFEST)
	$(BIN)/python -m leadscore.tools.bench --size $(BENCH_SIZE) --seed $(SEED)

# The Spark extra (dbt-spark, pyspark) is installed here only, never by `make test`.
$(VENV)/.installed-spark: $(VENV)/.installed pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,spark]'
	touch $@

test-spark: $(VENV)/.installed-spark $(MANIFEST)
	LEADSCORE_SPARK_TESTS=1 $(BIN)/python -m pytest -q tests/spark

# dagster dev stops its webserver and daemon on Ctrl-C, and treats SIGTERM the same way, unless
# SIGINT was ignored when it started, as in any make started in the background (a script, nohup,
# a service): then it ignores SIGTERM too. So both signals are reset to their defaults first, and
# exec makes dagster dev the process make forwards its SIGTERM to.
DEFAULT_SIGNALS := $(BIN)/python -c 'import os, signal, sys; \
	[signal.signal(s, signal.SIG_DFL) for s in (signal.SIGINT, signal.SIGTERM)]; os.execv(sys.argv[1], sys.argv[1:])'

dev: $(VENV)/.installed $(MANIFEST)
	$(BIN)/python -c 'from leadscore.orchestration.run import prepare_dagster_home; \
	from leadscore.settings import load_settings; prepare_dagster_home(load_settings())'
	exec $(DEFAULT_SIGNALS) $(BIN)/dagster dev -h $(DEV_HOST) -p $(PORT) -w workspace.yaml

# Built against the pipeline's warehouse so the catalog has the real column types and row counts
# (it needs the file free: not while a run writes it). static_index.html opens without a server.
docs: export LEADSCORE_WAREHOUSE := $(abspath $(LEADSCORE_WAREHOUSE))
docs: $(VENV)/.installed $(MANIFEST)
	@test -f $(LEADSCORE_WAREHOUSE) || { echo "No warehouse at $(LEADSCORE_WAREHOUSE) yet: run make run first."; exit 1; }
	cd dbt_project && ../$(BIN)/dbt docs generate --quiet --static --profiles-dir . --project-dir . --target-path $(DOCS_DIR)
	@echo "dbt docs: $(DOCS_DIR)/index.html (static_index.html opens offline)"
	cd dbt_project && exec ../$(BIN)/dbt docs serve --profiles-dir . --project-dir . --target-path $(DOCS_DIR) \
		--host $(DEV_HOST) --port $(DOCS_PORT) --no-browser

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests
	$(BIN)/sqlfluff lint dbt_project/models dbt_project/tests --processes 2

# Re-pin constraints.txt from the current environment after changing pyproject.toml.
lock: $(VENV)/.installed
	{ head -n 2 constraints.txt; $(BIN)/python -m pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf data dbt_project/target dbt_project/logs
