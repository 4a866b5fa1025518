"""Incremental runs and a full rebuild give the same tables.

Tiny demo data is delivered the way a scheduler sees it: everything up to a cut-off day in one
go, then one day per run, with a gzip web log held back and landing after newer days, an email
file one day late, a renamed re-delivery of a file already loaded, and the month's signals and
adjustments on the last day. After each delivery the raw loads run and dbt builds (seeds and
models, incremental ones incrementally) into one warehouse. A second warehouse loads every file
at once and builds from scratch. Every relation of staging, intermediate and marts must hold
the same rows (as multisets, both ways) apart from load-time metadata columns.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from leadscore.ingest.sources import SOURCES, ingest_source
from leadscore.warehouse import connect
from tests.dbt_runner import dbt_failure, run_dbt

REPO_ROOT = Path(__file__).resolve().parent.parent
# Eight dbt builds: run by make test-slow.
pytestmark = pytest.mark.slow
COMPARED_SCHEMAS = ("staging", "intermediate", "marts")
# Run metadata, the only columns allowed to differ: `_loaded_at` is the wall-clock time of the
# load (the two warehouses load the same lines at different times); `_batch_loaded_at` is the
# newest load time the run that last computed the row had seen (in the full build, the single
# load; incrementally, the delivery that last changed the row); `_computed_as_of` is the as_of
# of the run that last recomputed a person's score timeline (one nothing touched since keeps
# an earlier one); `_built_at` and `_upstream_built_at` are when the run that last recomputed a
# key started and the latest such stamp of its input it had read. Everything else, load ids, file
# names and line numbers included, must match.
LOAD_TIME_COLUMNS = {"_loaded_at", "_batch_loaded_at", "_computed_as_of", "_built_at", "_upstream_built_at"}
# Averages and sums of floating-point numbers depend on the order DuckDB's parallel aggregation
# adds them in (two full builds can differ in the last bits): compared to 6 decimals, and to 12
# significant digits from a million up (the timeline's decay coefficients reach 1e16 and more,
# where 6 decimals would ask for more digits than a double holds).
FLOAT_TYPES = {"DOUBLE", "FLOAT", "REAL"}


def rounded_float(name: str) -> str:
    """SQL rounding `name` (a DOUBLE column) to what two builds must agree on."""
    return (f'case when abs("{name}") < 1e6 then round("{name}", 6) '
            f'else round("{name}", 11 - cast(floor(log10(abs("{name}"))) as integer)) end')

FIRST_DAILY_DELIVERY = date(2026, 6, 26)
LAST_DAY = date(2026, 6, 30)
# Held back, then delivered after newer days: (file, the day it lands).
LATE_FILES = {
    "weblogs/2026/06/access-2026-06-24.log.gz": date(2026, 6, 28),
    "email/email-events-2026-06-25.jsonl": date(2026, 6, 27),
}
# A byte-identical copy of a loaded file under another name, landing two days later.
REDELIVERED = ("weblogs/2026/06/access-2026-06-26.log", "weblogs/resent/access-2026-06-26.log", date(2026, 6, 28))
# Two files added to the demo data, landing late: an attack request on 06-23 by a client whose
# page views of 06-22 were delivered days before (they become attack traffic), and a form that
# ties a cookie seen since January 2025 to a lead (its whole history is credited to the lead).
ATTACK_CLIENT = "50.59.246.162"
LATE_ATTACK = (
    "weblogs/2026/06/access-2026-06-23-late.log",
    f'{ATTACK_CLIENT} - - [23/Jun/2026:09:00:00 +0000] "POST /wp-login.php HTTP/1.1" 200 512 "-" '
    '"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) '
    'Version/18.3 Safari/605.1.15" "-"\n',
    date(2026, 6, 29),
)
LATE_FORM_COOKIE = "v-2bb446f723"
LATE_FORM = ("forms/form-submissions-2026-06-29-late.csv", date(2026, 6, 30))


def delivery_day(relative: str) -> date:
    """The day a file lands: the date in its name (monthly files at the end of the month); the
    CRM export, one snapshot, lands with the first delivery so people are known as events come."""
    if relative.startswith("crm/"):
        return date.min
    late = {**LATE_FILES, LATE_ATTACK[0]: LATE_ATTACK[2], LATE_FORM[0]: LATE_FORM[1]}
    if relative in late:
        return late[relative]
    found = re.search(r"(\d{4})-(\d{2})(?:-(\d{2}))?", Path(relative).name)
    assert found, f"no date in landing file name {relative}"
    year, month, day = int(found[1]), int(found[2]), found[3]
    if day is None:
        return LAST_DAY if (year, month) == (LAST_DAY.year, LAST_DAY.month) else date(year, month, 28)
    return date(year, month, int(day))


def deliveries(landing: Path) -> list[list[str]]:
    """Files per run: the first run gets every file before the first daily delivery."""
    files = sorted(str(path.relative_to(landing)) for path in landing.rglob("*") if path.is_file())
    days = [date.min, *(date.fromordinal(n) for n in range(FIRST_DAILY_DELIVERY.toordinal(), LAST_DAY.toordinal() + 1))]
    batches = [[] for _ in days]
    for relative in files:
        day = delivery_day(relative)
        index = 0 if day < FIRST_DAILY_DELIVERY else days.index(day)
        batches[index].append(relative)
    return batches


def add_late_files(demo: Path) -> str:
    """Write the two added files into the demo folder; the email of the lead the form names."""
    (demo / LATE_ATTACK[0]).write_text(LATE_ATTACK[1])
    with (demo / "crm/2026-06-30/Lead.csv").open(encoding="utf-8-sig", newline="") as leads:
        lead = next(row for row in csv.DictReader(leads) if row["Email"] and row["IsDeleted"] != "true")
    header = ("submission_id,submitted_at,form_name,page_url,visitor_id,email,first_name,last_name,"
              "company,job_title,country,phone")
    row = (f"fs-late-0001,2026-06-29T09:00:00Z,contact-sales,https://www.tessellate.io/contact,{LATE_FORM_COOKIE},"
           f"{lead['Email']},{lead['FirstName']},{lead['LastName']},,,,")
    (demo / LATE_FORM[0]).write_text(f"{header}\n{row}\n")
    return lead["Email"]


def land(source_root: Path, landing: Path, relative: str, target: str | None = None) -> None:
    destination = landing / (target or relative)
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source_root / relative, destination)


def ingest(landing: Path, warehouse: Path) -> None:
    with connect(warehouse) as con:
        for source in SOURCES:
            ingest_source(con, landing, source)


def dbt_build(warehouse: Path, target: Path) -> None:
    """Seeds and models, as the pipeline's dbt step builds them (data tests are left out)."""
    done = run_dbt(["build", "--resource-type", "seed", "--resource-type", "model"], warehouse, target)
    assert done.returncode == 0, dbt_failure(done, "dbt build")


