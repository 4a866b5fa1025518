"""How the pipeline looks in Dagster: every asset in the group of its layer (dbt models by their
folder), and dbt materializations with row counts and the warehouse's column types."""

from __future__ import annotations

import dagster as dg
import pytest

from leadscore.orchestration.definitions import defs
from leadscore.warehouse import connect

GROUPS = {"raw", "seeds", "staging", "intermediate", "scoring", "customers", "lifecycle", "reporting", "feedback",
          "export", "published", "ops"}


@pytest.fixture(scope="module")
def groups() -> dict[str, str]:
    return {spec.key.to_user_string(): spec.group_name for spec in defs.resolve_all_asset_specs()}


def test_no_asset_is_left_in_the_default_group(groups):
    assert {name for name, group in groups.items() if group not in GROUPS} == set()
    assert set(groups.values()) == GROUPS


@pytest.mark.parametrize(("asset", "group"), [
    ("crm/leads", "raw"),  # ingestion
    ("seeds/rulebooks", "seeds"),
    ("staging/stg_crm__leads", "staging"),
    ("intermediate/int_people", "intermediate"),  # models/intermediate/people
    ("intermediate/int_score_ledger", "intermediate"),  # models/intermediate/scoring
    ("marts/fct_lead_scores", "scoring"),
    ("marts/fct_account_repurchase_scores", "customers"),  # models/marts/customers
    ("marts/fct_lead_sla", "lifecycle"),
    ("marts/rpt_roi", "reporting"),
    ("marts/dim_people", "reporting"),  # models/marts/people: the BI dimension
    ("marts/fct_person_features", "feedback"),
    ("feedback/predictive_scores", "feedback"),
    ("marts/sync_crm_lead_scores", "export"),
    ("exports/crm_sync", "export"),
    ("reports/lead_scoring_report", "reporting"),
    ("published/bi_copy", "published"),
    ("ops/dbt_builds", "ops"),
])
def test_assets_sit_in_the_group_of_their_layer(groups, asset, group):
    assert groups[asset] == group


def materialization(result: dg.ExecuteInProcessResult, key: str) -> dg.AssetMaterialization:
    events = [event.event_specific_data.materialization for event in result.get_asset_materialization_events()
              if event.asset_key == dg.AssetKey.from_user_string(key)]
    assert len(events) == 1, key
    return events[0]


@pytest.mark.parametrize("relation", ["marts.dim_people", "intermediate.int_people", "seeds.rulebooks"])
def test_dbt_tables_carry_their_row_count_and_column_types(first_run, demo_settings, relation):
    assert first_run.success
    metadata = materialization(first_run, relation.replace(".", "/")).metadata
    with connect(demo_settings.warehouse, read_only=True) as con:
        rows = con.execute(f"select count(*) from {relation}").fetchone()[0]
        columns = [(name, kind) for name, kind, *_ in con.execute(f"describe {relation}").fetchall()]
    assert rows > 0 and metadata["dagster/row_count"].value == rows
    schema = metadata["dagster/column_schema"].value
    assert [(column.name, column.type) for column in schema.columns] == columns


def test_dbt_views_carry_their_columns_but_no_row_count(first_run):
    metadata = materialization(first_run, "staging/stg_crm__leads").metadata
    assert "dagster/row_count" not in metadata  # counting a view runs its whole query
    columns = {column.name: column for column in metadata["dagster/column_schema"].value.columns}
    assert columns["lead_id"].type == "VARCHAR" and columns["lead_id"].description  # from the yml


def test_the_dbt_resource_knows_dbts_version_without_running_it():
    """The shortcut gives the version dagster-dbt reads from `dbt --version` (which it parses to
    choose between dbt Core's and Fusion's log formats)."""
    from dagster_dbt import DbtCliResource

    from leadscore.orchestration.dbt import DBT_PROJECT, dbt_resource

    resource = dbt_resource()
    assert resource._cli_version == DbtCliResource(project_dir=DBT_PROJECT,
                                                   dbt_executable=resource.dbt_executable)._cli_version


def test_the_dbt_resource_overrides_what_dagster_dbt_still_calls():
    """The two private members the project's dbt resource replaces are still what dagster-dbt's
    `cli()` calls before starting dbt; an upgrade that renames them fails here instead of quietly
    bringing their cost back."""
    import inspect

    from dagster_dbt import DbtCliResource

    from leadscore.orchestration.dbt import ProjectDbtCliResource

    source = inspect.getsource(DbtCliResource.cli)
    for member in ("_cli_version", "_initialize_dbt_core_adapter"):
        assert f"self.{member}" in source
        assert member in vars(ProjectDbtCliResource)
