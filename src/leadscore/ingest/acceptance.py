"""Accepting a delivery with bad rows: an operator's audited decision that one landing file, as
loaded, no longer fails its source's quarantine-rate check.

    python -m leadscore.ingest.acceptance accept weblogs/2026/06/access-2026-06-30-extra.log --reason "..."
    python -m leadscore.ingest.acceptance list [--history]
    python -m leadscore.ingest.acceptance revoke weblogs/2026/06/access-2026-06-30-extra.log --reason "..."

A file is identified by its load: its path relative to the landing folder and its checksum as
recorded in raw.load_manifest, so a re-delivered, different version of the same path is judged
again. Decisions are appended to raw.accepted_deliveries (who, when, why, and the rows quarantined
at the time); a load's latest row is its state. The quarantined rows stay in raw.quarantine and
reconciliation still counts them: only the quarantine-rate check leaves accepted files out.
"""

from __future__ import annotations

import argparse
import difflib
import getpass
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

import duckdb

from leadscore.ingest.ledger import RAW_SCHEMA, ensure_ledger, utc_now
from leadscore.settings import load_settings
from leadscore.warehouse import WarehouseLockedError, connect

DECISIONS_TABLE = f"{RAW_SCHEMA}.accepted_deliveries"
COMMAND = "python -m leadscore.ingest.acceptance"
_DECISION_COLUMNS = ("decision_id, source, source_file, file_checksum, rows_read, rows_quarantined, accepted, "
                     "reason, decided_by, decided_at")


class AcceptanceError(ValueError):
    """A request the operator has to correct (unknown file, no reason, nothing to accept)."""


@dataclass(frozen=True)
class Decision:
    decision_id: int
    source: str
    source_file: str
    file_checksum: str
    rows_read: int
    rows_quarantined: int
    accepted: bool
    reason: str
    decided_by: str
    decided_at: datetime

    def describe(self) -> str:
        verb = "accepted" if self.accepted else "revoked"
        return (f"{self.source_file} ({self.rows_quarantined}/{self.rows_read} rows) {verb} by {self.decided_by} "
                f"on {self.decided_at:%Y-%m-%d %H:%M} UTC: {self.reason}")


@dataclass(frozen=True)
class Load:
    source: str
    source_file: str
    file_checksum: str
    rows_read: int
    rows_quarantined: int
    status: str
    message: str | None


def current_decisions(con: duckdb.DuckDBPyConnection) -> list[Decision]:
    """The latest decision on each load (path and checksum), accepted or revoked."""
    rows = con.execute(
        f"""select {_DECISION_COLUMNS} from {DECISIONS_TABLE}
            qualify row_number() over (partition by source_file, file_checksum order by decision_id desc) = 1
            order by source_file, decision_id"""
    ).fetchall()
    return [Decision(*row) for row in rows]


def history(con: duckdb.DuckDBPyConnection) -> list[Decision]:
    rows = con.execute(f"select {_DECISION_COLUMNS} from {DECISIONS_TABLE} order by decision_id").fetchall()
    return [Decision(*row) for row in rows]


def accepted_loads(con: duckdb.DuckDBPyConnection, source: str) -> dict[tuple[str, str], Decision]:
    """The source's loads currently accepted, by (path, checksum)."""
    return {(d.source_file, d.file_checksum): d for d in current_decisions(con) if d.source == source and d.accepted}


def last_decided_at(con: duckdb.DuckDBPyConnection) -> float | None:
    """When the latest acceptance or revocation was recorded (seconds since the epoch), None when
    there is none or the warehouse predates the table (read-only connections cannot create it)."""
    if not has_decisions_table(con):
        return None
    return con.execute(f"select epoch(max(decided_at)) from {DECISIONS_TABLE}").fetchone()[0]


def has_decisions_table(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [RAW_SCHEMA, DECISIONS_TABLE.split(".", 1)[1]],
    ).fetchone()[0] > 0


