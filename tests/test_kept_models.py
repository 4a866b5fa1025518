"""A whole build keeps the models and seeds built from the same inputs, and only those."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from leadscore import kept_models, passed_tests
from tests.test_passed_tests import MANIFEST as LEDGER_PROJECT

REPO_ROOT = Path(__file__).resolve().parent.parent


def node(kind: str, name: str, *parents: str, schema: str = "main") -> dict:
    return {"resource_type": kind, "name": name, "schema": schema, "depends_on": {"nodes": list(parents)}}


# Leads staged with a seed, the scoring instant, a ledger reading both, a report comparing with a
# table dbt's hooks keep; a test on each, one across the leads and the campaigns' raw table.
MANIFEST = {
    "sources": LEDGER_PROJECT["sources"],  # the leads, the campaigns, the scores dbt's hooks keep
    "nodes": {
        "seed.p.countries": node("seed", "countries", schema="seeds"),
        "model.p.stg_leads": node("model", "stg_leads", "source.p.crm.leads", "seed.p.countries"),
        "model.p.int_scoring_as_of": node("model", "int_scoring_as_of", "model.p.stg_leads"),
        "model.p.ledger": node("model", "ledger", "model.p.int_scoring_as_of", "model.p.stg_leads"),
        "model.p.changes": node("model", "changes", "model.p.ledger", "source.p.previous_build.scores"),
        "test.p.countries_codes": node("test", "countries_codes", "seed.p.countries"),
        "test.p.unique_leads": node("test", "unique_leads", "model.p.stg_leads"),
        "test.p.leads_campaigns": node("test", "leads_campaigns", "model.p.stg_leads", "source.p.crm.campaigns"),
        "test.p.ledger_leads": node("test", "ledger_leads", "model.p.ledger", "model.p.stg_leads"),
    },
}
RAW = {"raw.leads": "loads-1", "raw.campaigns": "loads-1"}
SEEDS = {"seed.p.countries": "rows-1"}
EVERY_NODE = [unique_id for unique_id in MANIFEST["nodes"] if not unique_id.startswith("test.")]
EVERY_TEST = [unique_id for unique_id in MANIFEST["nodes"] if unique_id.startswith("test.")]


def digests(as_of: str = "2026-06-30", raw: dict | None = None, seeds: dict | None = None) -> dict[str, str]:
    return passed_tests.input_digests(MANIFEST, "project-1", {"as_of": as_of}, RAW if raw is None else raw,
                                      SEEDS if seeds is None else seeds, kinds=("test", "model", "seed"))


@pytest.fixture
def built(con):
    """A warehouse holding every relation, after a whole build that succeeded (run-1)."""
    for schema in ("seeds", "ops"):
        con.execute(f"create schema {schema}")
    for unique_id in EVERY_NODE:
        found = MANIFEST["nodes"][unique_id]
        con.execute(f'create table {found["schema"]}.{found["name"]} (x integer)')
    kept_models.record(con, digests(), [(unique_id, "success") for unique_id in EVERY_NODE]
                       + [(test_id, "pass") for test_id in EVERY_TEST], run_id="run-1")
    return con


def test_nothing_is_kept_before_a_build_recorded_its_nodes(con):
    assert kept_models.keepable(con, MANIFEST, digests(), EVERY_TEST) == {}


def test_the_same_inputs_keep_every_node_but_one_reading_a_table_outside_the_raw_schema(built):
    # Upstream first, the order dbt builds them in.
    assert kept_models.keepable(built, MANIFEST, digests(), EVERY_TEST) == {
        "seed.p.countries": "run-1", "model.p.stg_leads": "run-1", "model.p.int_scoring_as_of": "run-1",
        "model.p.ledger": "run-1"}


def test_new_leads_rebuild_what_reads_them_and_new_campaigns_rebuild_nothing(built):
    new_leads = digests(raw={**RAW, "raw.leads": "loads-2"})
    assert kept_models.keepable(built, MANIFEST, new_leads, ["test.p.countries_codes"]) == {"seed.p.countries": "run-1"}
    new_campaigns = digests(raw={**RAW, "raw.campaigns": "loads-2"})
    # The test across the leads and the campaigns runs: a raw table it reads is not kept, so it stays in.
    passed_before = ["test.p.countries_codes", "test.p.unique_leads", "test.p.ledger_leads"]
    assert list(kept_models.keepable(built, MANIFEST, new_campaigns, passed_before)) == [
        "seed.p.countries", "model.p.stg_leads", "model.p.int_scoring_as_of", "model.p.ledger"]


def test_a_new_as_of_rebuilds_the_scoring_instant_and_what_reads_it_only(built):
    later = digests(as_of="2026-07-01")
    assert list(kept_models.keepable(built, MANIFEST, later, ["test.p.countries_codes", "test.p.unique_leads"])) == [
        "seed.p.countries", "model.p.stg_leads"]


def test_a_seed_edited_in_the_warehouse_is_loaded_again_with_what_reads_it(built):
    edited = digests(seeds={"seed.p.countries": "rows-2"})
    assert kept_models.keepable(built, MANIFEST, edited, []) == {}


def test_a_relation_missing_from_the_warehouse_is_built_again_with_what_reads_it(built):
    built.execute("drop table main.ledger")
    assert list(kept_models.keepable(built, MANIFEST, digests(), EVERY_TEST)) == [
        "seed.p.countries", "model.p.stg_leads", "model.p.int_scoring_as_of"]
    # A node is kept only with everything it reads: nothing kept waits for a rebuilt node.
    built.execute("drop table main.stg_leads")
    assert list(kept_models.keepable(built, MANIFEST, digests(), EVERY_TEST)) == ["seed.p.countries"]


def test_a_test_that_must_run_is_not_left_out_with_the_nodes_it_reads(built):
    """dbt leaves out a test whose every node is kept: one that warned last time (not among the
    tests left out) must run, so the nodes it reads are built again, with what reads them."""
    ledger_warned = set(EVERY_TEST) - {"test.p.ledger_leads"}
    assert list(kept_models.keepable(built, MANIFEST, digests(), ledger_warned)) == ["seed.p.countries"]
    countries_warned = set(EVERY_TEST) - {"test.p.countries_codes"}
    assert kept_models.keepable(built, MANIFEST, digests(), countries_warned) == {}


def test_a_build_forgets_what_it_will_write_and_records_what_it_built(built):
    kept_models.forget(built, ["model.p.ledger", "model.p.changes"])
    assert "model.p.ledger" not in kept_models.keepable(built, MANIFEST, digests(), EVERY_TEST)
    # Only models and seeds that succeeded and have a digest are recorded.
    stored = kept_models.record(built, digests(), [
        ("model.p.ledger", "error"), ("model.p.changes", "success"), ("test.p.unique_leads", "pass")], run_id="run-2")
    assert stored == 0
    assert kept_models.record(built, digests(), [("model.p.ledger", "success")], run_id="run-2") == 1
    assert kept_models.keepable(built, MANIFEST, digests(), EVERY_TEST)["model.p.ledger"] == "run-2"


def test_a_partial_build_keeps_within_its_selection_and_names_the_tests_dbt_would_run(built):
    """A partial build keeps only selected nodes whose upstream nodes are kept too, and names the
    tests reading any selected node, a kept one included, less those left out: none goes out
    with a kept node, and the test from the leads to the campaigns' raw table still runs."""
    selection = ["seed.p.countries", "model.p.stg_leads", "model.p.int_scoring_as_of", "model.p.ledger"]
    later = digests(as_of="2026-07-01")
    # Every test must run (none left out): the kept nodes stay kept, as their tests are named.
    assert list(kept_models.keepable(built, MANIFEST, later, [], within=selection)) == [
        "seed.p.countries", "model.p.stg_leads"]
    assert kept_models.partial_build_tests(MANIFEST, selection, ["test.p.countries_codes"]) == [
        "test.p.leads_campaigns", "test.p.ledger_leads", "test.p.unique_leads"]
    # The ledger selected without what it reads: those are not rebuilt, so nothing vouches for
    # them in this build and the ledger is built.
    assert kept_models.keepable(built, MANIFEST, digests(), EVERY_TEST, within=["model.p.ledger"]) == {}
    assert kept_models.partial_build_tests(MANIFEST, ["model.p.ledger"], []) == ["test.p.ledger_leads"]


