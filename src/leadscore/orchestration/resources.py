"""Dagster resources: the DuckDB warehouse (one writer at a time) and settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from leadscore.checks.freshness import DEFAULT_MAX_LAG_HOURS
from leadscore.checks.row_counts import DEFAULT_LIMITS, RowCountLimits
from leadscore.warehouse import connect


class WarehouseResource(dg.ConfigurableResource):
    """The embedded DuckDB file. Connections are short-lived so dbt (a subprocess) can take the
    single writer lock between steps."""

    path: str

    @contextmanager
    def connection(
        self, read_only: bool = False, memory_limit: str | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        con = connect(Path(self.path), read_only=read_only, memory_limit=memory_limit)
        try:
            yield con
        finally:
            con.close()


class IngestionConfigResource(dg.ConfigurableResource):
    landing: str
    crm_mapping: str = "salesforce"
    quarantine_max_rate: float = 0.05


class ChecksConfigResource(dg.ConfigurableResource):
    """Limits of the checks that warn: source freshness and row-count changes between runs."""

    freshness_max_lag_hours: str = DEFAULT_MAX_LAG_HOURS
    row_count_max_drop: float = DEFAULT_LIMITS.max_drop
    row_count_max_jump: float = DEFAULT_LIMITS.max_jump

    def row_count_limits(self) -> RowCountLimits:
        return RowCountLimits(max_drop=self.row_count_max_drop, max_jump=self.row_count_max_jump)
