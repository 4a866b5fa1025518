"""Dataset sizes, the simulated period and the random streams.

All times inside the generator are int64 Unix seconds (UTC). `NEVER` marks an event that did not
happen, so that "happened before t" is simply `x < t`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

DAY = 86_400
PERIOD_START = 1_735_689_600  # 2025-01-01T00:00:00Z
N_DAYS = 546  # 2025-01-01 .. 2026-06-30
PERIOD_END = PERIOD_START + N_DAYS * DAY - 1  # 2026-06-30T23:59:59Z
EXPORT_FOLDER = "2026-06-30"
HISTORY_START = 1_640_995_200  # 2022-01-01: oldest CRM records (customers, old leads)
NEVER = np.int64(2**62)


@dataclass(frozen=True)
class Size:
    name: str
    people: int  # distinct people known to the CRM
    anonymous_per_person: float  # visitors who never fill a form
    sdrs: int
    account_executives: int


SIZES: dict[str, Size] = {
    "tiny": Size("tiny", 200, 0.3, 2, 2),
    "small": Size("small", 2_000, 2.0, 3, 3),
    "medium": Size("medium", 100_000, 2.0, 12, 10),
    "large": Size("large", 500_000, 2.0, 30, 24),
}


def stream(seed: int, name: str) -> np.random.Generator:
    """An independent random stream per component, so one component's draws never shift another's."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])
