"""Rendering web log lines and email events as text inside DuckDB, and their ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from leadscore.demo import catalog as cat
from leadscore.demo import site as web
from leadscore.demo.config import DAY, N_DAYS, PERIOD_START
from leadscore.demo.email_events import BOUNCE_REASONS, EMAIL_UAS, EVENT_TYPES
from leadscore.demo.fmt import positions_within, scramble
from leadscore.demo.weblog import (
    _EU_SUMMER,
    _US_SUMMER,
    EXTERNAL,
    GARBAGE,
    INVALID_UTF8_TOKEN,
    METHODS,
    OFFSETS,
    PROTOCOLS,
    TRAFFIC_CLASSES,
    UAS,
    Queries,
    _summer,
)
from leadscore.demo.writers import RAW_BYTES, copy_file, write_line_files

_OFFSET_SECONDS = np.array([0, 3600, 7200, -18000, -14400])
DUPLICATE_DAY = 437  # 2026-03-14: delivered twice


def day_names() -> np.ndarray:
    days = np.datetime64("2025-01-01") + np.arange(N_DAYS)
    return np.datetime_as_string(days, unit="D")


def weblog_paths(landing: Path) -> tuple[list[Path], list[bool]]:
    names = day_names()
    gz = [(k % 5 == 4) for k in range(N_DAYS)]
    paths = [
        landing / "weblogs" / d[:4] / d[5:7] / (f"access-{d}.log" + (".gz" if z else ""))
        for d, z in zip(names, gz, strict=True)
    ]
    return paths, gz


def email_paths(landing: Path) -> tuple[list[Path], list[bool]]:
    names = day_names()
    gz = [(k % 6 == 3) for k in range(N_DAYS)]
    paths = [
        landing / "email" / (f"email-events-{d}.jsonl" + (".gz" if z else "")) for d, z in zip(names, gz, strict=True)
    ]
    return paths, gz


def _set_list(con: duckdb.DuckDBPyConnection, name: str, values) -> None:
    """A small lookup list as a DuckDB variable: indexing it keeps a single-table SELECT, whose row
    order DuckDB preserves (a JOIN would not)."""
    con.execute(f"SET VARIABLE {name} = $1", [[str(v) for v in values]])


def _register(con: duckdb.DuckDBPyConnection, name: str, columns: dict) -> None:
    con.register(f"{name}_frame", pd.DataFrame(columns, copy=False))
    con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_frame")
    con.unregister(f"{name}_frame")


def _list_literal(values) -> str:
    return "[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def visitor_token_values(visitor: np.ndarray, seed: int) -> np.ndarray:
    """The number behind a visitor cookie (rendered as v-%010x); -1 for no cookie."""
    visitor = np.asarray(visitor, dtype=np.int64)
    return np.where(visitor >= 0, scramble(np.maximum(visitor, 0), 40, seed).astype(np.int64), -1)


def write_weblogs(
    con: duckdb.DuckDBPyConnection, req: dict, site: web.Site, queries: Queries, seed: int, landing: Path
) -> dict:
    """Render and write all web log files; returns files, line counts and the duplicated file."""
    # Small lookup lists only: indexing a long list variable copies it for every vector of rows.
    _set_list(con, "paths", site.paths["path"].to_numpy())
    _set_list(con, "queries", queries.text)
    _set_list(con, "externals", EXTERNAL)
    _set_list(con, "uas", UAS)
    _set_list(con, "garbage", GARBAGE)
    ref_key = req["ref_key"].astype(np.int64)
    internal = ref_key >= 0
    _register(
        con,
        "req",
        {
            "file_idx": req["file_day"].astype(np.int32),
            "line_no": req["line_no"].astype(np.int32),
            "ip": req["ip"].astype(np.int64),
            "ts_local": req["t"] + _OFFSET_SECONDS[req["off"]],
            "off": req["off"].astype(np.int8),
            "method": req["method"].astype(np.int8),
            "path": req["path"].astype(np.int16),
            "query": req["query"].astype(np.int16),
            "proto": req["proto"].astype(np.int8),
            "status": req["status"].astype(np.int16),
            "bytes": req["bytes"].astype(np.int64),
            "ref_ext": np.where(internal, -1, np.maximum(req["ref_ext"], 0)),
            "ref_path": np.where(internal, ref_key // 1_000_000, 0).astype(np.int16),
            "ref_query": np.where(internal, ref_key % 1_000_000, 0).astype(np.int16),
            "ua": req["ua"].astype(np.int32),
            "tok": visitor_token_values(req["visitor"], seed),
            "actor_tok": visitor_token_values(req["actor"], seed),
            "garbage": req["garbage"].astype(np.int32),
            "cut": req["cut"].astype(np.float32),
            "bad": req["bad_bytes"],
            "cls": req["cls"].astype(np.int8),
            "late": req["late"],
        },
    )
    ip = "concat((r.ip >> 24) & 255, '.', (r.ip >> 16) & 255, '.', (r.ip >> 8) & 255, '.', r.ip & 255)"
    stamp = (
        f"' - - [', strftime(make_timestamp(r.ts_local * 1000000), '%d/%b/%Y:%H:%M:%S'), ' ', "
        f"{_list_literal(OFFSETS)}[r.off + 1], '] \"'"
    )
    con.execute(f"""
        CREATE OR REPLACE VIEW weblines AS
        SELECT file_idx, CASE WHEN cut > 0 THEN left(line, greatest(12, CAST(length(line) * cut AS INTEGER)))
                              ELSE line END AS line
        FROM (
            SELECT r.file_idx, r.cut, CASE WHEN r.garbage >= 0
                THEN concat({ip}, {stamp}, getvariable('garbage')[r.garbage + 1], '" 400 226 "-" "-" "-"')
                ELSE concat({ip}, {stamp}, {_list_literal(METHODS)}[r.method + 1], ' ',
                    CASE WHEN r.bad THEN '/search?q={INVALID_UTF8_TOKEN}'
                         ELSE concat(getvariable('paths')[r.path + 1], getvariable('queries')[r.query + 1]) END,
                    ' ', {_list_literal(PROTOCOLS)}[r.proto + 1], '" ', r.status, ' ',
                    CASE WHEN r.bytes < 0 THEN '-' ELSE r.bytes::VARCHAR END,
                    ' "', CASE WHEN r.ref_ext >= 0 THEN getvariable('externals')[r.ref_ext + 1]
                               ELSE concat('{cat.SITE}', getvariable('paths')[r.ref_path + 1],
                                           getvariable('queries')[r.ref_query + 1]) END, '" "',
                    CASE WHEN r.ua < 0 THEN '-' ELSE getvariable('uas')[r.ua + 1] END, '" "',
                    CASE WHEN r.tok < 0 THEN '-' ELSE printf('v-%010x', r.tok) END, '"')
                END AS line
            FROM req r
        )
    """)
    files, gz = weblog_paths(landing)
    counts = np.bincount(req["file_day"].astype(np.int64), minlength=N_DAYS)
    raw_files = set(int(d) for d in np.unique(req["file_day"][req["bad_bytes"]]))
    write_line_files(con, "weblines", files, gz, counts, raw_files, INVALID_UTF8_TOKEN, RAW_BYTES)
    # One day is delivered twice (the same bytes under another name).
    dup_day = DUPLICATE_DAY if not gz[DUPLICATE_DAY] else DUPLICATE_DAY + 1
    src = files[dup_day]
    copy = src.with_name(src.name.replace(".log", " (1).log"))
    copy_file(src, copy)
    return {"paths": files, "counts": counts, "duplicate_day": dup_day, "duplicate_path": copy}


def weblog_truth(con: duckdb.DuckDBPyConnection, written: dict, landing: Path, out: Path) -> int:
    """One row per physical line of every web log file (the duplicate copy included), in file order."""
    names = [str(p.relative_to(landing)) for p in written["paths"]]
    dup_name = str(written["duplicate_path"].relative_to(landing)).replace("'", "''")
    _set_list(con, "files", names)
    columns = f"""r.line_no AS line_number, CASE WHEN r.cls > 0 THEN 'true' ELSE 'false' END AS is_bot,
        {_list_literal(TRAFFIC_CLASSES)}[r.cls + 1] AS traffic_class,
        CASE WHEN r.actor_tok >= 0 THEN printf('v-%010x', r.actor_tok) END AS visitor_id,
        CASE WHEN r.cut > 0 OR r.garbage >= 0 OR r.bad THEN 'true' ELSE 'false' END AS is_malformed,
        CASE WHEN r.late THEN 'true' ELSE 'false' END AS is_late"""
    con.execute(f"""
        COPY (
            SELECT getvariable('files')[r.file_idx + 1] AS file, {columns} FROM req r
            UNION ALL
            SELECT '{dup_name}' AS file, {columns} FROM req r WHERE r.file_idx = {written["duplicate_day"]}
        ) TO '{str(out).replace("'", "''")}' (HEADER true)
    """)
    return int(written["counts"].sum() + written["counts"][written["duplicate_day"]])


_EMAIL_SUFFIXES = ("Z", "+00:00", "-05:00", "-04:00", "+01:00", "+02:00")


def _email_offsets(rng, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Timestamps in UTC ("Z" or "+00:00") or in New York or Paris local time (offset minutes, suffix)."""
    style = rng.choice(4, len(t), p=[0.6, 0.15, 0.15, 0.1])
    ny_summer, paris_summer = _summer(t, _US_SUMMER), _summer(t, _EU_SUMMER)
    offset = np.select([style == 2, style == 3], [np.where(ny_summer, -240, -300), np.where(paris_summer, 120, 60)], 0)
    suffix = np.select(
        [style == 0, style == 1, style == 2, style == 3],
        [0, 1, np.where(ny_summer, 3, 2), np.where(paris_summer, 5, 4)],
    )
    return offset, suffix.astype(np.int8)


