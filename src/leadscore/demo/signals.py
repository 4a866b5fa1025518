"""External buying signals per company: intent topics, funding rounds and hiring spikes.
Companies in market get more and stronger signals, starting some weeks before they engage."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.demo import catalog as cat
from leadscore.demo.config import DAY
from leadscore.demo.fmt import hex_tokens, iso_utc, pick, scramble

SIGNAL_COLUMNS = [
    "signal_id",
    "observed_at",
    "company_name",
    "company_domain",
    "signal_type",
    "topic",
    "strength",
    "amount_usd",
    "provider",
]
MONTH_STARTS = np.arange(np.datetime64("2025-01"), np.datetime64("2026-07")).astype("datetime64[s]").astype(np.int64)
_ROUNDS = ("Seed", "Series A", "Series B", "Series C", "Series D")


def build_signals(rng, companies: pd.DataFrame, episodes: pd.DataFrame) -> pd.DataFrame:
    n_comp, n_months = len(companies), len(MONTH_STARTS)
    month_end = np.append(MONTH_STARTS[1:], MONTH_STARTS[-1] + 31 * DAY)
    heat = np.zeros((n_comp, n_months))  # 1 while a company researches (from 45 days before it engages)
    soon = np.zeros((n_comp, n_months))  # 1 in the half-year before an episode starts
    topic_pl = np.zeros((n_comp, n_months), np.int64)
    for m in range(n_months):
        live = (episodes["start_t"] - 45 * DAY < month_end[m]) & (episodes["end_t"] >= MONTH_STARTS[m])
        e = episodes[live]
        heat[e["company_idx"].to_numpy(), m] = 1
        topic_pl[e["company_idx"].to_numpy(), m] = e["product_line"].to_numpy()
        ahead = (episodes["start_t"] > MONTH_STARTS[m]) & (episodes["start_t"] < MONTH_STARTS[m] + 180 * DAY)
        soon[episodes.loc[ahead, "company_idx"].to_numpy(), m] = 1
    rows = [_intent(rng, companies, heat, topic_pl), _funding(rng, companies, soon), _hiring(rng, companies, heat)]
    sig = pd.concat(rows, ignore_index=True)
    sig["observed_t"] = MONTH_STARTS[sig["month"].to_numpy()] + rng.integers(0, 28, len(sig)) * DAY + 6 * 3600
    sig = sig.sort_values(["observed_t", "company_idx", "signal_type"], kind="stable").reset_index(drop=True)
    n = len(sig)
    company = sig["company_idx"].to_numpy()
    name = companies["name"].to_numpy()[company]
    brand = companies["brand"].to_numpy()[company]
    r = rng.random(n)
    sig["company_name"] = np.where(r < 0.8, name, np.where(r < 0.95, brand, pd.Series(name).str.upper().to_numpy()))
    sig["company_domain"] = companies["domain"].to_numpy()[company]
    sig["signal_id"] = hex_tokens(scramble(np.arange(n), 40, 0x5151), 10, "sig-")
    sig["observed_at"] = iso_utc(sig["observed_t"].to_numpy())
    return sig


def _grid_draw(rng, rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k = rng.poisson(rate).ravel()
    cell = np.repeat(np.arange(rate.size), k)
    return cell // rate.shape[1], cell % rate.shape[1]


def _intent(rng, companies, heat, topic_pl) -> pd.DataFrame:
    company, month = _grid_draw(rng, 0.12 + 2.2 * heat)
    hot = heat[company, month] > 0
    n = len(company)
    pl = topic_pl[company, month]
    topics = np.array([t for p in cat.PRODUCT_LINES for t in p.topics], dtype=object)
    per = len(cat.PRODUCT_LINES[0].topics)
    on_topic = hot & (rng.random(n) < 0.8)
    topic = np.where(
        on_topic,
        topics[(np.maximum(pl, 1) - 1) * per + rng.integers(0, per, n)],
        pick(rng, list(cat.GENERIC_TOPICS) + list(topics), n),
    )
    strength = np.where(on_topic, rng.integers(55, 101, n), rng.integers(10, 66, n))
    return pd.DataFrame(
        {
            "company_idx": company,
            "month": month,
            "signal_type": "intent_topic",
            "topic": topic,
            "strength": strength.astype(str),
            "amount_usd": None,
            "provider": pick(rng, ["IntentScope", "TopicPulse"], n),
        }
    )


def _funding(rng, companies, soon) -> pd.DataFrame:
    company, month = _grid_draw(rng, 0.002 + 0.03 * soon)
    emp = companies["employees"].to_numpy()[company]
    n = len(company)
    stage = np.clip(np.digitize(emp, [30, 150, 600, 2000]) + rng.integers(-1, 2, n), 0, 4)
    amount = np.array([2e6, 12e6, 35e6, 80e6, 160e6])[stage] * np.exp(rng.normal(0, 0.4, n))
    return pd.DataFrame(
        {
            "company_idx": company,
            "month": month,
            "signal_type": "funding_round",
            "topic": np.array(_ROUNDS, dtype=object)[stage],
            "strength": None,
            "amount_usd": np.round(amount, -5).astype(np.int64).astype(str),
            "provider": "FundingWire",
        }
    )


def _hiring(rng, companies, heat) -> pd.DataFrame:
    company, month = _grid_draw(rng, 0.01 + 0.06 * heat)
    n = len(company)
    return pd.DataFrame(
        {
            "company_idx": company,
            "month": month,
            "signal_type": "hiring_spike",
            "topic": pick(rng, ["engineering", "data", "security", "sales", "marketing"], n),
            "strength": rng.integers(40, 101, n).astype(str),
            "amount_usd": None,
            "provider": "HireRadar",
        }
    )


def month_label(month: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(MONTH_STARTS[month].astype("datetime64[s]"), unit="M")
