"""A test-only pause point, so the crash tests can kill a run at a known place instead of guessing
with sleeps.

With `LEADSCORE_TEST_PAUSE_AT=<point>` (or `<point>:<n>` for the n-th pass, default the first),
the process that reaches `pause_point(<point>)` writes the file named by
`LEADSCORE_TEST_PAUSE_MARKER` and then sleeps until it is killed. Unset, which is always the case
outside tests, a pause point costs one dictionary lookup.

Points:
- `ingest_commit`: a landing file's raw rows, quarantined rows and manifest row are written but
  not committed yet.
- `publish_table`: a table has been copied into the unpublished BI file and its Parquet file
  staged, nothing renamed into place yet.
- `publish_swap`: the BI database file has been renamed into place, its Parquet files not yet.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

PAUSE_AT = "LEADSCORE_TEST_PAUSE_AT"
PAUSE_MARKER = "LEADSCORE_TEST_PAUSE_MARKER"

_passes: Counter[str] = Counter()


def pause_point(point: str) -> None:
    wanted = os.environ.get(PAUSE_AT)
    if not wanted:
        return
    name, _, nth = wanted.partition(":")
    if name != point:
        return
    _passes[point] += 1
    if _passes[point] != int(nth or 1):
        return
    marker = os.environ.get(PAUSE_MARKER)
    if marker:
        Path(marker).write_text(f"{point}:{_passes[point]}\n", encoding="utf-8")
    while True:  # until the test kills the process
        time.sleep(3600)
