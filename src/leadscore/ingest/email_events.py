"""Marketing email events (JSON Lines) into `raw.email_events`.

Each line is one JSON object. A line that is not a JSON object, lacks an event id or email, or
has a timestamp that does not parse goes to the quarantine; the original line is kept in
`event_json` so fields the pipeline does not know yet are not lost.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from leadscore.ingest.landing import LandingFile
from leadscore.ingest.ledger import METADATA_COLUMNS_DDL, RAW_SCHEMA, FileLoad
from leadscore.ingest.lines import load_line_files, sql_literal

SOURCE = "email"
TABLE = "email_events"
FIELDS = [
    "event_id", "event_type", "occurred_at", "email", "campaign_id", "message_id", "url",
    "user_agent", "ip_address", "bounce_reason",
]
REQUIRED = ["event_id", "event_type", "occurred_at", "email"]


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    columns = ", ".join(f"{name} varchar" for name in FIELDS)
    con.execute(
        f"create table if not exists {RAW_SCHEMA}.{TABLE} ({columns}, event_json json, {METADATA_COLUMNS_DDL})"
    )


def load_files(con: duckdb.DuckDBPyConnection, files: list[LandingFile], loaded_at: datetime) -> list[FileLoad]:
    """Load a batch of event files of one compression (see `load_line_files`)."""
    loads = [FileLoad(source=SOURCE, file=file, loaded_at=loaded_at, object_name="email_event",
                      target_table=f"{RAW_SCHEMA}.{TABLE}") for file in files]
    # One parse for the type and one for every field: the JSON text is the cost here.
    paths = ", ".join(sql_literal(f'$."{name}"') for name in FIELDS)
    extracted = ", ".join(
        f"nullif(trim(field_values[{position}]), '') as {name}" for position, name in enumerate(FIELDS, start=1)
    )
    missing = " ".join(
        f"when {name} is null then 'missing key: {name}'" for name in REQUIRED
    )
    check_sql = f"""
        with typed as (
            -- try(): a line that is not JSON at all has no type rather than stopping the file.
            select file_index, line_number, line, coalesce(try(json_type(line)) = 'OBJECT', false) as is_object
            from lines
        ), extracted as (
            select file_index, line_number, line, is_object,
                   case when is_object then json_extract_string(line, [{paths}]) end as field_values
            from typed
        ), fields as (
            select file_index, line_number, line, is_object, {extracted} from extracted
        )
        select *,
            case
                when line is null or trim(line) = '' then 'malformed line: empty'
                when not is_object then 'malformed line: not a JSON object'
                {missing}
                when try_cast(occurred_at as timestamptz) is null
                    then 'unparseable timestamp: ' || occurred_at
            end as reason
        from fields"""
    columns_sql = f"{', '.join(FIELDS)}, cast(line as json)"
    return load_line_files(con, loads, check_sql, f"{RAW_SCHEMA}.{TABLE}", columns_sql)
