"""Writing the landing files. Text lines are built inside DuckDB and written with COPY, one file at a
time; files are written under a hidden name and renamed, as the landing contract expects."""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

BOM = b"\xef\xbb\xbf"
RAW_BYTES = b"caf\xe9\xff\xfe"  # Latin-1 and invalid UTF-8 bytes some scanners send


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = true")
    return con


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _hidden(path: Path) -> Path:
    return path.with_name("." + path.name + ".part")


def write_crm_csv(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, path: Path) -> int:
    """A Salesforce-style export file: UTF-8 with a byte-order mark, RFC 4180 quoting."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp, body = _hidden(path), path.with_name("." + path.name + ".body.part")
    con.register("crm_frame", frame)
    con.execute(f"COPY (SELECT * FROM crm_frame) TO '{_sql_path(body)}' (HEADER true, DELIMITER ',', QUOTE '\"')")
    con.unregister("crm_frame")
    with open(tmp, "wb") as out, open(body, "rb") as src:
        out.write(BOM)
        shutil.copyfileobj(src, out, 1 << 20)
    body.unlink()
    os.replace(tmp, path)
    return len(frame)


def write_line_files(
    con: duckdb.DuckDBPyConnection,
    view: str,
    paths: list[Path],
    gz: list[bool],
    counts: np.ndarray,
    raw_bytes_files: set[int] = frozenset(),
    token: str = "",
    raw: bytes = b"",
) -> None:
    """Write the lines of `view` (already in file order) as one text file per entry of `paths`.

    A single COPY streams every line through a named pipe into a splitter that cuts the stream at
    the known line counts: one COPY per file costs more than the whole split, and a scratch file would
    double the bytes written. Files in `raw_bytes_files` get `token` replaced by `raw` (bytes that
    are not UTF-8, which DuckDB strings cannot hold)."""
    splitter = _Splitter(paths, gz, counts, raw_bytes_files, token.encode(), raw)
    with tempfile.TemporaryDirectory(prefix="demo-lines-") as scratch_dir:
        target = Path(scratch_dir) / "lines"
        copy = (
            f"COPY (SELECT line FROM {view}) TO '{_sql_path(target)}' "
            "(FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01')"
        )
        if hasattr(os, "mkfifo"):
            os.mkfifo(target)
            reader = threading.Thread(target=splitter.drain, args=(target,))
            reader.start()
            try:
                con.execute(copy)
            finally:
                _release(target)  # the reader sees end-of-file even if COPY failed before opening the pipe
                reader.join()
        else:  # no named pipes on this platform: go through a scratch file
            con.execute(copy)
            splitter.drain(target)
    splitter.finish()


def _release(fifo: Path) -> None:
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass


class _Splitter:
    """Cuts a stream of lines into files at given line counts (gzip and raw bytes where asked)."""

    def __init__(
        self, paths: list[Path], gz: list[bool], counts: np.ndarray, raw_files: set[int], token: bytes, raw: bytes
    ):
        self.paths, self.gz, self.raw_files, self.token, self.raw = paths, gz, raw_files, token, raw
        self.remaining = [int(c) for c in counts]
        self.k = 0
        self.handle = None
        self.buffer: list[bytes] = []
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.jobs = []
        self.error: BaseException | None = None

    def drain(self, source: Path) -> None:
        with open(source, "rb") as stream:
            while True:
                block = stream.read(1 << 22)
                if not block:
                    break
                if self.error is None:  # after an error keep reading so the writer never blocks
                    try:
                        self._feed(block)
                    except BaseException as exc:  # noqa: BLE001 - re-raised in finish()
                        self.error = exc

    def _feed(self, block: bytes) -> None:
        newlines = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10)
        pos, used = 0, 0
        while self.k < len(self.paths):
            need = self.remaining[self.k]
            if need > len(newlines) - used:
                self._write(block[pos:])
                self.remaining[self.k] -= len(newlines) - used
                return
            if need:
                cut = int(newlines[used + need - 1]) + 1
                self._write(block[pos:cut])
                pos, used = cut, used + need
            self._close()
        if pos < len(block):
            raise ValueError("more lines than expected")

    def _buffered(self) -> bool:
        return self.gz[self.k] or self.k in self.raw_files

    def _write(self, data: bytes) -> None:
        if not data:
            return
        if self._buffered():
            self.buffer.append(data)
            return
        if self.handle is None:
            self.paths[self.k].parent.mkdir(parents=True, exist_ok=True)
            self.handle = open(_hidden(self.paths[self.k]), "wb")
        self.handle.write(data)

    def _close(self) -> None:
        path = self.paths[self.k]
        path.parent.mkdir(parents=True, exist_ok=True)
        if self._buffered():
            data = b"".join(self.buffer)
            self.buffer = []
            if self.k in self.raw_files:
                data = data.replace(self.token, self.raw)
            self.jobs.append(self.pool.submit(_write_file, path, data, self.gz[self.k]))
        else:
            if self.handle is None:
                self.handle = open(_hidden(path), "wb")
            self.handle.close()
            self.handle = None
            os.replace(_hidden(path), path)
        self.k += 1

    def finish(self) -> None:
        while self.error is None and self.k < len(self.paths) and self.remaining[self.k] == 0:
            self._close()
        for job in self.jobs:
            job.result()
        self.pool.shutdown()
        if self.error is not None:
            raise self.error
        if self.k < len(self.paths):
            raise ValueError(f"stream ended early: {len(self.paths) - self.k} files not complete")


def _write_file(path: Path, data: bytes, compress: bool) -> None:
    tmp = _hidden(path)
    tmp.write_bytes(gzip.compress(data, compresslevel=1, mtime=0) if compress else data)
    os.replace(tmp, path)


def write_grouped_csv(frame: pd.DataFrame, group: np.ndarray, paths: dict[int, Path]) -> dict[Path, int]:
    """Small families (forms, signals): render once with pandas, then split the lines per file."""
    order = np.argsort(group, kind="stable")
    frame, group = frame.iloc[order], np.asarray(group)[order]
    text = frame.to_csv(index=False, header=False, lineterminator="\n")
    lines = text.split("\n")[:-1] if text else []
    header = ",".join(frame.columns) + "\n"
    counts: dict[Path, int] = {}
    bounds = np.flatnonzero(np.diff(group)) + 1
    starts = np.concatenate([[0], bounds]) if len(group) else np.array([], dtype=int)
    ends = np.concatenate([bounds, [len(group)]]) if len(group) else np.array([], dtype=int)
    for a, b in zip(starts, ends, strict=True):
        path = paths[int(group[a])]
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = _hidden(path)
        tmp.write_text(header + "\n".join(lines[a:b]) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        counts[path] = int(b - a)
    return counts


def copy_file(src: Path, dst: Path) -> None:
    """The same file delivered twice under another name."""
    shutil.copyfile(src, dst)
