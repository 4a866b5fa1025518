"""The landing file families and the raw tables each one loads.

One function, `ingest_source`, loads every new file of a family; Dagster wraps it as one asset
per family whose outputs are the family's raw tables.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from leadscore.ingest import csv_loader, email_events, weblogs
from leadscore.ingest.landing import LandingFile, discover
from leadscore.ingest.ledger import (
    FileLoad,
    ensure_ledger,
    files_to_load,
    known_checksums,
    reject_unreadable,
    unrecorded_files,
    utc_now,
)
from leadscore.ingest.lines import line_file_batches
from leadscore.ingest.mapping import Mapping, MappingError, load_mapping
from leadscore.warehouse import DiskFullError, is_disk_full


@dataclass(frozen=True)
class RawTable:
    source: str  # dbt source name (and first part of the Dagster asset key)
    name: str  # dbt source table name (second part of the asset key)
    identifier: str  # the table in the raw schema


# The raw tables staging reads; a custom CRM mapping may fill fewer of them, never others.
CRM_TABLES = {
    "leads": "crm_leads", "contacts": "crm_contacts", "accounts": "crm_accounts",
    "opportunities": "crm_opportunities",
    "opportunity_contact_roles": "crm_opportunity_contact_roles", "campaigns": "crm_campaigns",
    "campaign_members": "crm_campaign_members", "tasks": "crm_tasks",
    "lead_history": "crm_lead_history", "users": "crm_users",
}
RAW_TABLES: dict[str, list[RawTable]] = {
    "crm": [RawTable("crm", name, identifier) for name, identifier in CRM_TABLES.items()],
    "weblogs": [RawTable("weblogs", "hits", weblogs.TABLE)],
    "forms": [RawTable("forms", "submissions", "form_submissions")],
    "email": [RawTable("email", "events", email_events.TABLE)],
    "signals": [RawTable("signals", "account_signals", "account_signals")],
    "adjustments": [RawTable("adjustments", "score_adjustments", "score_adjustments")],
}
SOURCES = tuple(RAW_TABLES)


def crm_mapping(name_or_path: str) -> Mapping:
    """The user's CRM mapping, checked against the raw CRM tables staging expects."""
    mapping = load_mapping(name_or_path)
    unknown = sorted(set(mapping.tables) - set(CRM_TABLES.values()))
    if unknown:
        raise MappingError(
            f"{mapping.path}: table(s) {', '.join(unknown)} are not raw CRM tables "
            f"(use: {', '.join(sorted(CRM_TABLES.values()))})"
        )
    return mapping


CSV_SOURCES = ("crm", "forms", "signals", "adjustments")
# The errors of a file the readers cannot get through (csv.Error: a header line Python's CSV
# reader cannot split, a lone carriage return); disk full is told apart by `is_disk_full`.
READER_ERRORS = (duckdb.IOException, duckdb.InvalidInputException, OSError, EOFError, csv.Error)
# Natural keys of the raw tables not loaded through a mapping (web log lines have none).
_OTHER_KEYS = {email_events.TABLE: "event_id"}


def csv_mapping(source: str, crm_mapping_name: str = "salesforce") -> Mapping | None:
    """The mapping a CSV family is loaded with; None for the other families."""
    if source == "crm":
        return crm_mapping(crm_mapping_name)
    return load_mapping(source) if source in CSV_SOURCES else None


def natural_key(table: RawTable, mapping: Mapping | None) -> str | None:
    """The raw column that identifies a record of `table` (the mapping's key for CSV families)."""
    if mapping is None:
        return _OTHER_KEYS.get(table.identifier)
    key = next((obj.key for obj in mapping.objects if obj.table == table.identifier), None)
    if key is None and table.source == "crm":
        # A CRM mapping may fill fewer tables; the canonical raw columns stay the same.
        return natural_key(table, load_mapping("salesforce"))
    return key


def _prepare(con: duckdb.DuckDBPyConnection, source: str, mapping_name: str
             ) -> tuple[Callable[[list[LandingFile], datetime], list[FileLoad]],
                        Callable[[list[LandingFile]], Iterable[list[LandingFile]]]]:
    """Create the source's raw tables; return its loader of a batch of files and how it batches
    files (CSV files are loaded one at a time, line files in batches of one read)."""
    mapping = csv_mapping(source, mapping_name)
    if mapping is not None:
        if source == "crm":
            # The canonical columns first, so staging always finds them, then the user's extras.
            csv_loader.ensure_tables(con, load_mapping("salesforce"))
        csv_loader.ensure_tables(con, mapping)
        def load_csv(files: list[LandingFile], at: datetime) -> list[FileLoad]:
            return [csv_loader.load_file(con, file, source, mapping.with_delivery(delivery_time(file)), at)
                    for file in files]

        return load_csv, _one_by_one
    if source == "weblogs":
        weblogs.ensure_table(con)
        return (lambda files, at: weblogs.load_files(con, files, at)), line_file_batches
    if source == "email":
        email_events.ensure_table(con)
        return (lambda files, at: email_events.load_files(con, files, at)), line_file_batches
    raise ValueError(f"unknown source {source!r} (known: {', '.join(SOURCES)})")


