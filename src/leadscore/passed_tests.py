"""Which dbt data tests a build can leave out: those whose inputs are unchanged since they passed.

A data test's result is a function of what it reads: the raw tables upstream of it (their rows
are exactly the files loaded into them, `raw.load_manifest`), the seed tables upstream of it (as
the warehouse holds them), the dbt project, the dbt vars, as_of when the test reads the scoring
instant (`int_scoring_as_of` upstream), and the versions of dbt and DuckDB. A test that passed
on the same inputs passes again, so an hourly run that brings web logs only runs the tests
downstream of the web logs and of as_of, not the 200-odd tests of the CRM and the seeds,
checked an hour before on the same rows. The tables dbt builds are taken to change only
through dbt: an edit by hand of a model's table is seen by the next forced build (the daily
one), which runs every test, or when the model's inputs change.

A test reading anything else (a table dbt's hooks keep, one the Python steps write) has no
digest and always runs, as does every test of a forced build. A test that warned or failed runs
again next time, so its warning shows in every run. The digests of passed tests live in the
warehouse (`ops.dbt_test_passes`), beside the build keys of src/leadscore/build_state.py, and
come from builds of the whole project only (the dbt step records them).

A test that must run on a keyed-rewrite model (rows stamped `_built_at`) reads only the rows
rewritten since it last passed, when it passed on the same project: not null, accepted values
and uniqueness are about rows or keys, and the rows kept since were checked then. The latest
stamp at each pass is stored with it, and the dbt step hands the stamps to dbt
(LEADSCORE_TESTED_THROUGH, read by dbt_project/macros/incremental/tested_rows.sql).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from importlib import metadata
from typing import Any

import duckdb

from leadscore.build_state import OPS_SCHEMA, table_exists
from leadscore.ingest.ledger import RAW_SCHEMA
from leadscore.warehouse import rows_digest

# The model that resolves as_of: a test downstream of it depends on the as_of var.
AS_OF_MODEL = "int_scoring_as_of"
# Libraries whose upgrade may change a test's result.
ENGINE_PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb")
# Tests about single rows or keys, which may read only the rewritten rows of a stamped model.
ROW_AND_KEY_TESTS = ("unique", "unique_combination", "not_null", "not_null_columns", "accepted_values")
STAMP_COLUMN = "_built_at"
TESTED_THROUGH_ENV = "LEADSCORE_TESTED_THROUGH"

_DDL = f"""
create schema if not exists {OPS_SCHEMA};
create table if not exists {OPS_SCHEMA}.dbt_test_passes (
    test_id varchar primary key,
    inputs_digest varchar not null,
    run_id varchar,
    passed_at timestamptz not null
);
alter table {OPS_SCHEMA}.dbt_test_passes add column if not exists project_digest varchar;
alter table {OPS_SCHEMA}.dbt_test_passes add column if not exists rows_through timestamp;
"""


def raw_table_digests(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Per raw table ('raw.leads'), the digest of the loads that wrote it."""
    if not table_exists(con, RAW_SCHEMA, "load_manifest"):
        return {}
    rows = con.execute(
        f"""select target_table, string_agg(load_id, ',' order by load_id)
            from {RAW_SCHEMA}.load_manifest where target_table is not null group by target_table"""
    ).fetchall()
    return {table: hashlib.sha256(load_ids.encode()).hexdigest() for table, load_ids in rows}


def seed_table_digests(con: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any]) -> dict[str, str]:
    """Per seed, the digest of its table's rows as the warehouse holds them (count and sum of row
    hashes, order-free): normally its file, but a build that does not load seeds reads the table."""
    tables = set(con.execute("select table_schema, table_name from information_schema.tables").fetchall())
    digests = {}
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] != "seed":
            continue
        relation = (node["schema"], node.get("alias") or node["name"])
        if relation in tables:
            digests[unique_id] = rows_digest(con, f'select * from "{relation[0]}"."{relation[1]}"')[1]
    return digests