def export_relations(warehouse: Path, out: Path) -> dict[str, list[str]]:
    """Each relation of the compared schemas as a Parquet file; its compared columns."""
    out.mkdir(parents=True)
    columns: dict[str, list[str]] = {}
    with connect(warehouse, read_only=True) as con:
        relations = con.execute(
            f"""select table_schema, table_name from information_schema.tables
                where table_schema in {COMPARED_SCHEMAS} order by 1, 2"""
        ).fetchall()
        for schema, table in relations:
            typed = [
                (name, data_type) for name, data_type in con.execute(
                    """select column_name, data_type from information_schema.columns
                       where table_schema = ? and table_name = ? order by ordinal_position""", [schema, table],
                ).fetchall()
                if name not in LOAD_TIME_COLUMNS
            ]
            names = [name for name, _ in typed]
            select = ", ".join(
                f'{rounded_float(name)} as "{name}"' if data_type in FLOAT_TYPES else f'"{name}"'
                for name, data_type in typed
            )
            parquet = out / f"{schema}.{table}.parquet"
            con.execute(f"""copy (select {select} from "{schema}"."{table}") to '{parquet}'""")
            columns[f"{schema}.{table}"] = names
    return columns


@pytest.fixture(scope="module")
def two_warehouses(tmp_path_factory) -> tuple[Path, Path, dict, dict, str]:
    root = tmp_path_factory.mktemp("incremental")
    demo = root / "demo"
    subprocess.run(
        [sys.executable, "-m", "leadscore.demo.generate", "--size", "tiny", "--seed", "7",
         "--landing", str(demo), "--truth", str(root / "truth")],
        check=True, cwd=REPO_ROOT, capture_output=True,
    )
    late_form_lead = add_late_files(demo)
    # Both builds use the same warehouse path in turn, so dbt parses the project once.
    warehouse, target = root / "warehouse" / "leadscore.duckdb", root / "dbt_target"

    landing = root / "landing_incremental"
    batches = deliveries(demo)
    for day_index, batch in enumerate(batches):
        for relative in batch:
            land(demo, landing, relative)
        if day_index and REDELIVERED[2] == date.fromordinal(FIRST_DAILY_DELIVERY.toordinal() + day_index - 1):
            land(demo, landing, REDELIVERED[0], REDELIVERED[1])
        ingest(landing, warehouse)
        dbt_build(warehouse, target)
    incremental_columns = export_relations(warehouse, root / "incremental")
    shutil.rmtree(warehouse.parent)

    landing = root / "landing_full"
    shutil.copytree(root / "landing_incremental", landing)
    ingest(landing, warehouse)
    dbt_build(warehouse, target)
    full_columns = export_relations(warehouse, root / "full")
    return root / "incremental", root / "full", incremental_columns, full_columns, late_form_lead


