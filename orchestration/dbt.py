"""The dbt project as Dagster assets. The manifest is built ahead of time (`make prepare`, which
runs `dbt parse`), never when this module is imported."""

import os
import shutil
import sys
from pathlib import Path

import dagster as dg
import pydantic
from dagster_dbt import DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from assets import build_state
from assets.scoring.rulebooks import RulebookError, validate_rulebooks
from orchestration.dbt_checks import CheckDescribingTranslator
from orchestration.ingestion import WAREHOUSE_POOL
from orchestration.resources import WarehouseResource
from orchestration.settings import REPO_ROOT

DBT_PROJECT = DbtProject(project_dir=REPO_ROOT / "dbt_project", profiles_dir=REPO_ROOT / "dbt_project")


class ScoringRunConfig(dg.Config):
    """Run parameters of the dbt build."""

    as_of: str = pydantic.Field(
        default="",
        description="UTC instant to score as of, 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS'; empty: the end of the "
        "loaded data (never the wall clock).",
    )
    force: bool = pydantic.Field(
        default=False,
        description="Build even when nothing changed since the last successful build (same loaded files, "
        "dbt project, seeds and parameters), as the daily schedule does.",
    )

    def dbt_args(self) -> list[str]:
        try:
            return build_state.dbt_args(self.as_of)
        except ValueError as error:
            raise dg.Failure(description=str(error)) from None

# dbt tests on sources become checks on the raw assets (they run in the dbt step).
TRANSLATOR = CheckDescribingTranslator(settings=DagsterDbtTranslatorSettings(enable_source_tests_as_checks=True))


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path, project=DBT_PROJECT, pool=WAREHOUSE_POOL,
    dagster_dbt_translator=TRANSLATOR,
)
def dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource, config: ScoringRunConfig
):
    # Same loaded files, project, seeds and parameters as the last successful build: the tables
    # would come out identical, so skip dbt; the steps downstream of it skip too.
    dbt_args = config.dbt_args()
    selected = set(context.selected_asset_keys)
    # A partial build is keyed by what it selected; a whole one by its dbt arguments alone, so a
    # check made without Dagster (assets/nothing_new.py) computes the same key. The whole set comes
    # from this module's definition: in a partial run `context.assets_def` is itself the subset.
    selection = None if selected == set(dbt_models.keys) else sorted(map(str, selected))
    # Opening the warehouse here also stops a run whose warehouse another process holds, with the
    # file named, before dbt starts and buries the lock error in its log.
    with warehouse.connection() as con:
        build = build_state.planned_build(con, dbt_args, selection)
        unchanged = build.key == build_state.last_build_key(con)
    if unchanged and not config.force:
        context.log.info("Nothing new since the last successful dbt build (same loaded files, dbt project, "
                         "seeds and parameters): dbt and the steps downstream of it are skipped.")
        return
    # A bad rule in the rulebook seeds stops the run here, naming the rule, before any SQL runs.
    try:
        validate_rulebooks()
    except RulebookError as error:
        raise dg.Failure(description=str(error)) from None
    # dbt runs as a subprocess that opens the same DuckDB file (profiles.yml reads this variable).
    warehouse_path = Path(warehouse.path).resolve()
    os.environ["LEADSCORE_WAREHOUSE"] = str(warehouse_path)
    yield from dbt.cli(dbt_args, context=context, target_path=dbt_target_path(warehouse_path)).stream()
    # Reached only when dbt succeeded (a failed build raises above and is not recorded).
    with warehouse.connection() as con:
        build_state.record_build(con, build.key, build.project, build.data, dbt_args, context.run_id)


def dbt_target_path(warehouse: Path) -> Path:
    """dbt's target folder for runs on this warehouse, kept beside it.

    dbt parses only the changed files (partial parsing) when the profile is the one it parsed
    with last, and the profile holds the warehouse path: a prepared parse made for another
    warehouse means a full parse (about 10 s). In a folder per warehouse each run finds the parse
    of the previous run on the same file; the first one starts from `make prepare`'s.
    """
    return warehouse.parent / f"{warehouse.stem}_dbt_target"


def dbt_resource() -> DbtCliResource:
    # The dbt next to this interpreter (the project's virtualenv), even when PATH lacks it.
    beside_python = Path(sys.executable).parent / "dbt"
    executable = str(beside_python) if beside_python.exists() else (shutil.which("dbt") or "dbt")
    return DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=executable)
