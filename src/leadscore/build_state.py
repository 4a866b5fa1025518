"""What the last successful dbt build was made from, so a run that brings nothing new skips it.

A build is fully determined by three things: the data loaded (the load ids of `raw.load_manifest`),
the dbt project and seeds (file contents) and the run's dbt arguments (as_of and other vars; a
partial build adds the assets it selected). Their digest is the build key. When the key equals
the last successful build's, rebuilding would write the same tables again, so the run skips dbt
and everything downstream of it. The key lives in the warehouse itself (`ops.dbt_builds`): a
restored or rotated warehouse carries its own state.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import yaml

from leadscore.settings import REPO_ROOT

OPS_SCHEMA = "ops"

# Everything a dbt build reads besides the warehouse: a change to any of these files rebuilds.
DBT_INPUTS = [
    REPO_ROOT / "dbt_project" / name for name in ("models", "macros", "tests", "dbt_project.yml", "profiles.yml")
] + [REPO_ROOT / "seeds"]

# Unit tests run in the test suite, not in scheduled builds.
BUILD_ARGS = ["build", "--exclude-resource-type", "unit_test"]

_DDL = f"""
create schema if not exists {OPS_SCHEMA};
create table if not exists {OPS_SCHEMA}.dbt_builds (
    build_key varchar not null,
    run_id varchar,
    project_digest varchar not null,
    data_digest varchar not null,
    dbt_args varchar not null,
    built_at timestamptz not null,
    completed boolean not null default false
);
alter table {OPS_SCHEMA}.dbt_builds add column if not exists completed boolean default false;
"""


def project_digest(roots: Iterable[Path]) -> str:
    """SHA-256 over the relative paths and bytes of every file under `roots` (models, macros,
    tests, seeds, dbt_project.yml...), so editing a rule or a model changes it."""
    digest = hashlib.sha256()
    for root in roots:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            digest.update(f"{path.name if root.is_file() else path.relative_to(root).as_posix()}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def data_digest(con: duckdb.DuckDBPyConnection) -> str:
    """SHA-256 of the set of file loads in the warehouse (empty warehouse: digest of nothing)."""
    exists = table_exists(con, "raw", "load_manifest")
    load_ids = con.execute("select load_id from raw.load_manifest order by load_id").fetchall() if exists else []
    return hashlib.sha256("\n".join(load_id for (load_id,) in load_ids).encode()).hexdigest()


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchone()[0] > 0


# dbt vars of one deployment (what converting means, snapshot mode...), without editing the
# project: a YAML mapping inline, or the path of a .yml file holding one.
DBT_VARS_ENV = "LEADSCORE_DBT_VARS"


def deployment_vars(text: str | None = None) -> dict:
    """The dbt vars set in LEADSCORE_DBT_VARS (or `text`). Raises ValueError naming the variable
    when they are not a YAML mapping."""
    text = os.environ.get(DBT_VARS_ENV, "") if text is None else text
    if not text.strip():
        return {}
    source = f"{DBT_VARS_ENV}={text!r}"
    if text.strip().endswith((".yml", ".yaml")):
        path = Path(text.strip()).expanduser()
        if not path.is_file():
            raise ValueError(f"{source}: no such file")
        text, source = path.read_text(encoding="utf-8"), str(path)
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValueError(f"{source} is not YAML: {error}") from None
    if not isinstance(parsed, dict):
        raise ValueError(f"{source} must be a mapping of dbt vars, like '{{outcome_field: custom_fields.Converted}}'")
    # dbt ignores a var it does not know: a misspelt name would silently change nothing.
    unknown = sorted(set(map(str, parsed)) - known_vars())
    if unknown:
        raise ValueError(f"{source}: unknown dbt var(s) {', '.join(unknown)} (see dbt_project/dbt_project.yml)")
    return parsed


# Vars read with a default in the macros, not listed in dbt_project.yml.
MACRO_VARS = {"identity_max_link_steps", "spark_file_format"}


def known_vars() -> set[str]:
    project = yaml.safe_load((REPO_ROOT / "dbt_project" / "dbt_project.yml").read_text(encoding="utf-8"))
    return set(project.get("vars") or {}) | MACRO_VARS


def dbt_args(as_of: str = "") -> list[str]:
    """The dbt build's arguments for a run scoring as of `as_of` (UTC; empty: the end of the loaded
    data), with the deployment's vars (LEADSCORE_DBT_VARS). Raises ValueError for an instant that
    is not one, or vars that are not a mapping."""
    dbt_vars = deployment_vars()
    if as_of:
        try:
            instant = datetime.fromisoformat(as_of)
        except ValueError:
            raise ValueError(f"as_of {as_of!r} is not a date or 'YYYY-MM-DD HH:MM:SS'") from None
        if instant.tzinfo is not None:
            instant = instant.astimezone(UTC).replace(tzinfo=None)
        dbt_vars["as_of"] = instant.strftime("%Y-%m-%d %H:%M:%S")
    return [*BUILD_ARGS, *(["--vars", json.dumps(dbt_vars, sort_keys=True, default=str)] if dbt_vars else [])]


def vars_of(dbt_args: Sequence[str]) -> dict:
    """The dbt vars a build's arguments set (`dbt_args` above)."""
    args = list(dbt_args)
    return json.loads(args[args.index("--vars") + 1]) if "--vars" in args else {}


