"""Which dbt data tests a build can leave out: those whose inputs are unchanged since they passed.

A data test's result is a function of what it reads: the raw tables upstream of it (their rows
are exactly the files loaded into them, `raw.load_manifest`), the dbt project and seeds, the dbt
vars, as_of when the test reads the scoring instant (`int_scoring_as_of` upstream), and the
versions of dbt and DuckDB. A test that passed on the same inputs passes again, so an hourly run
that brings web logs only runs the tests downstream of the web logs and of as_of, not the 200-odd
tests of the CRM and the seeds, checked an hour before on the same rows.

A test reading anything else (a table dbt's hooks keep, one the Python steps write) has no
digest and always runs, as does every test of a forced build. A test that warned or failed runs
again next time, so its warning shows in every run. The digests of passed tests live in the
warehouse (`ops.dbt_test_passes`), beside the build keys of src/leadscore/build_state.py.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from importlib import metadata
from typing import Any

import duckdb

from leadscore.build_state import OPS_SCHEMA, table_exists
from leadscore.ingest.ledger import RAW_SCHEMA

# The model that resolves as_of: a test downstream of it depends on the as_of var.
AS_OF_MODEL = "int_scoring_as_of"
# Libraries whose upgrade may change a test's result.
ENGINE_PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb")

_DDL = f"""
create schema if not exists {OPS_SCHEMA};
create table if not exists {OPS_SCHEMA}.dbt_test_passes (
    test_id varchar primary key,
    inputs_digest varchar not null,
    run_id varchar,
    passed_at timestamptz not null
);
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
) -> dict[str, str]:
    """Per data test of the manifest whose inputs are all known, the digest of those inputs.
    Tests reading a source outside the raw schema are left out: they always run."""
    other_vars = {name: value for name, value in dbt_vars.items() if name != "as_of"}
    common = [project_digest, json.dumps(other_vars, sort_keys=True, default=str),
              [f"{package}={metadata.version(package)}" for package in ENGINE_PACKAGES]]
    memo: dict[str, frozenset[str]] = {}
    digests = {}
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] != "test":
            continue
        parts: list[Any] = [*common]
        tracked = True
        for upstream in sorted(_upstream(manifest, unique_id, memo)):
            kind = upstream.split(".", 1)[0]
            if kind == "seed":
                continue  # its rows are its file, in the project digest
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


def unchanged_since_passed(con: duckdb.DuckDBPyConnection, digests: Mapping[str, str]) -> list[str]:
    """The tests whose inputs digest is the one they last passed with."""
    if not digests or not table_exists(con, OPS_SCHEMA, "dbt_test_passes"):
        return []
    stored = dict(con.execute(f"select test_id, inputs_digest from {OPS_SCHEMA}.dbt_test_passes").fetchall())
    return sorted(test_id for test_id, digest in digests.items() if stored.get(test_id) == digest)


def record_results(
    con: duckdb.DuckDBPyConnection, digests: Mapping[str, str], results: Iterable[tuple[str, str]],
    run_id: str | None,
) -> int:
    """Store the digest of each test that passed (status 'pass'); forget the tests that ran with any
    other status, so they run again. Returns the number of passes stored."""
    statuses = [(test_id, status) for test_id, status in results if test_id.startswith("test.")]
    passed = [(test_id, digests[test_id]) for test_id, status in statuses
              if status == "pass" and test_id in digests]
    not_passed = [test_id for test_id, status in statuses if status != "pass" or test_id not in digests]
    con.execute(_DDL)
    con.begin()
    try:
        if not_passed:
            con.execute(f"delete from {OPS_SCHEMA}.dbt_test_passes where list_contains(?, test_id)", [not_passed])
        if passed:
            con.execute(
                f"""insert or replace into {OPS_SCHEMA}.dbt_test_passes (test_id, inputs_digest, run_id, passed_at)
                    select unnest(?::varchar[]), unnest(?::varchar[]), ?, current_timestamp""",
                [[test_id for test_id, _ in passed], [digest for _, digest in passed], run_id],
            )
    except BaseException:
        con.rollback()
        raise
    con.commit()
    return len(passed)


def exclude_args(manifest: Mapping[str, Any], test_ids: Iterable[str]) -> list[str]:
    """dbt arguments leaving out these tests (by name, as dbt selects tests). One value, its names
    separated by spaces (dbt's union): dagster-dbt takes the `--exclude` out of the arguments, one
    value after the flag, and folds its names into the selection it passes to dbt."""
    names = sorted(manifest["nodes"][test_id]["name"] for test_id in test_ids if test_id in manifest["nodes"])
    return ["--exclude", " ".join(names)] if names else []
