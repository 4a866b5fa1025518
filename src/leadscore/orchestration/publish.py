"""Publishing for BI tools after each run: a separate DuckDB file and Parquet files, swapped in
whole, with personal data kept, hashed or dropped as configured, and the dbt descriptions as
comments, Parquet metadata and a data dictionary."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from leadscore.orchestration.dbt import DBT_PROJECT, dbt_models
from leadscore.orchestration.dbt_checks import PUBLISH_METADATA_KEY
from leadscore.orchestration.feedback import (
    BACKTEST,
    BACKTEST_BANDS,
    FEEDBACK_ASSETS,
    PREDICTIVE_CALIBRATION,
    PREDICTIVE_COEFFICIENTS,
    PREDICTIVE_SCORES,
    TEST_BENCH,
)
from leadscore.orchestration.ingestion import WAREHOUSE_POOL
from leadscore.orchestration.resources import WarehouseResource
from leadscore.publish.bi_copy import PUBLISHED_SCHEMAS, PublishError, TableDocs, publish, read_manifest


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


def python_table_docs() -> dict[tuple[str, str], TableDocs]:
    """The tables of a published schema written by Python assets (feedback.*), which dbt does not
    describe: their Dagster asset descriptions (asset key = schema, table)."""
    return {
        (spec.key.path[0], spec.key.path[1]): TableDocs(spec.description or "")
        for assets_def in FEEDBACK_ASSETS for spec in assets_def.specs
        if len(spec.key.path) == 2 and spec.key.path[0] in PUBLISHED_SCHEMAS and spec.description
    }


class PublishConfigResource(dg.ConfigurableResource):
    directory: str
    personal_data: str = "keep"


@dg.asset(
    key=["published", "bi_copy"],
    deps=PUBLISHED_INPUTS,
    pool=WAREHOUSE_POOL,
    group_name="published",
    description="The copy BI tools read: published/leadscore.duckdb and published/parquet/<schema>/<table>.parquet "
    "in the warehouse's output folder (data/warehouse/leadscore_outputs), each replaced whole by a rename so "
    "open BI sessions keep a complete version; only tables whose rows changed are written again; the dbt "
    "descriptions as table and column comments, Parquet metadata and data_dictionary.csv beside them.",
)
def bi_copy(warehouse: WarehouseResource, publishing: PublishConfigResource) -> dg.MaterializeResult:
    catalog = read_manifest(Path(DBT_PROJECT.manifest_path))
    try:
        publication = publish(
            Path(warehouse.path), Path(publishing.directory), catalog.personal_columns, publishing.personal_data,
            # A secret: from the environment at run time only, never in run config or logs.
            salt=os.environ.get("LEADSCORE_PUBLISH_HASH_SALT", ""),
            unpublished=catalog.unpublished,
            docs={**python_table_docs(), **catalog.docs},
        )
    except PublishError as error:
        raise dg.Failure(description=str(error)) from None
    tables = {f"{t.schema}.{t.table}": t.rows for t in publication.tables}
    rewritten = [f"{t.schema}.{t.table}" for t in publication.tables if t.rewritten]
    return dg.MaterializeResult(metadata={
        "database": dg.MetadataValue.path(str(publication.database)),
        "parquet": dg.MetadataValue.path(str(publication.parquet_dir)),
        "data dictionary": dg.MetadataValue.path(str(publication.dictionary)),
        "tables": dg.MetadataValue.json(tables),
        # Tables whose rows changed since the previous copy; the others were kept as they were.
        "tables rewritten": dg.MetadataValue.json(rewritten),
        # Of those, the tables where only the changed people's rows were written again, and how many.
        "tables patched": dg.MetadataValue.json(
            {f"{t.schema}.{t.table}": t.patched_rows for t in publication.tables if t.patched_rows is not None}),
        "personal data": publishing.personal_data,
    })
