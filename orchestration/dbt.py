"""The dbt project as Dagster assets. The manifest is built ahead of time (`make prepare`, which
runs `dbt parse`), never when this module is imported."""

import os
import shutil
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from assets.scoring.rulebooks import RulebookError, validate_rulebooks
from orchestration.ingestion import WAREHOUSE_POOL
from orchestration.resources import WarehouseResource
from orchestration.settings import REPO_ROOT

DBT_PROJECT = DbtProject(project_dir=REPO_ROOT / "dbt_project", profiles_dir=REPO_ROOT / "dbt_project")

# Unit tests run in the test suite, not in scheduled builds.
BUILD_ARGS = ["build", "--exclude-resource-type", "unit_test"]

# dbt tests on sources become checks on the raw assets (they run in the dbt step).
TRANSLATOR = DagsterDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_source_tests_as_checks=True))


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path, project=DBT_PROJECT, pool=WAREHOUSE_POOL,
    dagster_dbt_translator=TRANSLATOR,
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    # A bad rule in the rulebook seeds stops the run here, naming the rule, before any SQL runs.
    try:
        validate_rulebooks()
    except RulebookError as error:
        raise dg.Failure(description=str(error)) from None
    # dbt runs as a subprocess that opens the same DuckDB file (profiles.yml reads this variable).
    os.environ["LEADSCORE_WAREHOUSE"] = str(Path(warehouse.path).resolve())
    yield from dbt.cli(BUILD_ARGS, context=context).stream()

def dbt_resource() -> DbtCliResource:
    # The dbt next to this interpreter (the project's virtualenv), even when PATH lacks it.
    beside_python = Path(sys.executable).parent / "dbt"
    executable = str(beside_python) if beside_python.exists() else (shutil.which("dbt") or "dbt")
    return DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=executable)