def _upstream(manifest: Mapping[str, Any], unique_id: str, memo: dict[str, frozenset[str]]) -> frozenset[str]:
    """The sources and seeds a node reads, directly or through models, and AS_OF_MODEL if it is among them."""
    if unique_id in memo:
        return memo[unique_id]
    node = manifest["nodes"].get(unique_id) or manifest["sources"].get(unique_id)
    if node is None:
        found = frozenset([unique_id])  # unknown: kept as is, so it counts as untracked
    elif node["resource_type"] in ("source", "seed"):
        found = frozenset([unique_id])
    else:
        found = frozenset().union(*(_upstream(manifest, parent, memo) for parent in node["depends_on"]["nodes"]))
        if node["resource_type"] == "model" and node["name"] == AS_OF_MODEL:
            found |= {unique_id}
    memo[unique_id] = found
    return found


def input_digests(
    manifest: Mapping[str, Any], project_digest: str, dbt_vars: Mapping[str, Any], raw_tables: Mapping[str, str],
    seed_tables: Mapping[str, str] | None = None, kinds: Iterable[str] = ("test",),
) -> dict[str, str]:
    """Per node of the manifest of these `kinds` (data tests; models and seeds for
    src/leadscore/kept_models.py) whose inputs are all known, the digest of those inputs: the
    loads of the raw tables (`raw_tables`) and the rows of the seed tables (`seed_tables`) it
    reads (a seed reads its own table). Nodes reading a source outside the raw schema get none:
    they always run."""
    seed_tables = seed_tables or {}
    other_vars = {name: value for name, value in dbt_vars.items() if name != "as_of"}
    common = [project_digest, json.dumps(other_vars, sort_keys=True, default=str),
              [f"{package}={metadata.version(package)}" for package in ENGINE_PACKAGES]]
    memo: dict[str, frozenset[str]] = {}
    kinds = set(kinds)
    digests = {}
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] not in kinds:
            continue
        parts: list[Any] = [*common]
        tracked = True
        for upstream in sorted(_upstream(manifest, unique_id, memo)):
            kind = upstream.split(".", 1)[0]
            if kind == "seed":
                parts.append([upstream, seed_tables.get(upstream, "no table")])
                continue
            if kind == "model":  # AS_OF_MODEL
                parts.append(["as_of", str(dbt_vars.get("as_of", ""))])
                continue
            source = manifest["sources"].get(upstream)
            if kind != "source" or source is None or source["schema"] != RAW_SCHEMA:
                tracked = False
                break
            table = f"{source['schema']}.{source.get('identifier') or source['name']}"
            parts.append([table, raw_tables.get(table, "no load")])
        if tracked:
            digests[unique_id] = hashlib.sha256(json.dumps(parts).encode()).hexdigest()
    return digests


def unchanged_since_passed(con: duckdb.DuckDBPyConnection, digests: Mapping[str, str]) -> dict[str, str | None]:
    """The tests whose inputs digest is the one they last passed with, each with the run it passed in."""
    if not digests or not table_exists(con, OPS_SCHEMA, "dbt_test_passes"):
        return {}
    stored = {test_id: (digest, run_id) for test_id, digest, run_id in con.execute(
        f"select test_id, inputs_digest, run_id from {OPS_SCHEMA}.dbt_test_passes").fetchall()}
    return {test_id: stored[test_id][1] for test_id, digest in sorted(digests.items())
            if test_id in stored and stored[test_id][0] == digest}


def record_results(
    con: duckdb.DuckDBPyConnection, digests: Mapping[str, str], results: Iterable[tuple[str, str]],
    run_id: str | None, project_digest: str, rows_through: Mapping[str, datetime] | None = None,
) -> int:
    """Store each test that passed (status 'pass'): its inputs digest, the project's, and its
    model's latest stamp (`rows_through`, for tests of stamped models); forget the tests that ran
    with any other status, so they run again on every row. Returns the number of passes stored.
    A test without a digest (it always runs) is stored too, for its stamp."""
    rows_through = rows_through or {}
    statuses = [(test_id, status) for test_id, status in results if test_id.startswith("test.")]
    passed = [test_id for test_id, status in statuses if status == "pass"]
    not_passed = [test_id for test_id, status in statuses if status != "pass"]
    con.execute(_DDL)
    con.begin()
    try:
        if not_passed:
            con.execute(f"delete from {OPS_SCHEMA}.dbt_test_passes where list_contains(?, test_id)", [not_passed])
        if passed:
            con.execute(
                f"""insert or replace into {OPS_SCHEMA}.dbt_test_passes
                        (test_id, inputs_digest, run_id, passed_at, project_digest, rows_through)
                    select unnest(?::varchar[]), unnest(?::varchar[]), ?, current_timestamp, ?,
                        unnest(?::timestamp[])""",
                [passed, [digests.get(test_id, "") for test_id in passed], run_id, project_digest,
                 [rows_through.get(test_id) for test_id in passed]],
            )
    except BaseException:
        con.rollback()
        raise
    con.commit()
    return len(passed)


