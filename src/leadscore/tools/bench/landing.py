"""The benchmark's data: generated once per size and seed, then laid out for a cold run without the
last day of daily files, which land afterwards for the incremental run.

    data/bench/<size>/source/landing   what the demo generator wrote (reused when size and seed match)
    data/bench/<size>/run/             rebuilt at every benchmark: landing, warehouse, Dagster home...
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# The families the demo writes one file per day into; the CRM export is a dated snapshot and the
# signals a monthly file: both stay in the cold run (the snapshot is dated at the end of the data).
DAILY_FAMILIES = ("weblogs", "forms", "email")
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")
STAMP = "generated.json"


# Free disk a benchmark needs at its peak, in GB, its data included. Measured at large (0b95796):
# 14 GB of landing files, DuckDB's spill of at least 25 GB in the score timeline beside a 16 GB
# warehouse, then a 27 GB warehouse with the published copy (13 GB) written beside the previous
# one. Medium measured 2.8 GB of landing files, a 5.5 GB warehouse and a 2.7 GB copy; the rest
# is margin for the spill.
DISK_NEEDED_GB = {"tiny": 1, "small": 1, "medium": 20, "large": 70}


@dataclass(frozen=True)
class BenchData:
    size: str
    seed: int
    root: Path  # data/bench/<size>

    @property
    def source(self) -> Path:
        return self.root / "source" / "landing"

    @property
    def run_dir(self) -> Path:
        return self.root / "run"

    @property
    def landing(self) -> Path:
        return self.run_dir / "landing"


def ensure_source(data: BenchData, python: str = sys.executable) -> bool:
    """Generate the landing files unless the same size and seed are already there; True if reused."""
    stamp = data.root / "source" / STAMP
    wanted = {"size": data.size, "seed": data.seed}
    if stamp.exists() and json.loads(stamp.read_text()) == wanted and data.source.is_dir():
        return True
    stamp.unlink(missing_ok=True)
    # The generator's hidden truth (4.8 GB at large size) is never read here: it is deleted at once,
    # leaving the disk to the warehouse and DuckDB's spill.
    truth = data.root / "source" / "truth"
    subprocess.run(
        [python, "-m", "leadscore.demo.generate", "--size", data.size, "--seed", str(data.seed), "--force",
         "--landing", str(data.source), "--truth", str(truth)],
        check=True,
    )
    shutil.rmtree(truth, ignore_errors=True)
    stamp.write_text(json.dumps(wanted))
    return False


def _day_of(path: Path) -> str | None:
    match = _DATE.search(path.name)
    return match.group(1) if match else None


def last_day_files(landing: Path) -> tuple[str, list[Path]]:
    """The last day of the daily families and its files (relative to `landing`)."""
    daily = [
        path.relative_to(landing)
        for family in DAILY_FAMILIES
        for path in sorted((landing / family).rglob("*"))
        if path.is_file() and _day_of(path)
    ]
    if not daily:
        raise FileNotFoundError(f"{landing}: no daily files in {', '.join(DAILY_FAMILIES)}/")
    last = max(_day_of(path) for path in daily)
    return last, [path for path in daily if _day_of(path) == last]


def _place(source: Path, target: Path) -> None:
    """A hard link (the pipeline never writes landing files), or a copy across file systems."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def lay_out_cold(data: BenchData) -> tuple[str, list[Path]]:
    """A fresh run folder whose landing holds every source file but the last day's daily files."""
    shutil.rmtree(data.run_dir, ignore_errors=True)
    last, held_back = last_day_files(data.source)
    skipped = set(held_back)
    for path in sorted(data.source.rglob("*")):
        relative = path.relative_to(data.source)
        if path.is_file() and relative not in skipped:
            _place(path, data.landing / relative)
    return last, held_back


def land_held_back(data: BenchData, held_back: list[Path]) -> None:
    """The last day arrives: its daily files appear in the landing folder."""
    for relative in held_back:
        _place(data.source / relative, data.landing / relative)


def footprint_bytes(folder: Path) -> int:
    """Disk used by the files under `folder`, each hard-linked file counted once (the run's
    landing links the source's files)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for path in folder.rglob("*") if folder.exists() else ():
        info = path.lstat()
        if path.is_file() and not path.is_symlink() and (info.st_dev, info.st_ino) not in seen:
            seen.add((info.st_dev, info.st_ino))
            total += info.st_blocks * 512
    return total


def disk_shortfall(data: BenchData, free_bytes: int | None = None) -> str | None:
    """Why the disk holding the benchmark's data is too small for its size, or None. What the
    benchmark already holds there (a reused source, the previous run it replaces) counts as
    available."""
    data.root.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(data.root).free if free_bytes is None else free_bytes
    needed = DISK_NEEDED_GB[data.size] * 10**9
    available = free + footprint_bytes(data.root)
    if available >= needed:
        return None
    return (f"a {data.size} benchmark needs about {DISK_NEEDED_GB[data.size]} GB of disk at its peak "
            f"(landing files, warehouse, DuckDB's spill, the published copy), and {data.root} has "
            f"{available / 10**9:.1f} GB (free and its own data): free some space or pass --root "
            f"on a larger disk")
