"""Noticing new landing files without picking one up while it is still being written.

Upstream copy jobs that write under a temporary name (`.tmp`, `.part`, a leading dot) and rename
when done are safe at once. Those that write in place are not, so a file counts as arrived only
once it looked the same (size and modification time) at two consecutive looks. What was seen and
what was already handed to a run are kept between looks as plain JSON (a sensor cursor).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from leadscore.ingest.landing import is_in_progress

Signature = tuple[int, int]  # (size in bytes, modification time in ns)


def observe(landing_root: Path, families: list[str]) -> dict[str, Signature]:
    """Size and modification time of every complete-looking file of the families, by relative path.
    Cheap: no file is opened, so a large landing folder can be watched every few seconds."""
    seen: dict[str, Signature] = {}
    for family in families:
        folder = landing_root / family
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            relative = path.relative_to(landing_root)
            if any(part.startswith(".") for part in relative.parts) or is_in_progress(path) or not path.is_file():
                continue
            stat = path.stat()
            seen[relative.as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return seen


@dataclass
class Arrivals:
    """The outcome of one look: files ready to load, files still changing, and the next state."""

    ready: list[str]
    settling: list[str]
    state: ArrivalState


@dataclass
class ArrivalState:
    seen: dict[str, Signature] = field(default_factory=dict)  # at the previous look
    handed_over: dict[str, Signature] = field(default_factory=dict)  # signature when last given to a run

    def to_json(self) -> str:
        return json.dumps({"seen": self.seen, "handed_over": self.handed_over}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> ArrivalState:
        if not text:
            return cls()
        data = json.loads(text)
        return cls(seen=_signatures(data.get("seen", {})), handed_over=_signatures(data.get("handed_over", {})))

    def look(self, current: dict[str, Signature]) -> Arrivals:
        """Compare a new observation with the previous one. A file is ready when it is unchanged
        since the previous look and was not handed over with this signature yet; a file rewritten
        after it was handed over is ready again once it settles (ingestion tells a re-delivery
        from a copy by its checksum)."""
        ready, settling = [], []
        for path, signature in sorted(current.items()):
            if self.handed_over.get(path) == signature:
                continue
            (ready if self.seen.get(path) == signature else settling).append(path)
        handed_over = {path: sig for path, sig in self.handed_over.items() if path in current}
        handed_over.update({path: current[path] for path in ready})
        return Arrivals(ready=ready, settling=settling, state=ArrivalState(seen=dict(current), handed_over=handed_over))


def _signatures(mapping: dict[str, list[int]]) -> dict[str, Signature]:
    return {path: (size, mtime_ns) for path, (size, mtime_ns) in mapping.items()}
