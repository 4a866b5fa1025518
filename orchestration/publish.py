"""Publishing for BI tools after each run: a separate DuckDB file and Parquet files, swapped in
whole, with personal data kept, hashed or dropped as configured."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from assets.publish.bi_copy import (
    PUBLISHED_SCHEMAS,
    PublishError,
    personal_columns_from_manifest,
    publish,
    unpublished_tables_from_manifest,
)
from orchestration.dbt import DBT_PROJECT, dbt_models
from orchestration.dbt_checks import PUBLISH_METADATA_KEY
from orchestration.feedback import (
    BACKTEST,
    BACKTEST_BANDS,
    PREDICTIVE_CALIBRATION,
    PREDICTIVE_COEFFICIENTS,
    PREDICTIVE_SCORES,
    TEST_BENCH,
)
from orchestration.ingestion import WAREHOUSE_POOL
from orchestration.resources import WarehouseResource


def published_dbt_models() -> list[str]:
    """The dbt models whose tables the BI copy holds: every one built in a published schema, as
    publish() copies every table there (a new mart is published without being listed here)."""
    names = []
    for spec in dbt_models.specs:
        # dagster-dbt's `database.schema.table` of the model's relation.
        relation = str(spec.metadata.get("dagster/table_name", "")).split(".")
        published = spec.metadata.get(PUBLISH_METADATA_KEY) is not False
        if len(relation) == 3 and relation[1] in PUBLISHED_SCHEMAS and published:
            names.append(relation[2])
    return sorted(names)


PUBLISHED_INPUTS = [
    *(get_asset_key_for_model([dbt_models], name) for name in published_dbt_models()),
    PREDICTIVE_SCORES, PREDICTIVE_COEFFICIENTS, PREDICTIVE_CALIBRATION, BACKTEST, BACKTEST_BANDS, TEST_BENCH,
]


class PublishConfigResource(dg.ConfigurableResource):
    directory: str
    personal_data: str = "keep"


@dg.asset(
    key=["published", "bi_copy"],
    deps=PUBLISHED_INPUTS,
    pool=WAREHOUSE_POOL,
    description="The copy BI tools read: data/published/leadscore.duckdb and data/published/parquet/<schema>/"
    "<table>.parquet, each replaced whole by a rename so open BI sessions keep a complete version.",
)
def bi_copy(warehouse: WarehouseResource, publishing: PublishConfigResource) -> dg.MaterializeResult:
    manifest = Path(DBT_PROJECT.manifest_path)
    personal = personal_columns_from_manifest(manifest)
    try:
        publication = publish(
            Path(warehouse.path), Path(publishing.directory), personal, publishing.personal_data,
            # A secret: from the environment at run time only, never in run config or logs.
            salt=os.environ.get("LEADSCORE_PUBLISH_HASH_SALT", ""),
            unpublished=unpublished_tables_from_manifest(manifest),
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
