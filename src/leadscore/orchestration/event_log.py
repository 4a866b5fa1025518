"""Dagster's SQLite event log, with its database connections kept open between events.

A run of the whole job writes about 3,000 events: a planned materialization or check per dbt
model and test when the run is created, then a result for each. Dagster's own SQLite storage
opens a new engine and connection for every event and closes it after, and the close of a
database in WAL mode checkpoints it: about 10 ms an event, 25 s of a small run. Kept open, the
same writes take a third of that. Each event is still its own committed transaction in the same
files, so the webserver, the daemon and `nothing_new` read them as before.

Configured in the home's dagster.yaml (`event_log_storage`), with the absolute path of Dagster's
usual place, `<DAGSTER_HOME>/history/runs/`, written when the file is copied into a new home
(`instance_settings`): a process that opens another home (`DagsterInstance.from_config`) must
find that home's events, whatever its own `DAGSTER_HOME` says.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from dagster import Field, StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._serdes import ConfigurableClassData
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine

# Run shards a long-lived process (the webserver) keeps open at most; the index is one of them.
MAX_OPEN_SHARDS = 16


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage whose engines (one per shard file) are made once and reused."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return {"base_dir": Field(StringSource)}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: dict[str, Any]
                          ) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.pop(shard, None)
        if engine is None:
            # One thread at a time uses a connection (the storage's lock is held around each use),
            # but not always the thread that opened it.
            engine = create_engine(self.conn_string_for_shard(shard), pool_size=1, max_overflow=4,
                                   connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False})
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
        self._engines[shard] = engine  # most recently used last
        while len(self._engines) > MAX_OPEN_SHARDS:
            _, oldest = self._engines.popitem(last=False)
            oldest.dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _close_engines(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        self._close_engines()  # before their files are deleted
        super().wipe()

    def dispose(self) -> None:
        self._close_engines()
        super().dispose()


def instance_settings(template: str, home: Path) -> str:
    """The project's dagster.yaml for the home `home`: the template (its comments kept) and this
    event log, in Dagster's usual place under that home."""
    event_log = {"event_log_storage": {
        "module": "leadscore.orchestration.event_log",
        "class": PooledSqliteEventLogStorage.__name__,
        "config": {"base_dir": str(home.resolve() / "history" / "runs") + os.sep},
    }}
    return template.rstrip() + "\n" + yaml.safe_dump(event_log, sort_keys=False)
