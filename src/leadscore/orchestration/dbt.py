"""The dbt project as Dagster assets. The manifest is built ahead of time (`make prepare`, which
runs `dbt parse`), never when this module is imported."""

import importlib.metadata
import json
import os
import shutil
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any
from unittest import mock

import dagster as dg
import duckdb
import pydantic
from dagster_dbt import DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets
from dagster_dbt.asset_utils import get_asset_check_key_for_test, get_manifest_and_translator_from_dbt_assets
from packaging import version

from leadscore import build_state, kept_models, passed_tests
from leadscore.orchestration.dbt_checks import CheckDescribingTranslator
from leadscore.orchestration.ingestion import INGESTION_ASSETS, WAREHOUSE_POOL
from leadscore.orchestration.resources import WarehouseResource
from leadscore.scoring.rulebooks import RulebookError, validate_rulebooks
from leadscore.settings import REPO_ROOT

DBT_PROJECT = DbtProject(project_dir=REPO_ROOT / "dbt_project", profiles_dir=REPO_ROOT / "dbt_project")
# The dbt of the project's virtualenv, next to this interpreter: the dbt-core package installed here.
DBT_BESIDE_PYTHON = Path(sys.executable).parent / "dbt"


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
    # check made without Dagster (src/leadscore/nothing_new.py) computes the same key. The whole set comes
    # from this module's definition: in a partial run `context.assets_def` is itself the subset.
    selection = None if selected == set(dbt_models.keys) else sorted(map(str, selected))
    # Opening the warehouse here also stops a run whose warehouse another process holds, with the
    # file named, before dbt starts and buries the lock error in its log.
    manifest, translator, project = get_manifest_and_translator_from_dbt_assets([dbt_models])
    with warehouse.connection() as con:
        build = build_state.planned_build(con, dbt_args, selection)
        if build.key == build_state.last_build_key(con) and not config.force:
            context.log.info("Nothing new since the last successful dbt build (same loaded files, dbt project, "
                             "seeds and parameters): dbt and the steps downstream of it are skipped.")
            return
        # dbt writes no raw table: their loads are the same before and after the build.
        raw_tables = passed_tests.raw_table_digests(con)

        def input_digests(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
            """Per test, model and seed, the digest of its inputs as the warehouse holds them now."""
            return passed_tests.input_digests(manifest, build.project, build_state.vars_of(dbt_args), raw_tables,
                                              passed_tests.seed_table_digests(con, manifest),
                                              kinds=("test", *kept_models.KEPT_KINDS))

        # Data tests that passed on the same inputs are left out, unless the build is forced, and
        # those that run on a keyed-rewrite model read only the rows rewritten since they passed.
        # A whole build keeps the models and seeds built from the same inputs as they are.
        digests = {} if config.force else input_digests(con)
        left_out = passed_tests.unchanged_since_passed(con, digests)
        tested_through = {} if config.force else passed_tests.tested_through(con, manifest, build.project)
        node_keys = {unique_id: translator.get_asset_spec(manifest, unique_id, project).key
                     for unique_id, node in manifest["nodes"].items()
                     if node["resource_type"] in kept_models.KEPT_KINDS}
        selected_nodes = [unique_id for unique_id, key in node_keys.items() if key in selected]
        kept = kept_models.keepable(con, manifest, digests, left_out,
                                    within=None if selection is None else selected_nodes)
    # A bad rule in the rulebook seeds stops the run here, naming the rule, before any SQL runs.
    try:
        validate_rulebooks()
    except RulebookError as error:
        raise dg.Failure(description=str(error)) from None
    # Whatever the build writes loses its record first: a failed build vouches for nothing.
    with warehouse.connection() as con:
        kept_models.forget(con, [unique_id for unique_id in selected_nodes if unique_id not in kept])
    if left_out:
        context.log.info(f"{len(left_out)} data tests left out: they passed on the same inputs (raw table "
                         "loads, dbt project, vars, as_of where they read it) in an earlier build.")
    if kept:
        context.log.info(f"{len(kept)} models and seeds kept as they are: they were built from the same inputs "
                         "in an earlier build.")
    # dbt runs as a subprocess that opens the same DuckDB file (profiles.yml reads this variable).
    warehouse_path = Path(warehouse.path).resolve()
    os.environ["LEADSCORE_WAREHOUSE"] = str(warehouse_path)
    # Only this dbt process gets the stamps (dbt reads the variable when the tests run).
    # Excluding kept nodes needs another indirect selection of the tests (see kept_models).
    selection_env, test_args = {}, []
    if kept and selection is None:
        selection_env = kept_models.INDIRECT_SELECTION_ENV
    elif kept:
        selection_env = kept_models.PARTIAL_BUILD_INDIRECT_SELECTION_ENV
        # Not the checks a run launched from the UI left out.
        test_args = passed_tests.select_args(manifest, [
            test_id for test_id in kept_models.partial_build_tests(manifest, selected_nodes, left_out)
            if (check := get_asset_check_key_for_test(manifest, translator, test_id, project)) is None
            or check in context.selected_asset_check_keys])
    with mock.patch.dict(os.environ, {passed_tests.TESTED_THROUGH_ENV: json.dumps(tested_through), **selection_env}):
        invocation = dbt.cli([*dbt_args, *test_args, *passed_tests.exclude_args(manifest, [*left_out, *kept])],
                             context=context, target_path=dbt_target_path(warehouse_path))
    # The events wait until dbt exits: DuckDB lets nobody else open the file while dbt writes it,
    # and their row counts and column types are read from it afterwards. (dagster-dbt's own
    # fetch_row_counts() leaves a read-only handle open in this process, which fails the next step.)
    events = list(kept_outputs(kept, node_keys))
    try:
        events.extend(invocation.stream())
    except Exception:
        yield from events  # what dbt built before it failed is still recorded
        raise
    started = time.monotonic()
    try:
        with warehouse.connection() as con:
            metadata = relation_metadata(con, built_nodes(events, invocation.manifest))
        context.log.info(f"Row counts and column types of {len(metadata)} dbt relations read in "
                         f"{time.monotonic() - started:.2f} s.")
    except duckdb.Error as error:  # nice to have: never a reason to fail a build dbt completed
        metadata = {}
        context.log.warning(f"No row counts or column types for the dbt assets this time: {error}")
    yield from with_relation_metadata(events, metadata)
    yield from cached_check_results(context, manifest, translator, project, left_out)
    # Reached only when dbt succeeded (a failed build raises above and is not recorded).
    run_results = invocation.get_artifact("run_results.json")["results"]
    results = [(result["unique_id"], result["status"]) for result in run_results]
    with warehouse.connection() as con:
        # Only a whole build vouches for its tests: in a partial one (fresh_scores) a test may
        # read a model the run did not rebuild from the inputs its digest names.
        if selection is None:
            passed = [test_id for test_id, status in results if status == "pass"]
            stamps = passed_tests.latest_stamps(con, manifest, passed)
            # With the seed tables as the tests read them: the build loaded them first.
            digests = input_digests(con)
            passed_tests.record_results(con, digests, results, context.run_id, build.project, stamps)
            kept_models.record(con, digests, results, context.run_id)
        build_state.record_build(con, build.key, build.project, build.data, dbt_args, context.run_id)


def cached_check_results(context: dg.AssetExecutionContext, manifest: Mapping[str, Any], translator: Any,
                         project: DbtProject | None, passes: Mapping[str, str | None]) -> Iterator[dg.AssetCheckResult]:
    """The checks of the tests left out, passed as on the same inputs before (like a build tool's
    cached test result), each naming the run it ran in: their blocking checks then gate the
    steps after dbt as executed ones do, and the UI tells them apart by the description."""
    selected = context.selected_asset_check_keys
    for test_id, run_id in passes.items():
        key = get_asset_check_key_for_test(manifest, translator, test_id, project)
        if key in selected:
            yield dg.AssetCheckResult(
                asset_key=key.asset_key, check_name=key.name, passed=True,
                description=f"Not run again: it passed on the same inputs in run {run_id}.",
                metadata={"passed_in_run": run_id or ""},
            )


def kept_outputs(kept: Mapping[str, str | None], node_keys: Mapping[str, dg.AssetKey]) -> Iterator[dg.Output]:
    """A materialization for each model or seed kept as it is (dagster-dbt's own form, status
    `kept`), naming the run that built it: the steps after dbt then run as when dbt rebuilds it.
    Only selected nodes are kept, so each is among the step's outputs."""
    for unique_id, run_id in kept.items():
        yield dg.Output(None, output_name=node_keys[unique_id].to_python_identifier(), metadata={
            "unique_id": unique_id, "status": "kept", "built_in_run": run_id or "",
        })


def dbt_hook_source_specs() -> list[dg.AssetSpec]:
    """The dbt sources no Dagster asset writes: tables dbt's own hooks keep (schema
    ops). Declared as assets of their own so they show with their description in their schema's
    group, not as bare stubs in Dagster's `default` group."""
    manifest, translator, project = get_manifest_and_translator_from_dbt_assets([dbt_models])
    ingested = {key for assets_def in INGESTION_ASSETS for key in assets_def.keys}
    specs = []
    for unique_id in manifest["sources"]:
        spec = translator.get_asset_spec(manifest, unique_id, project)
        if spec.key in ingested:
            continue
        # Only the table's own metadata: dagster-dbt's (manifest, translator) would make it look
        # like an asset the dbt step materializes.
        metadata = {key: value for key, value in spec.metadata.items() if key.startswith("dagster/")}
        specs.append(dg.AssetSpec(spec.key, group_name=spec.group_name, description=spec.description,
                                  metadata=metadata, kinds={"duckdb"}))
    return specs


DBT_HOOK_SOURCES = dbt_hook_source_specs()


def dbt_target_path(warehouse: Path) -> Path:
    """dbt's target folder for runs on this warehouse, kept beside it.

    dbt parses only the changed files (partial parsing) when the profile is the one it parsed
    with last, and the profile holds the warehouse path: a prepared parse made for another
    warehouse means a full parse (about 10 s). In a folder per warehouse each run finds the parse
    of the previous run on the same file; the first one starts from `make prepare`'s.
    """
    return warehouse.parent / f"{warehouse.stem}_dbt_target"


class ProjectDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt resource without two costs it pays before every dbt command (3.3 s per
    run at medium size, out of a few seconds of work in a small run):

    - it runs `dbt --version` in a subprocess (1.8 s) to learn the version of the executable. The
      dbt beside this interpreter is the dbt-core package installed here, whose version Python
      already knows;
    - it opens a dbt adapter in this process (1.5 s), which only its `fetch_row_counts()` and
      `fetch_column_metadata()` use. The dbt step reads row counts and column types itself, after
      dbt exits (`relation_metadata`).

    Both override private members of dagster-dbt (pinned in constraints.txt);
    tests/test_dagster_definitions.py fails if an upgrade renames them or stops calling them."""

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable) == DBT_BESIDE_PYTHON:
            return version.parse(importlib.metadata.version("dbt-core"))
        return super()._cli_version

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


def dbt_resource() -> DbtCliResource:
    # The virtualenv's dbt even when PATH lacks it.
    executable = str(DBT_BESIDE_PYTHON) if DBT_BESIDE_PYTHON.exists() else (shutil.which("dbt") or "dbt")
    return ProjectDbtCliResource(project_dir=DBT_PROJECT, dbt_executable=executable)


def event_unique_id(event: Any) -> str | None:
    """The dbt node a materialization of the dbt step is for (dagster-dbt puts it in the metadata)."""
    if not isinstance(event, (dg.Output, dg.AssetMaterialization)):
        return None
    value = event.metadata.get("unique_id")
    return getattr(value, "value", value)


def built_nodes(events: Iterable[Any], manifest: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The manifest entries of the models and seeds the events materialize."""
    nodes = (manifest["nodes"].get(unique_id) for event in events if (unique_id := event_unique_id(event)))
    return [node for node in nodes if node is not None]


def relation_metadata(con: duckdb.DuckDBPyConnection, nodes: list[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per dbt unique_id: `dagster/column_schema` with the warehouse's column types (and the yml
    descriptions), and `dagster/row_count` for tables. Views get no row count: counting one runs
    its whole query. Two catalog queries and one count query for all relations together."""
    relations = {node["unique_id"]: (node["schema"], node.get("alias") or node["name"]) for node in nodes}
    if not relations:
        return {}
    schemas = sorted({schema for schema, _ in relations.values()})
    columns: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, data_type in con.execute(
        """select schema_name, table_name, column_name, data_type from duckdb_columns()
           where database_name = current_database() and list_contains(?, schema_name)
           order by schema_name, table_name, column_index""", [schemas],
    ).fetchall():
        columns.setdefault((schema, table), []).append((column, data_type))
    tables = set(con.execute(
        "select schema_name, table_name from duckdb_tables() "
        "where database_name = current_database() and list_contains(?, schema_name)", [schemas],
    ).fetchall())
    counted = [(unique_id, relation) for unique_id, relation in relations.items() if relation in tables]
    row_counts = dict(con.execute(" union all ".join(
        f"select {sql_literal(unique_id)}, count(*) from {quoted(schema)}.{quoted(table)}"
        for unique_id, (schema, table) in counted
    )).fetchall()) if counted else {}

    described = {node["unique_id"]: {name.lower(): (column.get("description") or None)
                                     for name, column in node.get("columns", {}).items()} for node in nodes}
    metadata: dict[str, dict[str, Any]] = {}
    for unique_id, relation in relations.items():
        found: dict[str, Any] = {}
        if relation in columns:
            found["dagster/column_schema"] = dg.TableSchema(columns=[
                dg.TableColumn(name, data_type, description=described[unique_id].get(name.lower()))
                for name, data_type in columns[relation]
            ])
        if unique_id in row_counts:
            found["dagster/row_count"] = row_counts[unique_id]
        if found:
            metadata[unique_id] = found
    return metadata


def with_relation_metadata(events: Iterable[Any], metadata: Mapping[str, Mapping[str, Any]]) -> Iterator[Any]:
    for event in events:
        extra = metadata.get(event_unique_id(event) or "")
        yield event.with_metadata({**event.metadata, **extra}) if extra else event


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
