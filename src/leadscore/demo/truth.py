"""The hidden ground truth, keyed by CRM record Id, for evaluating identity stitching, bot filtering
and scores. The pipeline never reads it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from leadscore.demo.config import NEVER, PERIOD_END, PERIOD_START
from leadscore.demo.crm import PL_NAMES, Crm
from leadscore.demo.deals import Deals
from leadscore.demo.fmt import iso_utc, nulls
from leadscore.demo.journeys import Journeys


def _time(values) -> np.ndarray:
    v = np.asarray(values, dtype=np.int64)
    return np.where((v >= NEVER) | (v <= 0), None, iso_utc(np.where(v >= NEVER, 0, v)))


def _flag(values) -> np.ndarray:
    return np.where(np.asarray(values, dtype=bool), "true", "false")


def person_facts(people: pd.DataFrame, companies: pd.DataFrame, journeys: Journeys, deals: Deals) -> pd.DataFrame:
    """Per person: buyer type, customer status, first in-market period, first deal and first win."""
    n = len(people)
    parts = journeys.participants
    kinds = parts.groupby("person_idx")["kind"].agg(lambda k: "active" if (k == "active").any() else "passive")
    buyer = pd.Series("none", index=np.arange(n), dtype=object)
    buyer.loc[kinds.index.to_numpy()] = kinds.to_numpy()
    cust = deals.customers.set_index("company_idx")
    company = people["company_idx"].to_numpy()
    since = cust["since_t"].reindex(company).fillna(NEVER).to_numpy().astype(np.int64)
    is_customer = since <= PERIOD_END
    cycle = np.where(is_customer, cust["cycle"].reindex(company).fillna(0).to_numpy(), 0).astype(int)
    periods = deals.periods.sort_values(["person_idx", "start_t"], kind="stable")
    first = periods.drop_duplicates("person_idx").set_index("person_idx")
    n_periods = periods.groupby("person_idx").size()
    opps = deals.opportunities
    roles = deals.roles.merge(opps[["opp_idx", "created_t", "close_t", "is_won"]], on="opp_idx", suffixes=("_role", ""))
    in_period = roles[roles["created_t"] >= PERIOD_START]
    first_opp = in_period.groupby("person_idx")["created_t"].min()
    won = roles[roles["is_won"] & (roles["close_t"] >= PERIOD_START)]
    first_won = won.groupby("person_idx")["close_t"].min()
    idx = np.arange(n)
    return pd.DataFrame(
        {
            "person_idx": idx,
            "person_key": people["person_key"].to_numpy(),
            "latent_fit": people["fit"].to_numpy().round(4),
            "buyer_type": buyer.to_numpy(),
            "is_customer": _flag(is_customer),
            "customer_since": _time(np.where(is_customer, since, NEVER)),
            "repurchase_cycle_months": np.where(cycle > 0, cycle.astype(str), None),
            "in_market_start": _time(first["start_t"].reindex(idx).fillna(NEVER).to_numpy()),
            "in_market_end": _time(first["end_t"].reindex(idx).fillna(NEVER).to_numpy()),
            "in_market_product_line": PL_NAMES[first["product_line"].reindex(idx).fillna(0).to_numpy().astype(int)],
            "in_market_kind": first["kind"].reindex(idx).to_numpy(),
            "n_in_market_periods": n_periods.reindex(idx).fillna(0).astype(int).to_numpy(),
            "first_opportunity_at": _time(first_opp.reindex(idx).fillna(NEVER).to_numpy()),
            "first_won_at": _time(first_won.reindex(idx).fillna(NEVER).to_numpy()),
            "is_junk": _flag(people["is_junk"].to_numpy()),
            "company_domain": companies["domain"].to_numpy()[company],
        }
    )


def people_truth(facts: pd.DataFrame, crm: Crm) -> pd.DataFrame:
    """One row per Lead and Contact record (duplicates and converted pairs share a person_key)."""
    leads, contacts = crm.leads, crm.contacts
    present = set(crm.tables["Lead"]["Id"].dropna())
    primary_lead = leads[~leads["is_duplicate"]].set_index("person_idx")["lead_id"]
    contact_of = contacts.set_index("person_idx")["contact_id"]
    first_record = primary_lead.combine_first(contact_of.loc[~contact_of.index.isin(primary_lead.index)])
    lead_rows = pd.DataFrame(
        {
            "crm_id": leads["lead_id"].to_numpy(),
            "crm_object": "Lead",
            "person_idx": leads["person_idx"].to_numpy(),
            "duplicate_of_crm_id": np.where(
                leads["is_duplicate"], first_record.reindex(leads["person_idx"]).to_numpy(), None
            ),
            "converted_contact_id": np.where(
                leads["is_duplicate"], None, contact_of.reindex(leads["person_idx"]).to_numpy()
            ),
            "converted_from_lead_id": None,
        }
    )
    lead_rows = lead_rows[lead_rows["crm_id"].isin(present)]
    from_lead = contacts["from_rec"].to_numpy() >= 0
    contact_rows = pd.DataFrame(
        {
            "crm_id": contacts["contact_id"].to_numpy(),
            "crm_object": "Contact",
            "person_idx": contacts["person_idx"].to_numpy(),
            "duplicate_of_crm_id": None,
            "converted_contact_id": None,
            "converted_from_lead_id": np.where(
                from_lead, primary_lead.reindex(contacts["person_idx"]).to_numpy(), None
            ),
        }
    )
    rows = pd.concat([lead_rows, contact_rows], ignore_index=True)
    out = rows.merge(facts, on="person_idx", how="left").drop(columns="person_idx")
    lead_first = [
        "crm_id",
        "crm_object",
        "person_key",
        "duplicate_of_crm_id",
        "converted_contact_id",
        "converted_from_lead_id",
    ]
    return out[lead_first + [c for c in out.columns if c not in lead_first]]


def periods_truth(deals: Deals, people: pd.DataFrame) -> pd.DataFrame:
    p = deals.periods
    return pd.DataFrame(
        {
            "person_key": people["person_key"].to_numpy()[p["person_idx"].to_numpy()],
            "kind": p["kind"].to_numpy(),
            "start": _time(p["start_t"]),
            "end": _time(p["end_t"]),
            "product_line": PL_NAMES[p["product_line"].to_numpy()],
            "episode": np.where(p["episode_idx"].to_numpy() >= 0, "ep-" + p["episode_idx"].astype(str), None),
        }
    )


def visitors_truth(
    vis, tokens: np.ndarray, people: pd.DataFrame, companies: pd.DataFrame, crm: Crm, forms: pd.DataFrame
) -> pd.DataFrame:
    primary_lead = crm.leads[~crm.leads["is_duplicate"]].set_index("person_idx")["lead_id"]
    contact_of = crm.contacts.set_index("person_idx")["contact_id"]
    person = vis.person
    known = person >= 0
    p = np.maximum(person, 0)
    present = set(crm.tables["Lead"]["Id"].dropna())
    crm_id = primary_lead.reindex(p).to_numpy()
    crm_id = np.where(
        pd.isna(crm_id) | ~pd.Series(crm_id).isin(present).to_numpy(), contact_of.reindex(p).to_numpy(), crm_id
    )  # a lead exported without its Id cannot be named
    used = np.zeros(len(person), bool)
    with_cookie = forms["visitor"].to_numpy()
    used[with_cookie[~vis.blocks_cookies[with_cookie]]] = True
    company = vis.company
    return pd.DataFrame(
        {
            "visitor_id": tokens,
            "crm_id": np.where(known, crm_id, None),
            "person_key": np.where(known, people["person_key"].to_numpy()[p], None),
            "identified_by_form": _flag(used),
            "blocks_cookies": _flag(vis.blocks_cookies),
            "company_domain": np.where(company >= 0, companies["domain"].to_numpy()[np.maximum(company, 0)], None),
        }
    )


def opportunities_truth(deals: Deals, crm: Crm, journeys: Journeys, people: pd.DataFrame) -> pd.DataFrame:
    o = deals.opportunities
    kind = journeys.episodes.set_index("episode_idx")["kind"]
    champion = o["champion"].to_numpy()
    return pd.DataFrame(
        {
            "opportunity_id": crm.opportunity_id[o["opp_idx"].to_numpy()],
            "account_id": crm.account_id[o["company_idx"].to_numpy()],
            "kind": o["kind"].to_numpy(),
            "episode": np.where(o["episode_idx"] >= 0, "ep-" + o["episode_idx"].astype(str), None),
            "buyer_type": kind.reindex(o["episode_idx"]).to_numpy(),
            "champion_person_key": np.where(
                champion >= 0, people["person_key"].to_numpy()[np.maximum(champion, 0)], None
            ),
            "created_at": _time(o["created_t"]),
            "planned_outcome": np.where(o["won"], "won", "lost"),
        }
    )


def accounts_truth(companies: pd.DataFrame, crm: Crm, journeys: Journeys, deals: Deals) -> pd.DataFrame:
    idx = np.arange(len(companies))
    n_ep = journeys.episodes.groupby("company_idx").size().reindex(idx).fillna(0)
    # Every customer, at the start or won during the period, with the cycle it reorders on.
    cust = deals.customers.set_index("company_idx")
    since = cust["since_t"].reindex(idx).fillna(NEVER).to_numpy().astype(np.int64)
    cycle = cust["cycle"].reindex(idx).fillna(0).to_numpy().astype(int)
    return pd.DataFrame(
        {
            "company_domain": companies["domain"],
            "company_name": companies["name"],
            "account_id": crm.account_id,
            "company_fit": companies["company_fit"].round(4),
            "kind": companies["kind"],
            "customer_at_start": _flag(companies["is_customer"].to_numpy()),
            "repurchase_cycle_months": np.where(
                companies["is_customer"], companies["repurchase_cycle_months"].astype(str), None
            ),
            "n_buying_episodes": n_ep.astype(int).to_numpy(),
            "has_link_scanner": _flag(companies["has_link_scanner"].to_numpy()),
            "customer_since": _time(since),
            "customer_cycle_months": np.where(cycle > 0, cycle.astype(str), None),
        }
    )


def write_csv(con, frame: pd.DataFrame, path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = frame.apply(lambda col: nulls(col.to_numpy()) if col.dtype == object or col.dtype == "str" else col)
    con.register("truth_frame", frame)
    con.execute(f"COPY (SELECT * FROM truth_frame) TO '{str(path).replace(chr(39), chr(39) * 2)}' (HEADER true)")
    con.unregister("truth_frame")
    return len(frame)