def latest_load(con: duckdb.DuckDBPyConnection, source_file: str) -> Load | None:
    """The most recent load of a landing path (a rewritten file has one load per version)."""
    row = con.execute(
        f"""select source, source_file, file_checksum, rows_read, rows_quarantined, status, message
            from {RAW_SCHEMA}.load_manifest where source_file = ?
            order by loaded_at desc limit 1""",
        [source_file],
    ).fetchone()
    return Load(*row) if row else None


def accept(con: duckdb.DuckDBPyConnection, source_file: str, reason: str, by: str) -> Decision:
    """Accept the latest load of `source_file` (its quarantined rows no longer fail the check)."""
    reason, by = _required(reason, "reason"), _required(by, "name (--by)")
    load = latest_load(con, source_file)
    if load is None:
        raise unknown_file(con, source_file)
    if not load.rows_quarantined:
        detail = f" ({load.message})" if load.message else ""
        raise AcceptanceError(
            f"{source_file} has no quarantined rows ({load.rows_read} read, {load.status}{detail}): nothing to accept."
        )
    current = next((d for d in current_decisions(con)
                    if (d.source_file, d.file_checksum) == (source_file, load.file_checksum)), None)
    if current is not None and current.accepted:
        raise AcceptanceError(f"Already accepted: {current.describe()}. Revoke it first to record another reason.")
    return _record(con, load, True, reason, by)


def revoke(con: duckdb.DuckDBPyConnection, source_file: str, reason: str, by: str) -> list[Decision]:
    """Revoke every accepted version of `source_file` (normally one): its quarantined rows count again."""
    reason, by = _required(reason, "reason"), _required(by, "name (--by)")
    accepted = [d for d in current_decisions(con) if d.source_file == source_file and d.accepted]
    if not accepted:
        if latest_load(con, source_file) is None:
            raise unknown_file(con, source_file)
        raise AcceptanceError(f"{source_file} is not accepted: nothing to revoke (see `{COMMAND} list`).")
    loads = [Load(d.source, d.source_file, d.file_checksum, d.rows_read, d.rows_quarantined, "", None)
             for d in accepted]
    return [_record(con, load, False, reason, by) for load in loads]


def _required(value: str | None, what: str) -> str:
    if not (value or "").strip():
        raise AcceptanceError(f"A {what} is required: the decision is kept for audit.")
    return value.strip()


def _record(con: duckdb.DuckDBPyConnection, load: Load, accepted: bool, reason: str, by: str) -> Decision:
    # The warehouse has one writer at a time, so the next id cannot be taken twice.
    (decision_id,) = con.execute(f"select coalesce(max(decision_id), 0) + 1 from {DECISIONS_TABLE}").fetchone()
    decision = Decision(decision_id, load.source, load.source_file, load.file_checksum, load.rows_read,
                        load.rows_quarantined, accepted, reason, by, utc_now())
    con.execute(f"insert into {DECISIONS_TABLE} ({_DECISION_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [decision.decision_id, decision.source, decision.source_file, decision.file_checksum,
                 decision.rows_read, decision.rows_quarantined, decision.accepted, decision.reason,
                 decision.decided_by, decision.decided_at])
    return decision


def unknown_file(con: duckdb.DuckDBPyConnection, source_file: str) -> AcceptanceError:
    """The error for a path with no load: the closest recorded path and the source's files with
    quarantined rows, so a typo or a path not relative to the landing folder is easy to fix."""
    source = PurePosixPath(source_file).parts[0] if source_file else ""
    paths = [path for (path,) in con.execute(
        f"select distinct source_file from {RAW_SCHEMA}.load_manifest order by 1").fetchall()]
    quarantined = [path for (path,) in con.execute(
        f"""select source_file from {RAW_SCHEMA}.load_manifest where source = ?
            group by source_file having max(rows_quarantined) > 0 order by 1""", [source]).fetchall()]
    lines = [f"No load of {source_file} in {RAW_SCHEMA}.load_manifest "
             "(give the path relative to the landing folder, as the check names it)."]
    closest = difflib.get_close_matches(source_file, paths, n=1, cutoff=0.5)
    if closest:
        lines.append(f"Closest match: {closest[0]}")
    if quarantined:
        shown = quarantined[:20]
        more = f" and {len(quarantined) - len(shown)} more" if len(quarantined) > len(shown) else ""
        lines.append(f"Files of {source} with quarantined rows: {', '.join(shown)}{more}")
    else:
        sources = sorted({path.split("/", 1)[0] for path in paths})
        known = source in sources
        lines.append(f"No file of {source} has quarantined rows." if known
                     else f"{source!r} is no source with loaded files (sources: {', '.join(sources) or 'none yet'}).")
    return AcceptanceError("\n".join(lines))


