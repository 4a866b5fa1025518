"""The benchmark's result when a run fails: what was measured is kept, nothing is drawn from the
failed run, and the table says which run and step failed and what was not measured. Built from
hand-made runs (the whole harness runs in tests/test_bench.py, under `make test-slow`)."""

from __future__ import annotations

from pathlib import Path

from leadscore.tools.bench.measure import Measured
from leadscore.tools.bench.report import build_result, render_table
from leadscore.tools.bench.runs import RunResult

LOAD = (0.5, 0.5, 0.5)
FLOOR = (Measured(started=0.0, wall_s=40.0, peak_rss_mb=900.0, cpu_s=70.0, returncode=0, load_before=LOAD,
                  load_after=LOAD),
         {"seconds": 40.0, "rows": {"raw.weblogs": 1000}, "tables": {"raw.weblogs": 40.0}})


def run(name: str, wall_s: float, peak_rss_mb: float, success: bool = True, failed_steps=()) -> RunResult:
    measured = Measured(started=100.0, wall_s=wall_s, peak_rss_mb=peak_rss_mb, cpu_s=wall_s * 1.5,
                        returncode=0 if success else 1, load_before=LOAD, load_after=LOAD)
    stages = [{"stage": "startup", "kind": "overhead", "seconds": 5.0, "rows": 0, "rows_per_s": None,
               "peak_rss_mb": 200.0},
              {"stage": "ingest_weblogs", "kind": "ingestion", "seconds": 30.0, "rows": 1000,
               "rows_per_s": 33, "peak_rss_mb": 800.0},
              {"stage": "dbt_models", "kind": "dbt", "seconds": wall_s - 35.0, "rows": 0,
               "rows_per_s": None, "peak_rss_mb": peak_rss_mb}]
    return RunResult(name=name, measured=measured, success=success, run_id=f"{name}-id", stages=stages,
                     failed_steps=list(failed_steps), log=Path(f"run/{name}.log"))


def result_of(runs: dict[str, RunResult], size: str = "large", medium_cold_s: float | None = 500.0) -> dict:
    return build_result(size, 42, True, "2026-06-30", [], FLOOR, runs, medium_cold_s)


def test_a_failed_cold_run_keeps_its_time_but_gives_no_ratio_and_names_the_failed_step():
    result = result_of({"cold": run("cold", 1200.0, 5000.0, success=False, failed_steps=["dbt_models"])})

    assert result["cold_s"] == 1200.0 and result["peak_rss_mb"] == 5000.0
    assert result["cold_vs_floor"] is None and result["incremental_s"] is None and result["freshness_s"] is None
    assert result["failed_run"] == "cold" and not result["all_succeeded"]
    assert result["runs_not_measured"] == ["incremental", "noop", "freshness"]
    assert result["runs"]["cold"]["failed_steps"] == ["dbt_models"]
    # A ratio missing because its run failed is a target not met, never a pass.
    assert {name for name, target in result["targets"].items() if not target["met"]} == {
        "cold_vs_floor", "incremental_vs_cold", "freshness_vs_cold", "noop_s", "large_vs_medium_cold"}
    assert result["targets"]["peak_rss_mb"] == {"value": 5000.0, "limit": 8192.0, "met": True}

    table = render_table(result)
    assert "FAILED: the cold run (steps: dbt_models" in table
    assert "Not measured after it: incremental, noop, freshness" in table


def test_a_failed_incremental_run_keeps_the_cold_figures():
    result = result_of({"cold": run("cold", 200.0, 3000.0), "incremental": run("incremental", 90.0, 3500.0, False)},
                       size="medium")

    assert result["cold_vs_floor"] == 5.0 and result["targets"]["cold_vs_floor"]["met"]
    assert result["incremental_s"] == 90.0 and result["incremental_vs_cold"] is None
    assert result["noop_changed_tables"] is None and result["runs_not_measured"] == ["noop", "freshness"]
    assert result["failed_run"] == "incremental" and result["peak_rss_mb"] == 3500.0
    assert "FAILED: the incremental run (steps: none recorded" in render_table(result)


def test_every_run_measured_and_successful_is_all_succeeded():
    runs = {name: run(name, wall, 3000.0) for name, wall in
            (("cold", 200.0), ("incremental", 20.0), ("noop", 2.0), ("freshness", 15.0))}
    result = result_of(runs, size="medium")

    assert result["all_succeeded"] and result["failed_run"] is None and result["runs_not_measured"] == []
    assert result["incremental_vs_cold"] == 0.1 and result["noop_changed_tables"] == []
    # Freshness needs the facts it should change to be reached; none were recorded here.
    assert result["freshness_s"] is None and not result["targets"]["freshness_vs_cold"]["met"]
    assert "FAILED" not in render_table(result)
