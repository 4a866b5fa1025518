"""Checks that look across a stage rather than at one loader: source freshness once every raw
table is loaded, and row counts of the marts against the previous run after the dbt build. Both
only warn: a late feed or an unusual volume is worth a look, not a reason to stop scoring (the
raw tables' row counts are checked in the ingestion step)."""

import dagster as dg

from leadscore.checks import freshness, row_counts
from leadscore.orchestration.ingestion import WAREHOUSE_POOL, WARNS_ONLY
from leadscore.orchestration.resources import ChecksConfigResource, WarehouseResource

# Each measured source's freshness is reported on its main raw table.
FRESHNESS_ASSETS = {
    "crm": dg.AssetKey(["crm", "leads"]),
    "weblogs": dg.AssetKey(["weblogs", "hits"]),
    "email": dg.AssetKey(["email", "events"]),
    "forms": dg.AssetKey(["forms", "submissions"]),
    "signals": dg.AssetKey(["signals", "account_signals"]),
}
FRESHNESS_DESCRIPTION = (
    "The source's newest event lags the newest event loaded from any source by no more than "
    "LEADSCORE_FRESHNESS_MAX_LAG_HOURS (measured between sources, never against the clock); the "
    "message names the source, both event times and the lag." + WARNS_ONLY
)

# The marts whose size a run should not change much.
KEY_MARTS = ("dim_people", "fct_lead_scores", "fct_score_ledger", "fct_lead_score_daily",
             "fct_lead_stage_history", "fct_lead_sla", "fct_account_scores")
ROW_COUNT_DESCRIPTION = (
    "Row count against the previous run, within LEADSCORE_ROW_COUNT_MAX_DROP and "
    "LEADSCORE_ROW_COUNT_MAX_JUMP; the message names the table and both counts." + WARNS_ONLY
)


def _warning(asset_key: dg.AssetKey, name: str, outcome) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=asset_key, check_name=name, passed=outcome.passed, severity=dg.AssetCheckSeverity.WARN,
        description=outcome.message, metadata={"message": outcome.message, **outcome.metadata},
    )


@dg.multi_asset_check(
    name="source_freshness",
    specs=[dg.AssetCheckSpec("freshness", asset=key, description=FRESHNESS_DESCRIPTION)
           for key in FRESHNESS_ASSETS.values()],
    pool=WAREHOUSE_POOL,
    can_subset=True,
)
def source_freshness(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource,
                     checks_config: ChecksConfigResource):
    with warehouse.connection() as con:
        newest = freshness.newest_events(con)
    outcomes = freshness.freshness(newest, checks_config.freshness_max_lag_hours)
    for source, asset_key in FRESHNESS_ASSETS.items():
        if dg.AssetCheckKey(asset_key, "freshness") in context.selected_asset_check_keys:
            yield _warning(asset_key, "freshness", outcomes[source])


@dg.multi_asset_check(
    name="mart_row_counts",
    specs=[dg.AssetCheckSpec("row_count", asset=dg.AssetKey(["marts", name]), description=ROW_COUNT_DESCRIPTION)
           for name in KEY_MARTS],
    pool=WAREHOUSE_POOL,
    can_subset=True,
)
def mart_row_counts(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource,
                    checks_config: ChecksConfigResource):
    with warehouse.connection() as con:
        for name in KEY_MARTS:
            if dg.AssetCheckKey(dg.AssetKey(["marts", name]), "row_count") not in context.selected_asset_check_keys:
                continue
            outcome = row_counts.record_and_compare(con, f"marts.{name}", context.run.run_id,
                                                    checks_config.row_count_limits())
            yield _warning(dg.AssetKey(["marts", name]), "row_count", outcome)


STAGE_CHECKS = [source_freshness, mart_row_counts]