def landing_relative(name: str, landing: Path) -> str:
    """The path as the ledger records it: relative to the landing folder, with forward slashes.
    A path to the file itself (absolute, or relative to the current folder) works too."""
    path = Path(name).expanduser()
    if path.is_absolute() or path.exists():
        try:
            return path.resolve().relative_to(landing.resolve()).as_posix()
        except ValueError:
            pass
    return PurePosixPath(name.strip().replace("\\", "/")).as_posix()


def operator_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in a bare container
        return ""


def _list(con: duckdb.DuckDBPyConnection, whole_history: bool) -> str:
    decisions = history(con) if whole_history else [d for d in current_decisions(con) if d.accepted]
    if not decisions:
        return "No decision recorded." if whole_history else "No file is accepted."
    lines = []
    for decision in decisions:
        line = f"  #{decision.decision_id} {decision.describe()} [checksum {decision.file_checksum[:12]}]"
        latest = latest_load(con, decision.source_file)
        if decision.accepted and latest and latest.file_checksum != decision.file_checksum:
            line += "; a newer version of the file was loaded since and is not accepted"
        lines.append(line)
    title = "Decisions, oldest first:" if whole_history else "Accepted files (latest decision per file):"
    return "\n".join([title, *lines])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=COMMAND, description="Accept a landing file whose quarantined rows fail its source's "
                                  "quarantine-rate check, list the decisions, or revoke one.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("accept", "accept the file as loaded (path and checksum)"),
                       ("revoke", "count the file's quarantined rows again")):
        command = commands.add_parser(name, help=text)
        command.add_argument("file", help="path relative to the landing folder, as the check names it")
        command.add_argument("--reason", required=True, help="why (kept for audit)")
        command.add_argument("--by", default=operator_name(), help="who decides (default: the OS user)")
    listing = commands.add_parser("list", help="the files accepted now")
    listing.add_argument("--history", action="store_true", help="every decision, revocations included")
    args = parser.parse_args(argv)

    settings = load_settings()
    if not settings.warehouse.is_file():
        print(f"No warehouse at {settings.warehouse}: nothing has been loaded yet.", file=sys.stderr)
        return 1
    try:
        with connect(settings.warehouse, read_only=args.command == "list") as con:
            print(_command(con, args, settings.landing))
    except WarehouseLockedError as error:
        print(f"{error}\nIf a pipeline run holds it, try again once the run has ended.", file=sys.stderr)
        return 1
    except AcceptanceError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


def _command(con: duckdb.DuckDBPyConnection, args: argparse.Namespace, landing: Path) -> str:
    if args.command == "list":
        return _list(con, args.history) if has_decisions_table(con) else "No decision recorded."
    ensure_ledger(con)  # a warehouse older than the audit table gets it
    source_file = landing_relative(args.file, landing)
    if args.command == "accept":
        decision = accept(con, source_file, args.reason, args.by)
        return (f"Accepted {decision.source_file} [checksum {decision.file_checksum[:12]}]: "
                f"{decision.rows_quarantined} of {decision.rows_read} rows quarantined, by {decision.decided_by}.\n"
                f"The next runs' quarantine-rate check of {decision.source} leaves this version of the file out; "
                f"its rows stay in {RAW_SCHEMA}.quarantine.\nUndo: {COMMAND} revoke {source_file} --reason ...")
    return "\n".join(
        f"Revoked {decision.source_file} [checksum {decision.file_checksum[:12]}]: its "
        f"{decision.rows_quarantined} quarantined rows count again in the next run's check."
        for decision in revoke(con, source_file, args.reason, args.by)
    )

if __name__ == "__main__":
    sys.exit(main())
