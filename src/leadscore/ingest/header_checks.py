"""Schema drift in CSV deliveries. Each file's header is recorded in raw.load_manifest; these
checks compare the latest delivery of a table with its mapping (a required column missing: the
file cannot be loaded) and with the file of the same object delivered before it (columns that
appeared or disappeared)."""

from __future__ import annotations

import duckdb

from leadscore.checks.outcome import CheckOutcome
from leadscore.ingest.ledger import DUPLICATE, EMPTY, RAW_SCHEMA
from leadscore.ingest.mapping import Mapping, ObjectMapping
from leadscore.ingest.sources import RawTable


def _headers(con: duckdb.DuckDBPyConnection, target: str) -> list[tuple[str, str, list[str], bool]]:
    """(object, file, header, in the latest delivery) of every file with a recorded header, in
    delivery order (then by path, which puts dated file names in date order)."""
    return con.execute(
        f"""with files as (
                select object_name, source_file, header, loaded_at, source_file as path
                from {RAW_SCHEMA}.load_manifest
                where target_table = ? and header is not null and status not in (?, ?)
            )
            select object_name, source_file, header, loaded_at = (select max(loaded_at) from files)
            from files order by object_name, loaded_at, path""",
        [target, DUPLICATE, EMPTY],
    ).fetchall()


def _object(mapping: Mapping, name: str) -> ObjectMapping | None:
    return next((obj for obj in mapping.objects if obj.object_name == name), None)


def landing_header(con: duckdb.DuckDBPyConnection, table: RawTable, mapping: Mapping) -> CheckOutcome:
    """Every file of the table's latest delivery has the columns its mapping requires, once each.
    Such a file is quarantined whole; this names the file and the columns. Checked against the
    current mapping, so relaxing the mapping clears it as well as a corrected delivery does."""
    target = f"{RAW_SCHEMA}.{table.identifier}"
    latest = [(name, path, header) for name, path, header, is_latest in _headers(con, target) if is_latest]
    problems = []
    for name, path, header in latest:
        obj = _object(mapping, name)
        if obj is None:
            continue
        missing = sorted({s for c in obj.columns if c.required for s in c.sources} - set(header))
        # Case ignored, as DuckDB does for column names (and the loader with it).
        folded = [h.lower() for h in header]
        repeated = sorted({h for h in header if folded.count(h.lower()) > 1})
        if missing:
            problems.append(f"{path} lacks column(s) {', '.join(missing)} required by mapping "
                            f"{mapping.name} object {name}")
        if repeated:
            problems.append(f"{path} names column(s) {', '.join(repeated)} more than once")
    metadata = {"files": len(latest), "mapping": mapping.name}
    if problems:
        return CheckOutcome(False, f"{target}: " + "; ".join(problems[:10]), metadata)
    if not latest:
        return CheckOutcome(True, f"{target}: no CSV delivery with a recorded header yet", metadata)
    return CheckOutcome(
        True,
        f"{target}: the latest delivery's {len(latest)} file(s) have every column mapping {mapping.name} requires",
        metadata,
    )


def header_drift(con: duckdb.DuckDBPyConnection, table: RawTable, mapping: Mapping) -> CheckOutcome:
    """Each file of the latest delivery has the same columns as the file of the same object
    before it. New columns the mapping does not name land in custom_fields (rules may not know
    them); a column that disappears leaves its raw column empty from then on."""
    target = f"{RAW_SCHEMA}.{table.identifier}"
    changes = []
    compared = 0
    previous: tuple[str, str, list[str]] | None = None
    for name, path, header, is_latest in _headers(con, target):
        before = previous if previous is not None and previous[0] == name else None
        previous = (name, path, header)
        if not is_latest or before is None:
            continue
        compared += 1
        obj = _object(mapping, name)
        mapped = obj.source_columns if obj is not None else set()
        added = [h for h in header if h not in before[2] and h not in mapped]
        removed = [h for h in before[2] if h not in header]
        parts = []
        if added:
            parts.append(f"new column(s) {', '.join(added)} not in mapping {mapping.name} (kept in custom_fields)")
        if removed:
            gone_mapped = [h for h in removed if h in mapped]
            parts.append(
                f"column(s) {', '.join(removed)} no longer delivered (present in {before[1]})"
                + (f"; mapped column(s) {', '.join(gone_mapped)} will be empty" if gone_mapped else "")
            )
        if parts:
            changes.append(f"{path}: " + "; ".join(parts))
    metadata = {"files_compared": compared, "files_changed": len(changes)}
    if changes:
        return CheckOutcome(False, f"{target}: header changed since the previous delivery: " + " | ".join(changes[:10]),
                            metadata)
    if not compared:
        return CheckOutcome(True, f"{target}: no earlier file of the same object to compare with", metadata)
    return CheckOutcome(True, f"{target}: {compared} file(s) have the same columns as the file before them", metadata)