def test_in_the_project_new_web_logs_and_a_new_as_of_keep_the_crm_models_and_the_seeds():
    manifest = json.loads((REPO_ROOT / "dbt_project" / "target" / "manifest.json").read_text(encoding="utf-8"))
    raw = {f"raw.{name}": "loads-1" for name in ("crm_leads", "crm_contacts", "crm_accounts", "weblog_hits",
                                                 "email_events", "form_submissions")}
    seeds = {unique_id: "rows" for unique_id, found in manifest["nodes"].items() if found["resource_type"] == "seed"}

    def by_name(as_of: str, raw_tables: dict[str, str]) -> dict[str, str]:
        found = passed_tests.input_digests(manifest, "p", {"as_of": as_of}, raw_tables, seeds, kinds=("model", "seed"))
        return {manifest["nodes"][unique_id]["name"]: digest for unique_id, digest in found.items()}

    before = by_name("2026-06-30", raw)
    after = by_name("2026-07-01", {**raw, "raw.weblog_hits": "loads-2", "raw.email_events": "loads-2",
                                   "raw.form_submissions": "loads-2"})
    unchanged = {name for name in before if before[name] == after.get(name)}
    assert {"int_people", "int_person_records", "stg_crm__leads", "rulebooks", "activity_rules"} <= unchanged
    assert not {"stg_weblogs__hits", "int_activities", "int_scoring_as_of", "int_score_ledger",
                "fct_lead_scores", "stg_forms__submissions"} & unchanged
    # The score changes report reads what dbt's hooks keep: it has no digest and is always built.
    assert "rpt_score_changes" not in before
