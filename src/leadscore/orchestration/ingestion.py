"""One Dagster asset per landing file family. Each materializes the family's raw tables (asset
keys equal the dbt source keys, so lineage connects to staging) and evaluates, in the same step,
its checks: the blocking ones (reconciliation, quarantine rate, duplicate keys, required columns
of CSV headers) decide whether a table is materialized; the others (header drift, row count
against the previous run) only warn."""

from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from leadscore.checks import row_counts
from leadscore.ingest import checks, header_checks
from leadscore.ingest.ledger import RAW_SCHEMA
from leadscore.ingest.sources import CSV_SOURCES, RAW_TABLES, RawTable, csv_mapping, ingest_source, natural_key
from leadscore.orchestration.resources import ChecksConfigResource, IngestionConfigResource, WarehouseResource

# All writers to the DuckDB file share this pool; its limit (1) is set in dagster.yaml.
WAREHOUSE_POOL = "duckdb_warehouse"
WARNS_ONLY = " Warns only: downstream work goes on."


def raw_asset_key(table: RawTable) -> dg.AssetKey:
    return dg.AssetKey([table.source, table.name])


@dataclass(frozen=True)
class RawCheck:
    name: str
    description: str
    blocking: bool
    csv_only: bool = False

    @property
    def severity(self) -> dg.AssetCheckSeverity:
        return dg.AssetCheckSeverity.ERROR if self.blocking else dg.AssetCheckSeverity.WARN

    def spec(self, table: RawTable) -> dg.AssetCheckSpec:
        description = self.description + ("" if self.blocking else WARNS_ONLY)
        return dg.AssetCheckSpec(self.name, asset=raw_asset_key(table), blocking=self.blocking, description=description)


RAW_CHECKS = (
    RawCheck("reconciliation", "rows read = loaded + quarantined for every file; raw rows match the manifest", True),
    RawCheck("quarantine_rate",
             "share of the rows of the table's files in the latest delivery quarantined stays under "
             "LEADSCORE_QUARANTINE_MAX_RATE (a table no file fed passes); files "
             "accepted with `python -m leadscore.ingest.acceptance` are left out and named with who accepted them "
             "and why", True),
    RawCheck("duplicate_keys", "the natural key appears once per file in the latest delivery; "
             "the message names the file, the key values and their lines", True),
    RawCheck("landing_header", "every file of the latest delivery has the columns the mapping requires, once each; "
             "the message names the file and the columns", True, csv_only=True),
    RawCheck("header_drift", "columns new to the mapping or gone since the previous file of the same object; "
             "the message names the files and the columns.", False, csv_only=True),
    RawCheck("row_count", "row count against the previous run, within LEADSCORE_ROW_COUNT_MAX_DROP and "
             "LEADSCORE_ROW_COUNT_MAX_JUMP.", False),
)


def checks_for(table: RawTable) -> list[RawCheck]:
    is_csv = table.source in CSV_SOURCES
    return [check for check in RAW_CHECKS if is_csv or not check.csv_only]


def _check_result(table: RawTable, check: RawCheck, outcome: checks.CheckOutcome) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=raw_asset_key(table), check_name=check.name, passed=outcome.passed,
        severity=check.severity, description=outcome.message,
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
    check_specs = [check.spec(table) for table in tables for check in checks_for(table)]

    @dg.multi_asset(
        name=f"ingest_{source}", specs=specs, check_specs=check_specs, pool=WAREHOUSE_POOL,
        description=f"Load new files of landing/{source}/ into the raw schema (idempotent by checksum).",
    )
    def ingest(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, ingestion: IngestionConfigResource,
        checks_config: ChecksConfigResource,
    ):
        mapping = csv_mapping(source, ingestion.crm_mapping)
        with warehouse.connection() as con:
            loads = ingest_source(con, Path(ingestion.landing), source, ingestion.crm_mapping)
            for load in loads:
                context.log.info(
                    f"{load.file.relative_path}: {load.status}, read {load.rows_read}, "
                    f"loaded {load.rows_loaded}, quarantined {load.rows_quarantined}"
                    + (f" ({load.message})" if load.message else "")
                )
            for table in tables:
                outcomes = {
                    "reconciliation": checks.reconciliation(con, table),
                    # Per table: a bad file fails the table it was loaded into, not the whole family.
                    "quarantine_rate": checks.quarantine_rate(
                        con, source, ingestion.quarantine_max_rate, table, mapping
                    ),
                    "duplicate_keys": checks.duplicate_keys(con, table, natural_key(table, mapping)),
                    "row_count": row_counts.record_and_compare(
                        con, f"{RAW_SCHEMA}.{table.identifier}", context.run_id, checks_config.row_count_limits()
                    ),
                }
                if mapping is not None:
                    outcomes["landing_header"] = header_checks.landing_header(con, table, mapping)
                    outcomes["header_drift"] = header_checks.header_drift(con, table, mapping)
                table_checks = checks_for(table)
                # A table whose blocking check fails is not materialized, so nothing downstream of
                # it runs on bad data; its rows stay in the raw table and quarantine for inspection.
                if all(outcomes[check.name].passed for check in table_checks if check.blocking):
                    yield dg.MaterializeResult(
                        asset_key=raw_asset_key(table), metadata=_table_metadata(con, table, loads)
                    )
                for check in table_checks:
                    yield _check_result(table, check, outcomes[check.name])

    return ingest

INGESTION_ASSETS = [build_ingestion_asset(source) for source in RAW_TABLES]
