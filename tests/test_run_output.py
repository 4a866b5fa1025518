"""What a headless run (`make run`) shows in the terminal while it works and when it ends, and
where it writes its outputs."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.headless import finish, outputs_dir, run_env, run_to_completion, start_run


def timed_lines(root: Path) -> tuple[list[dict], float]:
    """The lines of the reference run with the second each arrived, and the second it ended."""
    entries = [json.loads(line) for line in (root / "run.timings").read_text().splitlines()]
    return [e for e in entries if "line" in e], entries[-1]["at"]


def test_progress_lines_reach_the_terminal_while_the_run_works(headless_reference):
    lines, ended = timed_lines(headless_reference)
    text = "\n".join(e["line"] for e in lines)
    first_step = next(e for e in lines if re.fullmatch(r"  ingest_\w+ +started", e["line"]))
    dbt_lines = [e for e in lines if e["line"].startswith("  dbt  ")]
    # Seen as the steps start, not all at the end: ingestion starts long before the run ends,
    # and dbt's lines arrive over the time dbt works.
    assert first_step["at"] < ended - 10, (first_step, ended)
    assert dbt_lines and dbt_lines[-1]["at"] - dbt_lines[0]["at"] > 5
    assert any(re.search(r" of \d+ OK created sql (table|incremental|view) model marts\.fct_lead_scores ", e["line"])
               for e in dbt_lines)
    # dbt's tests that passed stay in the log; its totals reach the terminal.
    assert not any(re.search(r"\d+ of \d+ PASS ", e["line"]) for e in dbt_lines)
    assert any(e["line"].startswith("  dbt  Done. PASS=") for e in dbt_lines)
    # One line when each step ends, with what it wrote and how long it took.
    assert re.search(r"^  dbt_models +done in \d+\.\ds \(\d+ tables, [\d,]+ rows\)$", text, re.M)
    assert re.search(r"^  ingest_crm +done in \d+\.\ds \(10 tables, [\d,]+ rows\)$", text, re.M)
    # Not a terminal: no colour codes.
    assert "\x1b[" not in text


def test_the_summary_puts_results_first_and_row_counts_only_on_request(headless_reference):
    text = (headless_reference / "run.out").read_text()
    summary = text[text.index("\nScores as of "):]
    warehouse = headless_reference / "warehouse" / "leadscore.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        people, mqls = con.execute(
            "select count(*), count(*) filter (where is_mql) from marts.fct_lead_scores where is_champion"
        ).fetchone()
        first_call = con.execute(
            "select person_name from marts.rpt_call_list order by call_rank limit 1").fetchone()[0]
        # Customers counted from the CRM export itself: accounts with a won deal closed by as_of.
        (customers,) = con.execute(
            """select count(distinct account_id) from staging.stg_crm__opportunities
               where is_won and not coalesce(is_deleted, false) and account_id is not null
                   and close_date <= (select as_of from intermediate.int_scoring_as_of)""").fetchone()
    assert f"People scored  {people:,}; MQLs now {mqls:,}" in summary
    assert customers > 0
    assert re.search(rf"^  Customers +{customers:,}: [\d,]+ ready to buy again \(repurchase-qualified\), "
                     r"[\d,]+ overdue in their purchase cycle$", summary, re.M)
    passed, warned, failed, total = (int(n.replace(",", "")) for n in re.search(
        r"Checks +([\d,]+) run: ([\d,]+) passed, ([\d,]+) warned, ([\d,]+) failed", summary).group(2, 3, 4, 1))
    assert passed + warned + failed == total and total > 300 and failed == 0
    assert "Call first (open leads" in summary and f" 1. {first_call}" in summary
    assert "staging.stg_" not in summary and "Tables (rows)" not in summary
    outputs = outputs_dir(headless_reference)
    assert f"Report:    {outputs / 'reports' / 'lead_scoring_report.html'}" in summary
    assert f"Run log:   {outputs / 'logs' / 'last_run.log'}" in summary


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# A second headless run that builds (about a minute): `make test-slow`.
@pytest.mark.slow
def test_two_warehouses_of_one_checkout_keep_their_outputs_apart(headless_reference, headless_landing, tmp_path):
    """A second warehouse in the same folder as the first: its run writes its exports, report,
    published copy and log beside itself, and the first warehouse's outputs stay as they were."""
    folder = tmp_path / "warehouse"
    shutil.copytree(headless_reference / "warehouse", folder)
    first_outputs = folder / "leadscore_outputs"
    before = digests(first_outputs)
    assert any(name.startswith("exports/crm_sync/") for name in before) and "reports/lead_scoring_report.html" in before
    second = folder / "second.duckdb"
    shutil.copy(folder / "leadscore.duckdb", second)
    # One more delivery, so the second warehouse has something to build.
    landing = tmp_path / "landing"
    shutil.copytree(headless_landing, landing)
    with duckdb.connect(str(second), read_only=True) as con:
        person = con.execute("select min(person_id) from marts.dim_people").fetchone()[0]
    (landing / "adjustments" / "second-warehouse.csv").write_text(
        "adjustment_id,crm_id,rulebook_id,points,score,reason,author,adjusted_at\n"
        f"SW1,{person},,9,,Met at a trade show,rep1,2026-06-20T10:00:00Z\n")
    env = run_env(tmp_path, landing)
    env["LEADSCORE_WAREHOUSE"] = str(second)
    del env["LEADSCORE_PUBLISH_DIR"]
    run_to_completion(env, tmp_path / "second.out")

    assert digests(first_outputs) == before
    second_outputs = folder / "second_outputs"
    written = digests(second_outputs)
    assert {"reports/lead_scoring_report.html", "published/leadscore.duckdb", "logs/last_run.log"} <= written.keys()
    assert any(name.startswith("exports/crm_sync/crm_sync_") for name in written)
    printed = (tmp_path / "second.out").read_text()
    assert f"Report:    {second_outputs / 'reports' / 'lead_scoring_report.html'}" in printed
    assert str(first_outputs) not in printed


