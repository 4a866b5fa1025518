"""Dagster resources: the DuckDB warehouse (one writer at a time) and settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from assets.warehouse import connect


class WarehouseResource(dg.ConfigurableResource):
    """The embedded DuckDB file. Connections are short-lived so dbt (a subprocess) can take the
    single writer lock between steps."""

    path: str

    @contextmanager
    def connection(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        con = connect(Path(self.path), read_only=read_only)
        try:
            yield con
        finally:
            con.close()


class IngestionConfigResource(dg.ConfigurableResource):
    landing: str
    crm_mapping: str = "salesforce"
    quarantine_max_rate: float = 0.05
