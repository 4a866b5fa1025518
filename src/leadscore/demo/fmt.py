"""Vectorized helpers: Salesforce Ids, hex tokens, timestamp formatting, grouped random picks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.demo.config import NEVER

_BASE62 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", np.uint8)
_SUFFIX = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", np.uint8)
_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)

KEY_PREFIX = {
    "Account": "001",
    "Contact": "003",
    "Lead": "00Q",
    "Opportunity": "006",
    "Campaign": "701",
    "CampaignMember": "00v",
    "Task": "00T",
    "User": "005",
    "OpportunityContactRole": "00k",
    "LeadHistory": "017",
}


def sf_ids(obj: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` distinct 18-character Salesforce Ids of an object, increasing like a real org's.

    15 characters: key prefix, pod "Ec", a base-62 counter; then the 3-character suffix that makes
    the Id case-insensitive (one letter per 5-character chunk encoding which characters are upper case).
    """
    start = int(rng.integers(62**5, 62**6))
    steps = rng.integers(1, 4, size=n)  # real orgs leave gaps between consecutive Ids
    counter = start + np.cumsum(steps)
    chars = np.empty((n, 18), np.uint8)
    chars[:, 0:3] = np.frombuffer(KEY_PREFIX[obj].encode(), np.uint8)
    chars[:, 3:5] = np.frombuffer(b"Ec", np.uint8)
    value = counter.copy()
    for pos in range(14, 4, -1):
        chars[:, pos] = _BASE62[value % 62]
        value //= 62
    upper = (chars[:, :15] >= ord("A")) & (chars[:, :15] <= ord("Z"))
    weights = 1 << np.arange(5)
    for chunk in range(3):
        flags = (upper[:, chunk * 5 : (chunk + 1) * 5] * weights).sum(axis=1)
        chars[:, 15 + chunk] = _SUFFIX[flags]
    return chars.view("S18").ravel().astype(str).astype(object)


def hex_tokens(values: np.ndarray, width: int, prefix: str = "") -> np.ndarray:
    """Fixed-width lower-case hex of non-negative integers, with a prefix."""
    values = np.asarray(values, dtype=np.uint64)
    shifts = np.arange(width - 1, -1, -1, dtype=np.uint64) * np.uint64(4)
    digits = (values[:, None] >> shifts) & np.uint64(15)
    chars = _HEX[digits.astype(np.intp)]
    text = chars.view(f"S{width}").ravel().astype(str)
    return np.char.add(prefix, text).astype(object) if prefix else text.astype(object)


def scramble(index: np.ndarray, bits: int, key: int) -> np.ndarray:
    """A bijection of [0, 2**bits): distinct indices give distinct, random-looking tokens."""
    mask = (1 << bits) - 1
    x = (np.asarray(index, dtype=np.uint64) * np.uint64(0x9E3779B1) + np.uint64(key & mask)) & np.uint64(mask)
    x ^= x >> np.uint64(bits // 2)
    x = (x * np.uint64(0x5BD1E995 | 1)) & np.uint64(mask)
    x ^= x >> np.uint64(bits // 3)
    return x


def _as_datetime(t: np.ndarray) -> np.ndarray:
    return np.asarray(t, dtype=np.int64).astype("datetime64[s]")


def missing(t: np.ndarray) -> np.ndarray:
    t = np.asarray(t, dtype=np.int64)
    return (t >= NEVER) | (t < 0)


def _with_missing(text: np.ndarray, t: np.ndarray) -> np.ndarray:
    out = text.astype(object)
    out[missing(t)] = None
    return out


def sf_datetime(t: np.ndarray) -> np.ndarray:
    """Salesforce export datetimes: 2024-01-23T02:21:49.000+0000 (None where missing)."""
    t = np.asarray(t, dtype=np.int64)
    safe = np.where(missing(t), 0, t)
    text = np.char.add(np.datetime_as_string(_as_datetime(safe), unit="s"), ".000+0000")
    return _with_missing(text, t)


def sf_date(t: np.ndarray) -> np.ndarray:
    t = np.asarray(t, dtype=np.int64)
    safe = np.where(missing(t), 0, t)
    return _with_missing(np.datetime_as_string(_as_datetime(safe), unit="D"), t)


def iso_utc(t: np.ndarray) -> np.ndarray:
    t = np.asarray(t, dtype=np.int64)
    safe = np.where(missing(t), 0, t)
    return _with_missing(np.char.add(np.datetime_as_string(_as_datetime(safe), unit="s"), "Z"), t)


def pick(rng: np.random.Generator, options, n: int, weights=None) -> np.ndarray:
    """`n` draws from `options` (optionally weighted) as an object array."""
    options = np.asarray(options, dtype=object)
    p = None if weights is None else np.asarray(weights, float) / np.sum(weights)
    return options[rng.choice(len(options), size=n, p=p)]


def pick_index(rng: np.random.Generator, weights, n: int) -> np.ndarray:
    p = np.asarray(weights, float)
    return rng.choice(len(p), size=n, p=p / p.sum())


class GroupedChoice:
    """Uniform choice among the options that share a row's group key (vectorized).

    Options are given with integer group keys; `draw` returns, for each requested key, the index of
    a random option of that group (or -1 when the group is empty).
    """

    def __init__(self, keys: np.ndarray, n_groups: int):
        keys = np.asarray(keys, dtype=np.int64)
        self.order = np.argsort(keys, kind="stable")
        self.counts = np.bincount(keys, minlength=n_groups)
        self.offsets = np.concatenate([[0], np.cumsum(self.counts)[:-1]])

    def draw(self, rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
        group = np.asarray(group, dtype=np.int64)
        count = self.counts[group]
        offset = self.offsets[group]
        slot = np.floor(rng.random(len(group)) * np.maximum(count, 1)).astype(np.int64)
        idx = self.order[np.minimum(offset + slot, len(self.order) - 1)]
        return np.where(count > 0, idx, -1)


def positions_within(group_sizes: np.ndarray) -> np.ndarray:
    """For rows repeated per group (np.repeat(arange, sizes)), the 0-based position inside the group."""
    sizes = np.asarray(group_sizes, dtype=np.int64)
    total = int(sizes.sum())
    starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
    return np.arange(total, dtype=np.int64) - starts


def nulls(values) -> np.ndarray:
    """Object array with empty strings turned into None (written as empty CSV fields)."""
    out = np.asarray(values, dtype=object).copy()
    out[pd.isna(out)] = None
    empty = out == ""
    out[empty] = None
    return out


def iso_with_offset(t: np.ndarray, offset_minutes: np.ndarray, zulu: np.ndarray, millis: bool = False) -> np.ndarray:
    """ISO-8601 local time with its offset: 2025-03-04T15:02:11+01:00, or ...Z for UTC when `zulu`."""
    t = np.asarray(t, dtype=np.int64)
    off = np.broadcast_to(np.asarray(offset_minutes, dtype=np.int64), t.shape)
    local = np.datetime_as_string((t + off * 60).astype("datetime64[s]"), unit="s")
    if millis:
        local = np.char.add(local, ".000")
    sign = np.where(off < 0, "-", "+")
    hh = np.char.zfill((np.abs(off) // 60).astype(str), 2)
    mm = np.char.zfill((np.abs(off) % 60).astype(str), 2)
    suffix = np.where(
        np.broadcast_to(zulu, t.shape) & (off == 0), "Z", np.char.add(np.char.add(np.char.add(sign, hh), ":"), mm)
    )
    return np.char.add(local, suffix).astype(object)