BAD_FILE = "weblogs/2026/06/access-2026-06-30-extra.log"
GOOD_HIT = ('198.51.100.7 - - [30/Jun/2026:10:00:00 +0000] "GET /pricing HTTP/1.1" 200 512 "-" '
            '"Mozilla/5.0 (X11; Linux x86_64) Firefox/127.0" "v-5e6f7a8b9c"\n')


def test_a_failed_run_says_which_file_and_check_failed_and_shows_no_old_outputs(
        headless_reference, headless_landing, tmp_path):
    shutil.copytree(headless_reference / "warehouse", tmp_path / "warehouse")
    shutil.copytree(headless_reference / "dagster", tmp_path / "dagster")
    landing = tmp_path / "landing"
    shutil.copytree(headless_landing, landing)
    (landing / BAD_FILE).write_text(GOOD_HIT * 10 + "not a log line\n" * 6)
    output = tmp_path / "failed.out"
    code = finish(start_run(run_env(tmp_path, landing), output), output)

    text = output.read_text()
    assert code == 1, text
    assert "The run FAILED after" in text
    # The failing step, then the check's own message with the file, not only its name.
    assert "ingest_weblogs: 1 blocking asset check failed" in text
    assert (f"weblogs/hits quarantine_rate: raw.weblog_hits: 37.50% of rows quarantined (limit 5.00%); "
            f"see raw.quarantine for: {BAD_FILE} (6/16 rows)") in text
    log = outputs_dir(tmp_path) / "logs" / "last_run.log"
    assert f"Run log: {log}" in text and log.stat().st_size > 0
    # The outputs on disk are the previous run's: not shown as if this run wrote them.
    assert not re.search(r"^(CRM sync|Report|For BI): ", text, re.M)
