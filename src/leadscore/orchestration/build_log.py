"""The last step of a run: it marks the run's dbt build complete once everything after dbt (exports,
feedback, report, BI copy) succeeded. Only a complete build lets a later run with nothing new skip
dbt, so a run killed or failed after dbt is redone in full by the next one."""

import dagster as dg

from leadscore import build_state
from leadscore.orchestration.ingestion import WAREHOUSE_POOL
from leadscore.orchestration.resources import WarehouseResource

# The assets that end the chain after dbt; every other downstream asset is upstream of one of them.
FINAL_ASSETS = [["published", "bi_copy"], ["reports", "lead_scoring_report"], ["exports", "crm_sync"]]


@dg.asset(
    key=["ops", "dbt_builds"],
    deps=[dg.AssetKey(key) for key in FINAL_ASSETS],
    pool=WAREHOUSE_POOL,
    group_name="ops",
    description="ops.dbt_builds: what each dbt build was made from (loaded files, project, parameters) and "
    "whether its run completed; a run with nothing new since the last complete build skips dbt.",
)
def dbt_build_log(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connection() as con:
        marked = build_state.complete_build(con, context.run_id)
    return dg.MaterializeResult(metadata={"builds_completed": marked})
