"""Benchmark the pipeline (what `make bench` runs).

    python -m leadscore.tools.bench                       # medium data, seed 42
    python -m leadscore.tools.bench --size small --seed 7 --root /tmp/bench

In one go: the floor (DuckDB alone reading the landing files), a cold run on an empty warehouse
without the last day of daily files, an incremental run once that day has landed, a freshness run
after one more hour in which a lead crosses the MQL threshold (src/leadscore/tools/bench/freshness.py), and a no-op
run with nothing new. A failed run ends the benchmark there (the next one would start from its broken
warehouse). Writes <root>/latest.json and <root>/<size>/result.json, prints a table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from leadscore.demo.config import SIZES
from leadscore.settings import load_settings
from leadscore.tools.bench.freshness import land_one_hour, pick_lead, reached
from leadscore.tools.bench.landing import BenchData, disk_shortfall, ensure_source, land_held_back, lay_out_cold
from leadscore.tools.bench.report import RUN_JOBS, RUN_NAMES, build_result, render_table, write_result
from leadscore.tools.bench.runs import prepare_dbt, run_floor, run_pipeline, warehouse


def _medium_cold_s(root: Path) -> float | None:
    previous = root / "medium" / "result.json"
    return json.loads(previous.read_text())["cold_s"] if previous.exists() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m leadscore.tools.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=list(SIZES), default="medium")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--root", type=Path, default=load_settings().data_dir / "bench",
                        help="where data and results live (default data/bench)")
    args = parser.parse_args(argv)

    data = BenchData(args.size, args.seed, args.root / args.size)
    # Said before an hour of work, not when the disk fills in the middle of the cold run.
    shortfall = disk_shortfall(data)
    if shortfall:
        print(f"Not enough disk: {shortfall}", file=sys.stderr)
        return 2
    reused = ensure_source(data)
    last_day, held_back = lay_out_cold(data)
    print(f"Landing {data.landing}: {len(held_back)} files of {last_day} held back", flush=True)

    prepare_dbt(data)
    floor = run_floor(data)
    print(f"floor        {floor[1]['seconds']:8.1f} s", flush=True)
    runs, freshness = {}, {}
    for name in RUN_NAMES:
        if name == "incremental":
            land_held_back(data, held_back)
        if name == "freshness":
            lead = pick_lead(warehouse(data))
            if lead is None:
                raise RuntimeError("no lead in stage name with the minimum fit to take over the MQL threshold")
            land_one_hour(data.landing, lead)
            freshness["lead"] = lead.person_id
        runs[name] = run_pipeline(data, name, RUN_JOBS.get(name, "materialize_all"))
        if name == "freshness":
            freshness["reached"] = reached(warehouse(data), data.run_dir / "published" / "leadscore.duckdb", lead)
        print(f"{name:<12} {runs[name].measured.wall_s:8.1f} s", flush=True)
        if not runs[name].success:
            # Each run starts from the warehouse the one before left: the rest would measure a broken state.
            print(f"{name} run failed (steps: {', '.join(runs[name].failed_steps) or 'none recorded'}; see "
                  f"{runs[name].log}): the runs after it are not measured", flush=True)
            break

    result = build_result(args.size, args.seed, reused, last_day, held_back, floor, runs, _medium_cold_s(args.root),
                          freshness)
    paths = write_result(result, args.root)
    print("\n" + render_table(result))
    print(f"\nResults: {', '.join(str(path) for path in paths)}")
    return 0 if result["all_succeeded"] else 1


if __name__ == "__main__":
    sys.exit(main())
