"""The dbt project as Dagster assets. The manifest is built ahead of time (`make prepare`, which
runs `dbt parse`), never when this module is imported."""

import json
import os
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pydantic
from dagster_dbt import DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from assets.scoring.rulebooks import RulebookError, validate_rulebooks
from orchestration.dbt_checks import CheckDescribingTranslator
from orchestration.ingestion import WAREHOUSE_POOL
from orchestration.resources import WarehouseResource
from orchestration.settings import REPO_ROOT

DBT_PROJECT = DbtProject(project_dir=REPO_ROOT / "dbt_project", profiles_dir=REPO_ROOT / "dbt_project")

# Unit tests run in the test suite, not in scheduled builds.
BUILD_ARGS = ["build", "--exclude-resource-type", "unit_test"]


class ScoringRunConfig(dg.Config):
    """Run parameters of the dbt build."""

    as_of: str = pydantic.Field(
        default="",
        description="UTC instant to score as of, 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS'; empty: the end of the "
        "loaded data (never the wall clock).",
    )

    def dbt_vars(self) -> list[str]:
        if not self.as_of:
            return []
        try:
            instant = datetime.fromisoformat(self.as_of)
        except ValueError:
            raise dg.Failure(description=f"as_of {self.as_of!r} is not a date or 'YYYY-MM-DD HH:MM:SS'") from None
        if instant.tzinfo is not None:
            instant = instant.astimezone(UTC).replace(tzinfo=None)
        return ["--vars", json.dumps({"as_of": instant.strftime("%Y-%m-%d %H:%M:%S")})]

# dbt tests on sources become checks on the raw assets (they run in the dbt step).
TRANSLATOR = CheckDescribingTranslator(settings=DagsterDbtTranslatorSettings(enable_source_tests_as_checks=True))


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path, project=DBT_PROJECT, pool=WAREHOUSE_POOL,
    dagster_dbt_translator=TRANSLATOR,
)
def dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource, config: ScoringRunConfig
):
    # A bad rule in the rulebook seeds stops the run here, naming the rule, before any SQL runs.
    try:
        validate_rulebooks()
    except RulebookError as error:
        raise dg.Failure(description=str(error)) from None
    # dbt runs as a subprocess that opens the same DuckDB file (profiles.yml reads this variable).
    os.environ["LEADSCORE_WAREHOUSE"] = str(Path(warehouse.path).resolve())
    yield from dbt.cli([*BUILD_ARGS, *config.dbt_vars()], context=context).stream()

def dbt_resource() -> DbtCliResource:
    # The dbt next to this interpreter (the project's virtualenv), even when PATH lacks it.
    beside_python = Path(sys.executable).parent / "dbt"
    executable = str(beside_python) if beside_python.exists() else (shutil.which("dbt") or "dbt")
    return DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=executable)
