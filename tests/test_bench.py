"""The benchmark harness on tiny data: what it records, not how fast anything is (no timed
assertions: speed is what `make bench` reports)."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from leadscore.tools.bench.__main__ import main as bench_main
from leadscore.tools.bench.landing import BenchData, last_day_files
from leadscore.warehouse import connect

REQUIRED_KEYS = {"size", "floor_s", "cold_s", "incremental_s", "freshness_s", "noop_s", "peak_rss_mb", "stages",
                 "loadavg"}

# Two pipeline runs and a floor measurement: a long scenario, run by `make test-slow`.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("bench")
    assert bench_main(["--size", "tiny", "--seed", "7", "--root", str(root)]) == 0
    result = json.loads((root / "latest.json").read_text())
    return {"root": root, "result": result, "data": BenchData("tiny", 7, root / "tiny")}


def test_results_hold_the_documented_keys_and_every_run_succeeded(bench):
    result = bench["result"]
    assert REQUIRED_KEYS <= set(result)
    assert result["size"] == "tiny" and result["all_succeeded"]
    assert json.loads((bench["root"] / "tiny" / "result.json").read_text()) == result
    assert result["floor_s"] > 0 and result["cold_s"] > 0 and result["peak_rss_mb"] > 0


def test_stages_add_up_to_each_run_wall_time(bench):
    result = bench["result"]
    for name in ("cold", "incremental", "freshness", "noop"):
        stages = result["stages"][name]
        assert sum(stage["seconds"] for stage in stages) == pytest.approx(result[f"{name}_s"], abs=0.02)
    for name in ("cold", "incremental"):
        stages = result["stages"][name]
        kinds = {stage["kind"] for stage in stages}
        assert {"ingestion", "dbt", "overhead", "python", "publishing"} <= kinds, name
        steps = [stage["stage"] for stage in stages if stage["kind"] != "overhead"]
        assert all(stage["seconds"] >= 0 for stage in stages if stage["kind"] != "overhead")
        assert "dbt_models" in steps and {"ingest_weblogs", "ingest_email", "ingest_forms"} <= set(steps)


def test_the_noop_run_decides_before_starting_dagster_and_shows_where_its_time_went(bench):
    result = bench["result"]
    stages = result["stages"]["noop"]
    assert [(stage["stage"], stage["kind"]) for stage in stages] == [
        ("startup", "overhead"), ("no-op check", "check"), ("shutdown", "overhead")]
    assert all(stage["seconds"] > 0 and stage["peak_rss_mb"] > 0 for stage in stages)
    assert result["runs"]["noop"]["nothing_to_do"].startswith("same landing files")
    # Dagster's storage holds the cold, incremental and freshness runs only.
    with dg.DagsterInstance.from_config(str(bench["data"].run_dir / "dagster")) as instance:
        assert [run.status for run in instance.get_runs()] == [dg.DagsterRunStatus.SUCCESS] * 3


def test_peak_memory_is_recorded_per_stage_and_per_dbt_model(bench):
    """Where the memory goes: every step's peak, and the dbt models' (within the run's peak)."""
    result = bench["result"]
    for name in ("cold", "incremental"):
        run_peak = result["runs"][name]["peak_rss_mb"]
        steps = [stage for stage in result["stages"][name] if stage["kind"] != "overhead"]
        assert all(0 < stage["peak_rss_mb"] <= run_peak for stage in steps), name
        # Each figure is its own window's: start-up (one interpreter) stays under the dbt step
        # (the run's process and dbt's).
        by_stage = {stage["stage"]: stage["peak_rss_mb"] for stage in result["stages"][name]}
        assert by_stage["startup"] < by_stage["dbt_models"], name
        nodes = result["runs"][name]["dbt"]["largest_memory_nodes"]
        assert nodes and all(0 < node["peak_rss_mb"] <= run_peak for node in nodes), name
        assert [node["peak_rss_mb"] for node in nodes] == sorted((node["peak_rss_mb"] for node in nodes), reverse=True)


def test_the_last_day_is_held_back_then_loaded_alone_by_the_incremental_run(bench):
    data: BenchData = bench["data"]
    last_day, held_back = last_day_files(data.source)
    result = bench["result"]
    assert result["held_back_day"] == last_day == "2026-06-30"
    families = {Path(p).parts[0] for p in result["held_back_files"]}
    assert "weblogs" in families and families <= {"weblogs", "forms", "email"}
    with connect(data.run_dir / "warehouse" / "leadscore.duckdb", read_only=True) as con:
        by_file = dict(con.execute(
            "select source_file, rows_loaded + rows_quarantined from raw.load_manifest"
        ).fetchall())
        deliveries = con.execute(
            "select count(distinct loaded_at) from raw.load_manifest where source = 'weblogs'"
        ).fetchone()
    held = {path.as_posix() for path in held_back}
    hour = {path for path in by_file if "-hour." in path}
    # The ledger, not the harness, says what each file held.
    rows = {name: sum(s["rows"] for s in result["stages"][name])
            for name in ("cold", "incremental", "freshness", "noop")}
    assert rows["incremental"] == sum(n for path, n in by_file.items() if path in held) > 0
    assert rows["cold"] == sum(n for path, n in by_file.items() if path not in held | hour)
    assert rows["freshness"] == sum(n for path, n in by_file.items() if path in hour) > 0
    assert rows["noop"] == 0
    # The cold run's, the incremental run's and the freshness run's; none from the no-op run.
    assert deliveries == (3,)


def test_one_more_hour_makes_the_lead_an_mql_with_an_sla_in_the_warehouse_and_the_copy(bench):
    """The freshness run: the hour's web, form and email files are loaded, and the lead it was
    written for is now an MQL of the champion, in stage mql, with an MQL SLA, in the warehouse
    and the published copy; only then does the benchmark report a freshness time."""
    result, run_dir = bench["result"], bench["data"].run_dir
    lead = result["freshness_lead"]
    with connect(run_dir / "warehouse" / "leadscore.duckdb", read_only=True) as con:
        hour_files = dict(con.execute(
            "select source, rows_loaded from raw.load_manifest where source_file like '%-hour.%'").fetchall())
        is_mql, threshold, score = con.execute(
            """select scores.is_mql, rulebooks.mql_threshold, scores.total_score from marts.fct_lead_scores as scores
            inner join seeds.rulebooks as rulebooks using (rulebook_id)
            where scores.is_champion and scores.person_id = ?""", [lead]).fetchone()
        stage = con.execute("select stage, cause from marts.fct_lead_stage_history where person_id = ? and is_current",
                            [lead]).fetchone()
        slas = con.execute("select policy from marts.fct_lead_sla where person_id = ? order by 1", [lead]).fetchall()
        # Each form fill of the hour's file is in the champion's ledger with points.
        forms_file = next((run_dir / "landing" / "forms").glob("*-hour.csv"))
        submitted = sorted(line.split(",")[1].replace("T", " ").rstrip("Z")
                           for line in forms_file.read_text().splitlines()[1:])
        scored = sorted(str(at) for (at,) in con.execute(
            """select event_at from marts.fct_score_ledger where person_id = ? and is_champion
            and activity_type = 'form_submission' and points > 0 and event_at >= ?""", [lead, submitted[0]]).fetchall())
    with connect(run_dir / "published" / "leadscore.duckdb", read_only=True) as con:
        published = con.execute(
            "select total_score, is_mql from marts.fct_lead_scores where is_champion and person_id = ?", [lead]
        ).fetchone()
    assert set(hour_files) == {"weblogs", "forms", "email"} and all(hour_files.values())
    assert is_mql and score >= threshold and stage[0] == "mql"
    assert ("mql_acceptance",) in slas and ("mql_first_touch",) in slas
    assert scored == submitted and len(submitted) == 4
    assert published == (score, True)
    assert result["freshness_s"] == result["runs"]["freshness"]["wall_s"] > 0
    assert all(result["freshness_reached"].values())


def test_the_noop_run_changes_no_table(bench):
    assert bench["result"]["noop_changed_tables"] == []


def test_the_floor_reads_every_family_of_the_landing(bench):
    tables = set(bench["result"]["floor_tables_s"])
    assert {"weblog_hits", "email_events", "forms", "signals", "crm_Lead", "crm_Contact"} <= tables


def test_the_hourly_run_publishes_what_it_rebuilt_and_keeps_the_rest_as_the_warehouse_has_it(bench):
    """After the freshness run (the hourly job) the published copy holds the same rows as the
    warehouse in every table, though it wrote again only the tables whose rows had changed: the
    scores, not the daily trend, the feedback tables or the reports, which the job does not build."""
    run_dir = bench["data"].run_dir
    with dg.DagsterInstance.from_config(str(run_dir / "dagster")) as instance:
        records = instance.fetch_materializations(dg.AssetKey(["published", "bi_copy"]), limit=1).records
        rewritten = set(records[0].asset_materialization.metadata["tables rewritten"].value)
        published = set(records[0].asset_materialization.metadata["tables"].value)
    assert "marts.fct_lead_scores" in rewritten and "marts.fct_score_ledger" in rewritten
    assert not {"marts.fct_lead_score_daily", "marts.rpt_funnel", "feedback.predictive_scores",
                "feedback.rpt_backtest"} & rewritten
    assert rewritten < published

    with connect(run_dir / "published" / "leadscore.duckdb", read_only=True) as con:
        con.execute(f"attach '{run_dir / 'warehouse' / 'leadscore.duckdb'}' as warehouse (read_only)")
        differing = [name for name in sorted(published) if con.execute(
            f"select count(*) from ((select * from {name} except all select * from warehouse.{name}) "
            f"union all (select * from warehouse.{name} except all select * from {name}))").fetchone()[0]]
    assert differing == []
