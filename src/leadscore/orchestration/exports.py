"""Exports after each run: the CRM sync delta file."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from leadscore.export.crm_sync import export_crm_changes
from leadscore.orchestration.dbt import dbt_models
from leadscore.orchestration.ingestion import WAREHOUSE_POOL
from leadscore.orchestration.resources import WarehouseResource


class ExportConfigResource(dg.ConfigurableResource):
    directory: str


@dg.asset(
    key=["exports", "crm_sync"],
    deps=[get_asset_key_for_model([dbt_models], "sync_crm_lead_scores")],
    pool=WAREHOUSE_POOL,
    group_name="export",
    description="CSV of the people whose champion score, grade or stage changed since the last export "
    "(exports/crm_sync/crm_sync_NNNNNN.csv in the warehouse's output folder, data/warehouse/leadscore_outputs), "
    "for a CRM import or reverse-ETL tool.",
)
def crm_sync_export(warehouse: WarehouseResource, exports: ExportConfigResource) -> dg.MaterializeResult:
    with warehouse.connection() as con:
        export = export_crm_changes(con, Path(exports.directory) / "crm_sync")
    return dg.MaterializeResult(
        metadata={"file": dg.MetadataValue.path(str(export.path)), "rows": export.rows, "export_id": export.export_id}
    )
