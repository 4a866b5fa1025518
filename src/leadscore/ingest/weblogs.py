"""Web server access logs (Apache/NGINX combined format) into `raw.weblog_hits`.

Parsing is one regular expression evaluated by DuckDB over all lines of a batch of files; a line
that does not match, or whose timestamp does not parse, goes to the quarantine with the reason.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from leadscore.ingest.landing import LandingFile
from leadscore.ingest.ledger import METADATA_COLUMNS_DDL, RAW_SCHEMA, FileLoad
from leadscore.ingest.lines import load_line_files, sql_literal

SOURCE = "weblogs"
TABLE = "weblog_hits"

# host ident authuser [time] "request" status bytes "referer" "user-agent" ["visitor cookie"]
# Quoted fields allow backslash-escaped quotes, as Apache writes them.
_QUOTED = r'"((?:[^"\\]|\\.)*)"'
COMBINED_LOG_PATTERN = (
    r"^(\S+) (\S+) (\S+) \[([^\]]+)\] " + _QUOTED + r" (\d{3}) (\d+|-) "
    + _QUOTED + " " + _QUOTED + r"(?: " + _QUOTED + r")?\s*$"
)
LOG_FIELDS = [
    "client_ip", "ident", "auth_user", "request_time", "request", "status", "response_bytes",
    "referrer", "user_agent", "visitor_id",
]
REQUEST_FIELDS = ["http_method", "request_path", "http_protocol"]
LOG_TIME_FORMAT = "%d/%b/%Y:%H:%M:%S %z"
REQUEST_PATTERN = r"^(\S+) (\S+)(?: (\S+))?$"


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    columns = ", ".join(f"{name} varchar" for name in LOG_FIELDS + REQUEST_FIELDS)
    con.execute(f"create table if not exists {RAW_SCHEMA}.{TABLE} ({columns}, {METADATA_COLUMNS_DDL})")


def load_files(con: duckdb.DuckDBPyConnection, files: list[LandingFile], loaded_at: datetime) -> list[FileLoad]:
    """Load a batch of access logs of one compression (see `load_line_files`)."""
    loads = [FileLoad(source=SOURCE, file=file, loaded_at=loaded_at, object_name="access_log",
                      target_table=f"{RAW_SCHEMA}.{TABLE}") for file in files]
    log_fields = ", ".join(f"'{name}'" for name in LOG_FIELDS)
    request_fields = ", ".join(f"'{name}'" for name in REQUEST_FIELDS)
    check_sql = f"""
        with parsed as (
            select file_index, line_number, line,
                   regexp_extract(line, {sql_literal(COMBINED_LOG_PATTERN)}, [{log_fields}]) as f
            from lines
        )
        select file_index, line_number, line, f,
            -- an unparseable request line ("-", binary probes) is still a hit: kept whole
            regexp_extract(f.request, {sql_literal(REQUEST_PATTERN)}, [{request_fields}]) as r,
            case
                when line is null or trim(line) = '' then 'malformed line: empty'
                when f.client_ip = '' then 'malformed line: not in combined log format'
                when try_strptime(f.request_time, '{LOG_TIME_FORMAT}') is null
                    then 'unparseable timestamp: ' || f.request_time
            end as reason
        from parsed"""
    columns_sql = ", ".join([f"nullif(f.{name}, '')" for name in LOG_FIELDS]
                            + [f"nullif(r.{name}, '')" for name in REQUEST_FIELDS])
    return load_line_files(con, loads, check_sql, f"{RAW_SCHEMA}.{TABLE}", columns_sql)
