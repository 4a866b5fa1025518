"""What a data-quality check found: passed or not, a message naming what and where, metadata."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CheckOutcome:
    passed: bool
    message: str
    metadata: dict = field(default_factory=dict)
