"""Rotate the warehouse: archive the current DuckDB file and put a compacted copy in its place.

    python -m leadscore.tools.rotate                 # archive to data/warehouse/archive/, compact in place

DuckDB files keep the space of deleted rows (incremental models delete and insert), so a
long-running warehouse grows. Rotation copies every schema into a fresh file (`COPY FROM
DATABASE`), renames it into place and keeps the old file as a dated archive. It needs the single
writer lock, so it fails with a clear message while a run or another session holds the file.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from leadscore.settings import load_settings
from leadscore.warehouse import connect


def rotate(warehouse: Path, archive_dir: Path, stamp: str) -> Path:
    """Archive `warehouse` as `<archive_dir>/<stem>-<stamp>.duckdb`, replace it by a compacted copy,
    and return the archive's path. Both files hold the same tables and rows."""
    if not warehouse.exists():
        raise FileNotFoundError(f"no warehouse at {warehouse}: nothing to rotate")
    archive_dir.mkdir(parents=True, exist_ok=True)
    archive = archive_dir / f"{warehouse.stem}-{stamp}.duckdb"
    if archive.exists():
        raise FileExistsError(f"{archive} already exists: pick another stamp")
    fresh = warehouse.with_name(f".{warehouse.name}.rotating")
    fresh.unlink(missing_ok=True)
    # The writer lock is held until both renames are done, so no run writes the old file after
    # its copy was taken; a run that starts right after opens the complete new file.
    with connect(warehouse) as con:
        con.execute("checkpoint")
        (catalog,) = con.execute("select current_database()").fetchone()
        con.execute(f"attach '{fresh}' as rotated")
        con.execute(f'copy from database "{catalog}" to rotated')
        con.execute("detach rotated")
        os.replace(warehouse, archive)
        os.replace(fresh, warehouse)
    return archive


def main() -> int:
    settings = load_settings()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")  # names the archive only; no result depends on it
    archive = rotate(settings.warehouse, settings.warehouse.parent / "archive", stamp)
    print(f"Archived {archive}; {settings.warehouse} is a compacted copy.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
