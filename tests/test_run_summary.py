"""The headless runner's summary lines, on hand-made check metadata."""

from __future__ import annotations

import dagster as dg

from leadscore.orchestration.run import check_message


def test_a_warned_check_without_a_description_says_what_failed():
    # dbt tests come as checks with no description: the count of failing rows says it.
    assert check_message({"dagster_dbt/failed_row_count": dg.MetadataValue.int(1234)}) == \
        "1,234 row(s) fail the dbt test"
    assert check_message({"message": dg.MetadataValue.text("3 stale files")}) == "3 stale files"
    assert check_message({}) == ""