def build_key(project: str, data: str, dbt_args: list[str]) -> str:
    return hashlib.sha256(json.dumps([project, data, dbt_args]).encode()).hexdigest()


@dataclass(frozen=True)
class PlannedBuild:
    key: str
    project: str
    data: str


def planned_build(
    con: duckdb.DuckDBPyConnection, dbt_args: list[str], selection: Sequence[str] | None = None,
    inputs: Iterable[Path] = DBT_INPUTS,
) -> PlannedBuild:
    """The build a run would make now. `selection` names the dbt assets of a partial build; a whole
    build (None) is keyed by its dbt arguments alone, as dbt then builds the whole project."""
    project, data = project_digest(inputs), data_digest(con)
    return PlannedBuild(build_key(project, data, [*dbt_args, *(selection or [])]), project, data)


@dataclass(frozen=True)
class LastBuild:
    key: str
    built_at: datetime
    completed: bool


def last_build(con: duckdb.DuckDBPyConnection) -> LastBuild | None:
    if not table_exists(con, OPS_SCHEMA, "dbt_builds"):
        return None
    row = con.execute(
        f"select build_key, built_at, completed from {OPS_SCHEMA}.dbt_builds order by built_at desc limit 1"
    ).fetchone()
    return LastBuild(row[0], row[1], bool(row[2])) if row else None


def last_build_key(con: duckdb.DuckDBPyConnection) -> str | None:
    """The key of the latest build if the run that made it completed every step after dbt too
    (a run killed while publishing must be redone, even though its dbt build succeeded)."""
    build = last_build(con)
    return build.key if build and build.completed else None


def record_build(
    con: duckdb.DuckDBPyConnection, key: str, project: str, data: str, dbt_args: list[str], run_id: str | None
) -> None:
    """Remember a successful build (called only after dbt finished without error)."""
    con.execute(_DDL)
    con.execute(
        f"""insert into {OPS_SCHEMA}.dbt_builds
            (build_key, run_id, project_digest, data_digest, dbt_args, built_at, completed)
            values (?, ?, ?, ?, ?, current_timestamp, false)""",
        [key, run_id, project, data, json.dumps(dbt_args)],
    )


def complete_build(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """Mark the build of `run_id` complete once every step after dbt succeeded; return rows marked."""
    con.execute(_DDL)
    (marked,) = con.execute(
        f"update {OPS_SCHEMA}.dbt_builds set completed = true where run_id = ? and not completed", [run_id]
    ).fetchone()
    return marked
