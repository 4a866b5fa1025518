"""One Dagster asset per landing file family. Each materializes the family's raw tables (asset
keys equal the dbt source keys, so lineage connects to staging) and evaluates, in the same step,
the blocking reconciliation and quarantine-rate checks."""

from pathlib import Path

import dagster as dg

from assets.ingest import checks
from assets.ingest.ledger import RAW_SCHEMA
from assets.ingest.sources import RAW_TABLES, RawTable, ingest_source
from orchestration.resources import IngestionConfigResource, WarehouseResource

# All writers to the DuckDB file share this pool; its limit (1) is set in dagster.yaml.
WAREHOUSE_POOL = "duckdb_warehouse"

def raw_asset_key(table: RawTable) -> dg.AssetKey:
    return dg.AssetKey([table.source, table.name])

def _check_result(table: RawTable, name: str, outcome: checks.CheckOutcome) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=raw_asset_key(table), check_name=name, passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR, description=outcome.message,
        metadata={"message": outcome.message, **outcome.metadata},
    )

def _table_metadata(con, table: RawTable, loads) -> dict:
    target = f"{RAW_SCHEMA}.{table.identifier}"
    new_files = [load for load in loads if load.target_table == target]
    return {
        "dagster/row_count": con.execute(f"select count(*) from {target}").fetchone()[0],
        "new_files": len(new_files),
        "rows_loaded_this_run": sum(load.rows_loaded for load in new_files),
        "rows_quarantined_this_run": sum(load.rows_quarantined for load in new_files),
    }


def build_ingestion_asset(source: str) -> dg.AssetsDefinition:
    tables = RAW_TABLES[source]
    specs = [
        dg.AssetSpec(
            raw_asset_key(table), group_name="raw", kinds={"duckdb"}, skippable=True,
            description=f"Raw {table.name} from the landing folder's {source}/ files "
                        f"({RAW_SCHEMA}.{table.identifier}), text as delivered plus load metadata.",
        )
        for table in tables
    ]
    check_specs = [
        dg.AssetCheckSpec(name, asset=raw_asset_key(table), blocking=True, description=text)
        for table in tables
        for name, text in (
            ("reconciliation", "rows read = loaded + quarantined for every file; raw rows match the manifest"),
            ("quarantine_rate",
             "share of the latest delivery's rows quarantined stays under LEADSCORE_QUARANTINE_MAX_RATE"),
        )
    ]

    @dg.multi_asset(
        name=f"ingest_{source}", specs=specs, check_specs=check_specs, pool=WAREHOUSE_POOL,
        description=f"Load new files of landing/{source}/ into the raw schema (idempotent by checksum).",
    )
    def ingest(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, ingestion: IngestionConfigResource
    ):
        with warehouse.connection() as con:
            loads = ingest_source(con, Path(ingestion.landing), source, ingestion.crm_mapping)
            for load in loads:
                context.log.info(
                    f"{load.file.relative_path}: {load.status}, read {load.rows_read}, "
                    f"loaded {load.rows_loaded}, quarantined {load.rows_quarantined}"
                    + (f" ({load.message})" if load.message else "")
                )
            rate = checks.quarantine_rate(con, source, ingestion.quarantine_max_rate)
            for table in tables:
                outcomes = {"reconciliation": checks.reconciliation(con, table), "quarantine_rate": rate}
                # A table whose blocking check fails is not materialized, so nothing downstream of
                # it runs on bad data; its rows stay in the raw table and quarantine for inspection.
                if all(outcome.passed for outcome in outcomes.values()):
                    yield dg.MaterializeResult(
                        asset_key=raw_asset_key(table), metadata=_table_metadata(con, table, loads)
                    )
                for name, outcome in outcomes.items():
                    yield _check_result(table, name, outcome)

    return ingest

INGESTION_ASSETS = [build_ingestion_asset(source) for source in RAW_TABLES]
