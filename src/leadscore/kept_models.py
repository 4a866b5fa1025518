"""Which dbt models and seeds a build can keep as they are: those whose inputs are unchanged
since the build that wrote them.

A model's table is a function of what it reads, as a data test's result is (see
src/leadscore/passed_tests.py for the inputs and their digests): the loads of the raw tables
upstream of it, the seed tables upstream of it, the dbt project, the vars, as_of when it reads
the scoring instant, and the versions of dbt and DuckDB. A seed's table is a function of its file
(in the project) and is compared as the warehouse holds it, so a seed edited in the warehouse is
loaded again. Rebuilding a model whose inputs are those it was built from writes the same rows:
an hourly run that brings web logs only leaves the CRM's staging views, the people models built
on the CRM and the seeds as they are, instead of rebuilding some fifty nodes whose inputs have
not moved.

Whole builds keep and record. A partial build (`fresh_scores`) keeps the nodes of its
selection whose inputs and upstream nodes are unchanged too, but records nothing: it may rebuild
a model from upstream tables it did not rebuild, so it forgets what it builds. Before dbt
starts, the records of every node the build will write are forgotten, so a build that fails or
is killed halfway leaves no record that vouches for a table it changed. A forced build (the
daily one) rebuilds everything. The records live in the warehouse (`ops.dbt_node_builds`),
beside the test passes.

dbt leaves out, with an excluded model, the data tests that read it. A whole build excludes with
`DBT_INDIRECT_SELECTION=cautious`, so only tests reading nothing but kept nodes go with them (a
relationships test from a rebuilt model to a kept one still runs); a node is kept only when each
such test is itself left out, having passed on the same inputs, so no check goes unreported. A
partial build cannot use `cautious`: it would also drop the tests from a selected model to one
outside the selection, which dbt runs by default (`eager`). It names its tests instead
(`partial_build_tests`) with `DBT_INDIRECT_SELECTION=empty`: those `eager` selects for its
models, less those left out.
"""

from __future__ import annotations

import graphlib
from collections.abc import Iterable, Mapping
from typing import Any

import duckdb

from leadscore.build_state import OPS_SCHEMA, table_exists

KEPT_KINDS = ("model", "seed")
# Set for dbt's process while some nodes are kept: see the module docstring.
INDIRECT_SELECTION_ENV = {"DBT_INDIRECT_SELECTION": "cautious"}
PARTIAL_BUILD_INDIRECT_SELECTION_ENV = {"DBT_INDIRECT_SELECTION": "empty"}

_DDL = f"""
create schema if not exists {OPS_SCHEMA};
create table if not exists {OPS_SCHEMA}.dbt_node_builds (
    unique_id varchar primary key,
    inputs_digest varchar not null,
    run_id varchar,
    built_at timestamptz not null
);
"""


def keepable(
    con: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any], digests: Mapping[str, str],
    left_out_tests: Iterable[str], within: Iterable[str] | None = None,
) -> dict[str, str | None]:
    """The models and seeds (of those `within` when given: a partial build's selection) whose
    inputs digest (`digests`, now) is the one they were last built from, whose relation is in the
    warehouse and whose upstream models and seeds are kept too, each with the run that built it,
    upstream first; less those a test would go out with (every node it reads kept) that must
    run: it is not among `left_out_tests`."""
    if not digests or not table_exists(con, OPS_SCHEMA, "dbt_node_builds"):
        return {}
    stored = {unique_id: (digest, run_id) for unique_id, digest, run_id in con.execute(
        f"select unique_id, inputs_digest, run_id from {OPS_SCHEMA}.dbt_node_builds").fetchall()}
    relations = set(con.execute("select table_schema, table_name from information_schema.tables").fetchall())
    candidates = digests.keys() if within is None else digests.keys() & set(within)
    kept = {}
    for unique_id in sorted(candidates):
        digest = digests[unique_id]
        node = manifest["nodes"].get(unique_id) or {}
        relation = (node.get("schema"), node.get("alias") or node.get("name"))
        if unique_id in stored and stored[unique_id][0] == digest and relation in relations:
            kept[unique_id] = stored[unique_id][1]
    left_out = set(left_out_tests)
    tests = [set(node["depends_on"].get("nodes", [])) for test_id, node in manifest["nodes"].items()
             if node["resource_type"] == "test" and test_id not in left_out and node["depends_on"].get("nodes")]
    while True:
        # A node is kept with every model and seed it reads, so nothing kept waits for a rebuilt node.
        closed = {unique_id for unique_id in kept if all(parent in kept for parent in _parents(manifest, unique_id))}
        if within is None:  # a partial build names its tests: none goes out with the nodes it keeps
            closed -= {parent for parents in tests if parents <= closed for parent in parents}
        if closed == kept.keys():
            break
        kept = {unique_id: run_id for unique_id, run_id in kept.items() if unique_id in closed}
    # In the order dbt builds them: Dagster takes a multi-asset's outputs upstream first.
    order = graphlib.TopologicalSorter({unique_id: _parents(manifest, unique_id) for unique_id in sorted(kept)})
    return {unique_id: kept[unique_id] for unique_id in order.static_order()}


def partial_build_tests(manifest: Mapping[str, Any], selected: Iterable[str], left_out_tests: Iterable[str]
                        ) -> list[str]:
    """The data tests a partial build of the `selected` models and seeds runs: those reading any of
    them (dbt's `eager` selection), less those left out, as the unique ids of the manifest."""
    selected, left_out = set(selected), set(left_out_tests)
    return sorted(test_id for test_id, node in manifest["nodes"].items()
                  if node["resource_type"] == "test" and test_id not in left_out
                  and selected & set(node["depends_on"].get("nodes", [])))


def _parents(manifest: Mapping[str, Any], unique_id: str) -> set[str]:
    """The models and seeds a node reads directly."""
    return {parent for parent in manifest["nodes"][unique_id]["depends_on"].get("nodes", [])
            if parent.split(".", 1)[0] in KEPT_KINDS}


def forget(con: duckdb.DuckDBPyConnection, unique_ids: Iterable[str]) -> None:
    """Drop the records of nodes a build is about to write (called before dbt starts)."""
    con.execute(_DDL)
    con.execute(f"delete from {OPS_SCHEMA}.dbt_node_builds where list_contains(?, unique_id)", [sorted(unique_ids)])


def record(
    con: duckdb.DuckDBPyConnection, digests: Mapping[str, str], results: Iterable[tuple[str, str]],
    run_id: str | None,
) -> int:
    """After a whole build that succeeded: store the inputs digest of each model and seed it built
    (status 'success') that has one. Returns the number stored."""
    built = [unique_id for unique_id, status in results
             if status == "success" and unique_id in digests and unique_id.split(".", 1)[0] in KEPT_KINDS]
    con.execute(_DDL)
    if built:
        con.execute(
            f"""insert or replace into {OPS_SCHEMA}.dbt_node_builds (unique_id, inputs_digest, run_id, built_at)
                select unnest(?::varchar[]), unnest(?::varchar[]), ?, current_timestamp""",
            [built, [digests[unique_id] for unique_id in built], run_id],
        )
    return len(built)
