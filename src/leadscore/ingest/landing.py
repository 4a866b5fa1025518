"""Finding landing files and fingerprinting them."""

from __future__ import annotations

import gzip
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

# Files still being written by an upstream copy job carry one of these marks until renamed.
_IN_PROGRESS_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload")
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class LandingFile:
    path: Path
    relative_path: str  # relative to the landing root, with forward slashes
    checksum: str  # SHA-256 of the bytes as delivered
    size_bytes: int
    modified_ns: int  # modification time, nanoseconds since the epoch
    is_gzip: bool
    is_empty: bool  # no content at all (a day with no events): never a duplicate of another file

    @property
    def object_name(self) -> str:
        return object_name(self.path)


def object_name(path: Path) -> str:
    """The object a CRM-style file belongs to: its stem up to the first `_`, `-` or `.`."""
    return re.split(r"[_\-. ]", path.name, maxsplit=1)[0]


def file_checksum(path: Path, chunk_size: int = 4 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def is_in_progress(path: Path) -> bool:
    return path.name.startswith(".") or path.name.lower().endswith(_IN_PROGRESS_SUFFIXES)


# (relative path, size in bytes, modification time in ns) -> SHA-256 of a file read before.
KnownChecksums = dict[tuple[str, int, int], str]


def discover(landing_root: Path, family: str, known: KnownChecksums | None = None) -> list[LandingFile]:
    """Every complete file under `<landing_root>/<family>/`, in a stable (sorted) order.

    A file with the same path, size and modification time as one in `known` keeps that checksum
    instead of being read again (the quick check rsync makes too), so a run that finds nothing
    new does not read the whole landing folder."""
    folder = landing_root / family
    if not folder.is_dir():
        return []
    files = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if is_in_progress(path) or any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        with path.open("rb") as handle:
            is_gzip = handle.read(2) == _GZIP_MAGIC
        if is_gzip:
            try:
                with gzip.open(path, "rb") as handle:
                    is_empty = handle.read(1) == b""
            except (OSError, EOFError):
                is_empty = False  # a broken stream is reported when the file is loaded
        else:
            is_empty = path.stat().st_size == 0
        stat = path.stat()
        relative_path = path.relative_to(landing_root).as_posix()
        checksum = (known or {}).get((relative_path, stat.st_size, stat.st_mtime_ns))
        files.append(
            LandingFile(
                path=path,
                relative_path=relative_path,
                checksum=checksum or file_checksum(path),
                size_bytes=stat.st_size,
                modified_ns=stat.st_mtime_ns,
                is_gzip=is_gzip,
                is_empty=is_empty,
            )
        )
    return files