def _stamped_tests(con: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any], test_ids: Iterable[str]
                   ) -> dict[str, tuple[str, str]]:
    """The row and key tests among `test_ids` whose model has `_built_at` stamps: test -> (schema, table)."""
    stamped = set(con.execute(
        "select table_schema, table_name from information_schema.columns where column_name = ?", [STAMP_COLUMN]
    ).fetchall())
    found = {}
    for test_id in test_ids:
        node = manifest["nodes"].get(test_id) or {}
        model = manifest["nodes"].get(node.get("attached_node") or "") or {}
        relation = (model.get("schema"), model.get("alias") or model.get("name"))
        if (node.get("test_metadata") or {}).get("name") in ROW_AND_KEY_TESTS and relation in stamped:
            found[test_id] = relation
    return found


def latest_stamps(con: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any], test_ids: Iterable[str]
                  ) -> dict[str, datetime]:
    """Per row or key test of a stamped model, the model's latest `_built_at`: every row up to it
    has been read by a pass of the test once it passes now."""
    tests = _stamped_tests(con, manifest, test_ids)
    latest = {relation: con.execute(f'select max({STAMP_COLUMN}) from "{relation[0]}"."{relation[1]}"').fetchone()[0]
              for relation in set(tests.values())}
    return {test_id: latest[relation] for test_id, relation in tests.items() if latest[relation] is not None}


def tested_through(con: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any], project_digest: str
                   ) -> dict[str, str]:
    """Per test name, the stamp up to which the test has read its model's rows: the row and key
    tests of stamped models that last passed on this same project (an edited test reads everything)."""
    stamped_passes = con.execute(
        "select count(*) from information_schema.columns where table_schema = ? and table_name = ? "
        "and column_name = 'rows_through'", [OPS_SCHEMA, "dbt_test_passes"]).fetchone()[0]
    if not stamped_passes:  # none stored yet, or only before the stamps were
        return {}
    stored = con.execute(
        f"""select test_id, rows_through from {OPS_SCHEMA}.dbt_test_passes
            where project_digest = ? and rows_through is not null""", [project_digest]
    ).fetchall()
    tests = _stamped_tests(con, manifest, [test_id for test_id, _ in stored])
    return {manifest["nodes"][test_id]["name"]: str(stamp) for test_id, stamp in stored if test_id in tests}


def select_args(manifest: Mapping[str, Any], node_ids: Iterable[str]) -> list[str]:
    """dbt arguments adding these nodes to the selection by name (one value, as `exclude_args`):
    dagster-dbt passes it on before its own `--select`, and dbt takes the union of the two."""
    names = node_names(manifest, node_ids)
    return ["--select", " ".join(names)] if names else []


def node_names(manifest: Mapping[str, Any], node_ids: Iterable[str]) -> list[str]:
    return sorted(manifest["nodes"][node_id]["name"] for node_id in node_ids if node_id in manifest["nodes"])


def exclude_args(manifest: Mapping[str, Any], node_ids: Iterable[str]) -> list[str]:
    """dbt arguments leaving out these nodes (tests, and models and seeds a build keeps) by name,
    as dbt selects them. One value, its names separated by spaces (dbt's union): dagster-dbt takes
    the `--exclude` out of the arguments, one value after the flag, and folds its names into the
    selection it passes to dbt."""
    names = node_names(manifest, node_ids)
    return ["--exclude", " ".join(names)] if names else []
