"""Opportunities: new business from buying episodes, a few outbound deals, and the repurchases of
customers on 3- or 4-month cycles. Also the lead conversions and contact roles they imply.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore.demo import catalog as cat
from leadscore.demo.config import DAY, HISTORY_START, NEVER, PERIOD_END, PERIOD_START
from leadscore.demo.journeys import MONTH, ORIGIN, business_time, uniform_between

BASE_AMOUNT = np.array([0.0] + [p.base_amount for p in cat.PRODUCT_LINES])
OPEN_STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review")
STAGE_PROBABILITY = {
    "Prospecting": 10,
    "Qualification": 20,
    "Needs Analysis": 30,
    "Proposal/Price Quote": 60,
    "Negotiation/Review": 80,
    "Closed Won": 100,
    "Closed Lost": 0,
}
CONTACT_ORIGINS = (ORIGIN["existing_contact"], ORIGIN["customer_contact"])


@dataclass
class Deals:
    opportunities: pd.DataFrame
    roles: pd.DataFrame  # opportunity contact roles (people)
    conversions: pd.DataFrame  # person_idx, convert_t, opp_idx (-1 when converted without one)
    customers: pd.DataFrame  # company_idx, since_t, cycle, product_line, channel, buyers
    periods: pd.DataFrame  # in-market periods per person (active, passive, repurchase)


def _stage(rng, created: np.ndarray, close: np.ndarray, won: np.ndarray) -> np.ndarray:
    closed = close <= PERIOD_END
    elapsed = (PERIOD_END - created) / np.maximum(close - created, 1)
    open_stage = np.asarray(OPEN_STAGES, dtype=object)[np.clip((elapsed * 5).astype(int), 0, 4)]
    return np.where(closed, np.where(won, "Closed Won", "Closed Lost"), open_stage)


def _amount(rng, pl: np.ndarray, employees: np.ndarray) -> np.ndarray:
    scale = np.clip(employees / 500, 0.04, 400) ** 0.35
    return np.round(BASE_AMOUNT[pl] * scale * np.exp(rng.normal(0, 0.35, len(pl))), -2)


def new_business(
    rng, episodes: pd.DataFrame, parts: pd.DataFrame, people: pd.DataFrame, companies: pd.DataFrame
) -> pd.DataFrame:
    """An opportunity for a share of episodes: likelier for active buyers and good fits."""
    champ = parts[parts["is_champion"]].merge(episodes[["episode_idx", "number"]], on="episode_idx")
    who = champ["person_idx"].to_numpy()
    fit = people["fit"].to_numpy()[who]
    active = champ["kind"].to_numpy() == "active"
    n = len(champ)
    span = (champ["end_t"] - champ["start_t"]).to_numpy()
    t = np.where(
        active,
        champ["decide_t"].to_numpy() + (rng.uniform(2, 12, n) * DAY).astype(np.int64),
        champ["end_t"].to_numpy() - (span * rng.uniform(0, 0.2, n)).astype(np.int64),
    )
    known = np.maximum(people["known_t"].to_numpy()[who], PERIOD_START) + DAY
    t = business_time(rng, np.maximum(t, known), people["tz_offset"].to_numpy()[who])
    p_opp = np.where(active, 0.55, 0.2) * (0.35 + fit)
    # Sales can only open a deal with a buyer it knows while the buying lasts.
    reachable = known <= champ["end_t"].to_numpy() + 30 * DAY
    made = (rng.random(n) < p_opp) & (t <= PERIOD_END) & reachable
    champ, t, fit, active = champ[made], t[made], fit[made], active[made]
    n = len(champ)
    company = champ["company_idx"].to_numpy()
    employees = companies["employees"].to_numpy()[company]
    cycle = np.where(active, rng.uniform(25, 80, n), rng.uniform(45, 140, n))
    cycle = cycle * np.clip(1 + 0.25 * np.log10(employees / 500), 0.7, 1.6) * DAY
    p_win = np.clip(0.02 + 0.45 * fit**1.3 * np.where(active, 1.1, 0.85), 0.02, 0.9)
    won = rng.random(n) < p_win
    close = t + (cycle * np.where(won, 1.0, rng.uniform(0.4, 1.0, n))).astype(np.int64)
    return pd.DataFrame(
        {
            "company_idx": company,
            "kind": "new_business",
            "product_line": champ["product_line"].to_numpy(),
            "created_t": t,
            "close_t": close,
            "won": won,
            "amount": _amount(rng, champ["product_line"].to_numpy(), employees),
            "champion": champ["person_idx"].to_numpy(),
            "episode_idx": champ["episode_idx"].to_numpy(),
        }
    )


def outbound(rng, people: pd.DataFrame, parts: pd.DataFrame, companies: pd.DataFrame) -> pd.DataFrame:
    """Sales occasionally opens a deal with someone who was not buying; these rarely close."""
    company = people["company_idx"].to_numpy()
    eligible = (
        (people["fit"].to_numpy() > 0.25)
        & ~companies["is_customer"].to_numpy()[company]
        & (companies["kind"].to_numpy()[company] == "prospect")
        & ~people["is_junk"].to_numpy()
    )
    eligible[parts["person_idx"].to_numpy()] = False
    chosen = np.flatnonzero(eligible & (rng.random(len(people)) < 0.0025))
    n = len(chosen)
    lo = np.maximum(people["known_t"].to_numpy()[chosen] + 14 * DAY, PERIOD_START)
    t = business_time(rng, uniform_between(rng, lo, np.full(n, PERIOD_END)), people["tz_offset"].to_numpy()[chosen])
    keep = t <= PERIOD_END
    chosen, t = chosen[keep], t[keep]
    n = len(chosen)
    won = rng.random(n) < 0.08
    close = t + (rng.uniform(20, 90, n) * DAY).astype(np.int64)
    pl = people["product_interest"].to_numpy()[chosen]
    return pd.DataFrame(
        {
            "company_idx": company[chosen],
            "kind": "outbound",
            "product_line": pl,
            "created_t": t,
            "close_t": close,
            "won": won,
            "amount": _amount(rng, pl, companies["employees"].to_numpy()[company[chosen]]),
            "champion": chosen,
            "episode_idx": -1,
        }
    )


def _roles(rng, opps: pd.DataFrame, parts: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    """Buying-group members known when the deal opens become contacts on it; the champion is primary."""
    members = opps[["opp_idx", "episode_idx", "created_t", "champion"]].merge(
        parts[["episode_idx", "person_idx"]], on="episode_idx", how="inner"
    )
    solo = opps[opps["episode_idx"] < 0][["opp_idx", "created_t", "champion"]].assign(
        person_idx=lambda d: d["champion"]
    )
    members = pd.concat([members.drop(columns="episode_idx"), solo], ignore_index=True)
    known = people["known_t"].to_numpy()[members["person_idx"].to_numpy()]
    members = members[known <= members["created_t"].to_numpy()].copy()
    members["is_primary"] = members["person_idx"] == members["champion"]
    sen = people["seniority"].to_numpy()[members["person_idx"].to_numpy()]
    by_sen = np.array(
        [
            ["Economic Buyer", "Executive Sponsor"],
            ["Economic Buyer", "Decision Maker"],
            ["Decision Maker", "Influencer"],
            ["Evaluator", "Technical Buyer"],
            ["Technical Buyer", "Business User"],
            ["Other", "Other"],
            ["Influencer", "Other"],
            ["Other", "Other"],
        ],
        dtype=object,
    )
    role = by_sen[sen, rng.integers(0, 2, len(members))]
    members["role"] = np.where(members["is_primary"] & (sen <= 2), "Decision Maker", role)
    return members[["opp_idx", "person_idx", "role", "is_primary", "created_t"]].reset_index(drop=True)


def _customers(
    rng, companies: pd.DataFrame, opps: pd.DataFrame, roles: pd.DataFrame, people: pd.DataFrame
) -> pd.DataFrame:
    """Customers at the start plus companies that won a first deal, with the people who reorder."""
    existing = companies[companies["is_customer"]]
    old = pd.DataFrame(
        {
            "company_idx": existing["company_idx"].to_numpy(),
            "since_t": existing["customer_since"].to_numpy(),
            "cycle": existing["repurchase_cycle_months"].to_numpy(),
            "product_line": existing["customer_product_line"].to_numpy(),
            "channel": existing["customer_channel"].to_numpy(),
            "annual_contract": existing["annual_contract"].to_numpy(),
            "source": "existing",
        }
    )
    won = opps[opps["won"] & (opps["close_t"] <= PERIOD_END) & (opps["kind"] != "repurchase")]
    won = won[~companies["is_customer"].to_numpy()[won["company_idx"].to_numpy()]]
    first = won.sort_values(["close_t", "opp_idx"], kind="stable").drop_duplicates("company_idx")
    n = len(first)
    new = pd.DataFrame(
        {
            "company_idx": first["company_idx"].to_numpy(),
            "since_t": first["close_t"].to_numpy(),
            "cycle": rng.choice([3, 4], n),
            "product_line": first["product_line"].to_numpy(),
            "channel": np.where(rng.random(n) < 0.15, "Channel", "Direct"),
            "annual_contract": first["amount"].to_numpy(),
            "source": "won",
            "won_opp": first["opp_idx"].to_numpy(),
        }
    )
    customers = pd.concat([old.assign(won_opp=-1), new], ignore_index=True)

    # Who reorders: for old customers their two most senior contacts, for new ones the deal's contacts.
    staff = people[people["origin"].isin(CONTACT_ORIGINS)][["person_idx", "company_idx", "seniority", "known_t"]]
    staff = staff[staff["company_idx"].isin(old["company_idx"])]
    staff = staff.sort_values(["company_idx", "seniority", "known_t", "person_idx"], kind="stable")
    old_buyers = staff.groupby("company_idx").head(2)[["company_idx", "person_idx"]]
    new_buyers = roles.merge(new[["won_opp", "company_idx"]], left_on="opp_idx", right_on="won_opp")
    new_buyers = new_buyers.sort_values(["company_idx", "is_primary"], ascending=[True, False], kind="stable")
    new_buyers = new_buyers.groupby("company_idx").head(2)[["company_idx", "person_idx"]]
    customers.attrs["buyers"] = pd.concat([old_buyers, new_buyers], ignore_index=True)
    return customers


def repurchases(rng, customers: pd.DataFrame, companies: pd.DataFrame) -> pd.DataFrame:
    """One Existing Business opportunity per cycle, opened three to six weeks before the reorder date."""
    cycle_s = customers["cycle"].to_numpy() * MONTH
    since = customers["since_t"].to_numpy()
    count = np.floor((PERIOD_END + 45 * DAY - since) / cycle_s).astype(np.int64).clip(0)
    idx = np.repeat(np.arange(len(customers)), count)
    k = 1 + np.arange(len(idx)) - np.repeat(np.cumsum(count) - count, count)
    due = (since[idx] + k * cycle_s[idx]).astype(np.int64)
    created = due - (rng.uniform(20, 40, len(idx)) * DAY).astype(np.int64)
    keep = (created <= PERIOD_END) & (created >= HISTORY_START)
    idx, due, created = idx[keep], due[keep], created[keep]
    n = len(idx)
    won = rng.random(n) < 0.9
    close = due + np.where(won, 0, (rng.uniform(0, 20, n) * DAY).astype(np.int64))
    c = customers.iloc[idx]
    per_order = c["annual_contract"].to_numpy() * c["cycle"].to_numpy() / 12
    return pd.DataFrame(
        {
            "company_idx": c["company_idx"].to_numpy(),
            "kind": "repurchase",
            "product_line": c["product_line"].to_numpy(),
            "created_t": created,
            "close_t": close,
            "won": won,
            "amount": np.round(per_order * np.exp(rng.normal(0, 0.1, n)), -2),
            "champion": -1,
            "episode_idx": -1,
            "due_t": due,
        }
    )


def build_deals(
    rng, episodes: pd.DataFrame, parts: pd.DataFrame, people: pd.DataFrame, companies: pd.DataFrame
) -> Deals:
    opps = pd.concat(
        [new_business(rng, episodes, parts, people, companies), outbound(rng, people, parts, companies)],
        ignore_index=True,
    )
    opps = opps.sort_values(["created_t", "company_idx"], kind="stable").reset_index(drop=True)
    opps["opp_idx"] = np.arange(len(opps))
    roles = _roles(rng, opps, parts, people)
    customers = _customers(rng, companies, opps, roles, people)
    rep = repurchases(rng, customers, companies)
    rep["opp_idx"] = np.arange(len(opps), len(opps) + len(rep))
    buyers = customers.attrs["buyers"]
    rep_roles = rep[["opp_idx", "company_idx", "created_t"]].merge(buyers, on="company_idx")
    rep_roles = rep_roles[people["known_t"].to_numpy()[rep_roles["person_idx"].to_numpy()] <= rep_roles["created_t"]]
    rep_roles = rep_roles.assign(role="Decision Maker", is_primary=~rep_roles.duplicated("opp_idx"))
    roles = pd.concat([roles, rep_roles.drop(columns="company_idx")], ignore_index=True)
    opps = pd.concat([opps, rep], ignore_index=True)

    # Customer status decides Existing vs New Business.
    customer_from = np.full(len(companies), NEVER)
    customer_from[customers["company_idx"].to_numpy()] = customers["since_t"].to_numpy()
    existing = customer_from[opps["company_idx"].to_numpy()] < opps["created_t"].to_numpy()
    opps["type"] = np.where(existing | (opps["kind"] == "repurchase"), "Existing Business", "New Business")
    opps["stage"] = _stage(rng, opps["created_t"].to_numpy(), opps["close_t"].to_numpy(), opps["won"].to_numpy())
    opps["is_closed"] = opps["close_t"].to_numpy() <= PERIOD_END
    opps["is_won"] = opps["is_closed"] & opps["won"]

    # Leads on a deal are converted to contacts when the deal opens (the champion's lead carries the Id).
    lead_roles = roles[~np.isin(people["origin"].to_numpy()[roles["person_idx"].to_numpy()], CONTACT_ORIGINS)]
    lead_roles = lead_roles.sort_values(["person_idx", "created_t", "opp_idx"], kind="stable").drop_duplicates(
        "person_idx"
    )
    conv_opp = np.where(lead_roles["is_primary"], lead_roles["opp_idx"], -1)
    conversions = pd.DataFrame(
        {
            "person_idx": lead_roles["person_idx"].to_numpy(),
            "convert_t": lead_roles["created_t"].to_numpy(),
            "opp_idx": conv_opp,
        }
    )
    periods = _periods(parts, rep, buyers)
    return Deals(opportunities=opps, roles=roles, conversions=conversions, customers=customers, periods=periods)


def _periods(parts: pd.DataFrame, rep: pd.DataFrame, buyers: pd.DataFrame) -> pd.DataFrame:
    """In-market periods per person: buying episodes, and the weeks before each reorder for buyers."""
    ep = parts[["person_idx", "kind", "start_t", "end_t", "product_line", "episode_idx"]]
    windows = rep[["company_idx", "due_t", "product_line"]].merge(buyers, on="company_idx")
    windows = pd.DataFrame(
        {
            "person_idx": windows["person_idx"].to_numpy(),
            "kind": "repurchase",
            "start_t": windows["due_t"].to_numpy() - 35 * DAY,
            "end_t": windows["due_t"].to_numpy() - 2 * DAY,
            "product_line": windows["product_line"].to_numpy(),
            "episode_idx": -1,
        }
    )
    windows = windows[(windows["end_t"] >= PERIOD_START) & (windows["start_t"] <= PERIOD_END)]
    periods = pd.concat([ep, windows], ignore_index=True)
    return periods.sort_values(["person_idx", "start_t", "kind"], kind="stable").reset_index(drop=True)
