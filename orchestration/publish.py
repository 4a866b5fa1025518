"""Publishing for BI tools after each run: a separate DuckDB file and Parquet files, swapped in
whole, with personal data kept, hashed or dropped as configured."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from assets.publish.bi_copy import PublishError, personal_columns_from_manifest, publish
from orchestration.dbt import DBT_PROJECT
from orchestration.ingestion import WAREHOUSE_POOL
from orchestration.resources import WarehouseResource

PUBLISHED_INPUTS = [
    ["marts", "dim_people"], ["marts", "fct_lead_scores"], ["marts", "fct_lead_score_daily"],
    ["marts", "fct_score_ledger"], ["marts", "fct_lead_product_scores"], ["marts", "fct_account_scores"],
    ["marts", "fct_lead_stage_history"], ["marts", "fct_lead_sla"], ["marts", "rpt_funnel"],
    ["marts", "rpt_campaign_conversion"], ["marts", "rpt_score_distribution"], ["marts", "rpt_won_lost_review"],
    ["marts", "rpt_rule_effectiveness"], ["marts", "rpt_roi"],
    ["feedback", "predictive_scores"], ["feedback", "predictive_coefficients"], ["feedback", "predictive_calibration"],
    ["feedback", "rpt_backtest"], ["feedback", "rpt_backtest_bands"], ["feedback", "rpt_test_bench"],
]


class PublishConfigResource(dg.ConfigurableResource):
    directory: str
    personal_data: str = "keep"


@dg.asset(
    key=["published", "bi_copy"],
    deps=[dg.AssetKey(key) for key in PUBLISHED_INPUTS],
    pool=WAREHOUSE_POOL,
    description="The copy BI tools read: data/published/leadscore.duckdb and data/published/parquet/<schema>/"
    "<table>.parquet, each replaced whole by a rename so open BI sessions keep a complete version.",
)
def bi_copy(warehouse: WarehouseResource, publishing: PublishConfigResource) -> dg.MaterializeResult:
    personal = personal_columns_from_manifest(Path(DBT_PROJECT.manifest_path))
    try:
        publication = publish(
            Path(warehouse.path), Path(publishing.directory), personal, publishing.personal_data,
            # A secret: from the environment at run time only, never in run config or logs.
            salt=os.environ.get("LEADSCORE_PUBLISH_HASH_SALT", ""),
        )
    except PublishError as error:
        raise dg.Failure(description=str(error)) from None
    tables = {f"{t.schema}.{t.table}": t.rows for t in publication.tables}
    return dg.MaterializeResult(metadata={
        "database": dg.MetadataValue.path(str(publication.database)),
        "parquet": dg.MetadataValue.path(str(publication.parquet_dir)),
        "tables": dg.MetadataValue.json(tables),
        "personal data": publishing.personal_data,
    })