def email_layout(rng, events: pd.DataFrame) -> dict:
    """Day file and line of each event, with late deliveries and a few malformed lines (column arrays)."""
    t = events["t"].to_numpy()
    day = (t - PERIOD_START) // DAY
    keep = (day >= 0) & (day < N_DAYS)
    ev = {
        c: events[c].to_numpy()[keep]
        for c in (
            "t",
            "person_idx",
            "send_idx",
            "event_type",
            "bounce_reason",
            "path_id",
            "is_scanner",
            "ua",
            "ip",
            "campaign_idx",
            "event_no",
        )
    }
    n, t, day = int(keep.sum()), t[keep], day[keep]
    late = (rng.random(n) < 0.005) & (day < N_DAYS - 1)  # the provider's export missed them by a day
    malformed = np.zeros(n, bool)
    malformed[rng.choice(n, size=min(n, max(3, n // 10_000)), replace=False)] = True
    cut = np.where(malformed & (rng.random(n) < 0.7), rng.uniform(0.3, 0.9, n), 0.0).astype(np.float32)
    offset, suffix = _email_offsets(rng, t)
    ev.update(
        file_day=(day + late).astype(np.int16),
        late=late,
        cut=cut,
        trailing_comma=malformed & (cut == 0),
        local_t=t + offset * 60,
        suffix=suffix,
        ms=np.where(rng.random(n) < 0.3, rng.integers(0, 1000, n), -1),
    )  # some events carry milliseconds
    key = (
        (ev["file_day"].astype(np.uint64) << np.uint64(54))
        | ((~late).astype(np.uint64) << np.uint64(53))
        | ((t - PERIOD_START).astype(np.uint64) << np.uint64(27))
        | ev["event_no"].astype(np.uint64)
    )
    order = np.argsort(key)
    ev = {k: v[order] for k, v in ev.items()}
    ev["line_no"] = positions_within(np.bincount(ev["file_day"], minlength=N_DAYS)) + 1
    ev["event_key"] = scramble(ev["event_no"], 60, 0xE7E7).astype(np.int64)
    return ev


def _json_list(values) -> list[str]:
    """Values already JSON-encoded (quoted and escaped) for direct concatenation."""
    return [json.dumps(str(v)) for v in values]


def write_email(
    con: duckdb.DuckDBPyConnection,
    ev: dict,
    people: pd.DataFrame,
    campaign_ids: np.ndarray,
    site: web.Site,
    queries: Queries,
    landing: Path,
) -> dict:
    """JSON Lines per day. Only the address is a per-row text column; the rest are numbers and small
    lookup lists, so the SQL reads one table and keeps its row order."""
    _set_list(con, "etypes", EVENT_TYPES)
    _set_list(con, "email_uas", _json_list(EMAIL_UAS))
    _set_list(con, "reasons", _json_list(BOUNCE_REASONS))
    _set_list(con, "campaign_ids", campaign_ids)
    _set_list(con, "paths", site.paths["path"].to_numpy())
    _set_list(con, "queries", queries.text)
    _set_list(con, "suffixes", _EMAIL_SUFFIXES)
    who = ev["person_idx"]
    _register(
        con,
        "ev",
        {
            "file_idx": ev["file_day"].astype(np.int32),
            "line_no": ev["line_no"].astype(np.int32),
            "event_key": ev["event_key"],
            "etype": ev["event_type"].astype(np.int8),
            "local_t": ev["local_t"],
            "ms": ev["ms"].astype(np.int16),
            "suffix": ev["suffix"],
            "person": who.astype(np.int32),
            "email": people["email"].str.strip().to_numpy()[who],
            "campaign": ev["campaign_idx"].astype(np.int16),
            "message": scramble(ev["send_idx"] * 10_000_019 + who, 56, 77).astype(np.int64),
            "path": ev["path_id"].astype(np.int16),
            "query": (queries.send_offset + ev["send_idx"]).astype(np.int16),
            "ua": ev["ua"].astype(np.int8),
            "ip": ev["ip"].astype(np.int64),
            "reason": ev["bounce_reason"].astype(np.int8),
            "cut": ev["cut"],
            "comma": ev["trailing_comma"],
            "scanner": ev["is_scanner"],
            "late": ev["late"],
        },
    )
    con.execute(f"""
        CREATE OR REPLACE VIEW emaillines AS
        SELECT file_idx, CASE WHEN cut > 0 THEN left(line, greatest(10, CAST(length(line) * cut AS INTEGER)))
                              ELSE line END AS line
        FROM (
            SELECT e.file_idx, e.cut, concat(
                '{{"event_id":"', printf('evt_%015x', e.event_key), '","event_type":"',
                getvariable('etypes')[e.etype + 1], '","occurred_at":"',
                strftime(make_timestamp(e.local_t * 1000000), '%Y-%m-%dT%H:%M:%S'),
                CASE WHEN e.ms >= 0 THEN printf('.%03d', e.ms) ELSE '' END, getvariable('suffixes')[e.suffix + 1],
                '","email":', to_json(e.email), ',"campaign_id":"', getvariable('campaign_ids')[e.campaign + 1],
                '","message_id":"<', printf('%014x', e.message), '@{cat.MAIL_DOMAIN}>"',
                CASE WHEN e.path >= 0 THEN concat(',"url":"{cat.SITE}', getvariable('paths')[e.path + 1],
                                                  getvariable('queries')[e.query + 1], '"') ELSE '' END,
                CASE WHEN e.ua >= 0 THEN concat(',"user_agent":', getvariable('email_uas')[e.ua + 1],
                    ',"ip_address":"', (e.ip >> 24) & 255, '.', (e.ip >> 16) & 255, '.', (e.ip >> 8) & 255, '.',
                    e.ip & 255, '"') ELSE '' END,
                CASE WHEN e.reason >= 0 THEN ',"bounce_reason":' || getvariable('reasons')[e.reason + 1] ELSE '' END,
                CASE WHEN e.comma THEN ',}}' ELSE '}}' END) AS line
            FROM ev e
        )
    """)
    files, gz = email_paths(landing)
    counts = np.bincount(ev["file_day"], minlength=N_DAYS)
    write_line_files(con, "emaillines", files, gz, counts)
    dup_day = DUPLICATE_DAY if not gz[DUPLICATE_DAY] else DUPLICATE_DAY + 1
    src = files[dup_day]
    copy = src.with_name(src.name.replace(".jsonl", " (1).jsonl"))
    copy_file(src, copy)
    return {"paths": files, "counts": counts, "duplicate_day": dup_day, "duplicate_path": copy}


def email_truth(con: duckdb.DuckDBPyConnection, written: dict, landing: Path, out: Path) -> int:
    """One row per line of every email file (the duplicate copy included), in file order."""
    _set_list(con, "email_files", [str(p.relative_to(landing)) for p in written["paths"]])
    dup_name = str(written["duplicate_path"].relative_to(landing)).replace("'", "''")
    columns = """printf('evt_%015x', e.event_key) AS event_id, getvariable('etypes')[e.etype + 1] AS event_type,
        CASE WHEN e.scanner THEN 'true' ELSE 'false' END AS is_scanner, printf('p-%07d', e.person + 1) AS person_key,
        {file} AS file, e.line_no AS line_number,
        CASE WHEN e.cut > 0 OR e.comma THEN 'true' ELSE 'false' END AS is_malformed,
        CASE WHEN e.late THEN 'true' ELSE 'false' END AS is_late"""
    con.execute(f"""
        COPY (
            SELECT {columns.format(file="getvariable('email_files')[e.file_idx + 1]")} FROM ev e
            UNION ALL
            SELECT {columns.format(file=repr(dup_name))} FROM ev e WHERE e.file_idx = {written["duplicate_day"]}
        ) TO '{str(out).replace("'", "''")}' (HEADER true)
    """)
    return int(written["counts"].sum() + written["counts"][written["duplicate_day"]])