def _one_by_one(files: list[LandingFile]) -> Iterable[list[LandingFile]]:
    return ([file] for file in files)


# An export folder named by its date, optionally with a time: 2026-06-30, 2026-06-30T0815, 2026-06-30_08-15-00.
_DATED_FOLDER = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[T_ ](\d{2})[:\-]?(\d{2})(?:[:\-]?(\d{2}))?)?")


def delivery_time(file: LandingFile) -> datetime:
    """When a file was delivered, for `default: delivery`: the date (and time) its export folder
    is named by, in UTC (crm/2026-06-30/Lead.csv), else the file's modification time; the folder
    name survives copies that reset modification times."""
    for folder in reversed(file.relative_path.split("/")[:-1]):
        match = _DATED_FOLDER.fullmatch(folder)
        if match:
            day, hour, minute, second = match.groups()
            with suppress(ValueError):  # 2026-02-30 is no date: try the next folder
                return datetime.fromisoformat(day).replace(
                    hour=int(hour or 0), minute=int(minute or 0), second=int(second or 0), tzinfo=UTC
                )
    return datetime.fromtimestamp(file.modified_ns / 1e9, tz=UTC)


@contextmanager
def checkpoint_once(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Commit each file to the write-ahead log only, and checkpoint once at the end.

    By default DuckDB checkpoints whenever the log passes 16 MB, which rewrites the tables'
    last row groups again and again while a backlog of files loads: at 500 daily files that
    was half of the email ingestion. Commits stay durable (the log is synced at each one)."""
    threshold = con.execute("select current_setting('checkpoint_threshold')").fetchone()[0]
    con.execute("set checkpoint_threshold = '1TB'")
    try:
        yield
    finally:
        with suppress(duckdb.Error):  # a connection a failure invalidated keeps that failure's error
            con.execute(f"set checkpoint_threshold = '{threshold}'")
    con.execute("checkpoint")


def landed_files(con: duckdb.DuckDBPyConnection, landing_root: Path, source: str) -> list[LandingFile]:
    """The source's complete landing files; only those not recorded with the same path, size and
    modification time are hashed."""
    return discover(landing_root, source, known_checksums(con, source))


def new_landing_files(con: duckdb.DuckDBPyConnection, landing_root: Path, source: str) -> list[LandingFile]:
    """The files of `source` the next ingestion would load or record; writes nothing."""
    return unrecorded_files(con, landed_files(con, landing_root, source))


def ingest_source(
    con: duckdb.DuckDBPyConnection, landing_root: Path, source: str, crm_mapping_name: str = "salesforce"
) -> list[FileLoad]:
    """Load every file of `source` not loaded before; return what happened to each.

    The files of one call share one `loaded_at`: together they are the source's latest delivery.
    """
    loads: list[FileLoad] = []
    # Read now: a failed checkpoint invalidates the connection, which then cannot name its file.
    path = warehouse_path(con)
    try:
        ensure_ledger(con)
        load_files, batches = _prepare(con, source, crm_mapping_name)
        delivered_at = utc_now()
        new_files = files_to_load(con, source, landed_files(con, landing_root, source), delivered_at)

        def load_batch(batch: list[LandingFile]) -> list[FileLoad]:
            try:
                return load_files(batch, delivered_at)
            except READER_ERRORS as error:
                if is_disk_full(error):
                    raise  # the warehouse cannot be written, the files themselves are fine
                if len(batch) > 1:
                    # The batch was rolled back: load its files one by one, so only the file
                    # the reader cannot get through is rejected.
                    return [load for file in batch for load in load_batch([file])]
                return [reject_unreadable(con, source, batch[0], delivered_at, error)]

        # Nothing new (a no-op run) writes nothing to checkpoint.
        with checkpoint_once(con) if new_files else nullcontext():
            for batch in batches(new_files):
                loads.extend(load_batch(batch))
        # In the order of the files (batches group them by compression).
        order = {file.relative_path: position for position, file in enumerate(new_files)}
        loads.sort(key=lambda load: order[load.file.relative_path])
    except (duckdb.Error, OSError) as error:
        if not is_disk_full(error):
            raise
        # Each file (a batch of line files) is one transaction: those committed before stay, the
        # one being written is rolled back when DuckDB next opens the warehouse, and a later run
        # loads the rest.
        raise DiskFullError(
            f"The disk holding the warehouse {path} is full ({error}). {len(loads)} file(s) "
            f"of {source} were loaded before; free some space and run again: nothing is loaded twice."
        ) from error
    return loads


def warehouse_path(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("select path from duckdb_databases() where database_name = current_database()").fetchone()[0]