def test_deliveries_cover_every_file_once_with_late_ones_after_newer_days(tmp_path):
    demo = tmp_path / "demo"
    for relative in ("crm/2026-06-30/Lead.csv", "weblogs/2026/06/access-2026-06-24.log.gz",
                     "weblogs/2026/06/access-2026-06-25.log", "weblogs/2026/06/access-2026-06-27.log",
                     "signals/signals-2026-06.csv", "signals/signals-2026-05.csv"):
        (demo / relative).parent.mkdir(parents=True, exist_ok=True)
        (demo / relative).write_text("x")
    batches = deliveries(demo)
    assert batches[0] == [
        "crm/2026-06-30/Lead.csv", "signals/signals-2026-05.csv", "weblogs/2026/06/access-2026-06-25.log",
    ]
    assert batches[1] == []  # 06-26
    assert batches[2] == ["weblogs/2026/06/access-2026-06-27.log"]
    assert batches[3] == ["weblogs/2026/06/access-2026-06-24.log.gz"]  # 06-28, after 06-27
    assert batches[5] == ["signals/signals-2026-06.csv"]  # 06-30


# Reports on the last build against the one before it: the incremental warehouse's last day
# moved some scores; the single full build has no build before it.
WHAT_THE_LAST_BUILD_MOVED = {"marts.rpt_score_changes", "marts.rpt_rule_changes"}


def test_incremental_runs_and_full_rebuild_give_the_same_tables(two_warehouses):
    incremental, full, incremental_columns, full_columns, _ = two_warehouses
    assert sorted(incremental_columns) == sorted(full_columns)
    assert len(full_columns) > 40, "the build did not create the expected relations"
    differences = {}
    with duckdb.connect() as con:
        for relation, columns in sorted(full_columns.items()):
            assert incremental_columns[relation] == columns, f"{relation}: columns differ"
            if relation in WHAT_THE_LAST_BUILD_MOVED:
                continue
            a, b = f"'{incremental / f'{relation}.parquet'}'", f"'{full / f'{relation}.parquet'}'"
            only_incremental = con.execute(f"select count(*) from (from {a} except all from {b})").fetchone()[0]
            only_full = con.execute(f"select count(*) from (from {b} except all from {a})").fetchone()[0]
            rows = con.execute(f"select count(*) from {b}").fetchone()[0]
            if only_incremental or only_full:
                differences[relation] = (rows, only_incremental, only_full)
    assert not differences, f"relation: (rows in full build, only in incremental, only in full) {differences}"


def test_late_files_change_what_was_built_before(two_warehouses):
    """What the equality above covers: rows built in earlier runs that the late files change."""
    incremental, _, _, _, late_form_email = two_warehouses
    with duckdb.connect() as con:
        def rows(relation: str, query: str) -> list[tuple]:
            return con.execute(query.format(t=f"'{incremental / f'{relation}.parquet'}'")).fetchall()

        # The late attack request makes the client's hits of the days around it attack traffic,
        # and the page views delivered before it disappear.
        classes = rows("staging.stg_weblogs__hits", f"""
            select distinct traffic_class from {{t}} where client_ip = '{ATTACK_CLIENT}'
                and requested_at between '2026-06-16' and '2026-06-30'""")
        assert classes == [("attack",)]
        assert rows("intermediate.int_web_page_views", f"""
            select count(*) from {{t}} where client_ip = '{ATTACK_CLIENT}'
                and viewed_at between '2026-06-16' and '2026-06-30'""") == [(0,)]
        # The late form ties the cookie to the lead: its page views since January 2025 are theirs.
        lead = rows("intermediate.int_person_emails",
                    f"select person_id from {{t}} where email = lower('{late_form_email}')")
        people = rows("intermediate.int_web_page_views", f"""
            select person_id, min(viewed_at) < '2025-06-01' from {{t}}
            where visitor_id = '{LATE_FORM_COOKIE}' group by 1""")
        assert people == [(lead[0][0], True)]
        # The redelivered copy was recorded as a duplicate, not loaded again; the held-back gzip
        # file was loaded when it came.
        files = {name for (name,) in rows("staging.stg_weblogs__hits", "select distinct _source_file from {t}")}
        assert "weblogs/2026/06/access-2026-06-24.log.gz" in files
        assert "weblogs/resent/access-2026-06-26.log" not in files
