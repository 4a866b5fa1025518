"""The headless runner's summary lines, on hand-made check metadata."""

from __future__ import annotations

import dagster as dg

from leadscore.orchestration.run import check_message, output_lines
from leadscore.settings import load_settings


def test_a_warned_check_without_a_description_says_what_failed():
    # dbt tests come as checks with no description: the count of failing rows says it.
    assert check_message({"dagster_dbt/failed_row_count": dg.MetadataValue.int(1234)}) == \
        "1,234 row(s) fail the dbt test"
    assert check_message({"message": dg.MetadataValue.text("3 stale files")}) == "3 stale files"
    assert check_message({}) == ""


def test_the_bi_line_says_how_many_tables_a_run_wrote_when_it_kept_some(tmp_path):
    settings = load_settings({"LEADSCORE_HOME": str(tmp_path), "LEADSCORE_PUBLISH_DIR": str(tmp_path / "published")})
    (tmp_path / "published").mkdir()
    (tmp_path / "published" / "leadscore.duckdb").write_bytes(b"")
    where = f"For BI:    {tmp_path / 'published' / 'leadscore.duckdb'} and {tmp_path / 'published' / 'parquet'}"

    hourly = {"outputs": ["published"], "published": {"tables": 39, "rewritten": 16}}
    assert f"{where} (16 of 39 tables had changed and were written; the others kept)" in \
        output_lines(None, set(), settings, hourly)
    # Every table written (a first run, or every table changed): nothing to add.
    daily = {"outputs": ["published"], "published": {"tables": 39, "rewritten": 39}}
    assert where in output_lines(None, set(), settings, daily)
