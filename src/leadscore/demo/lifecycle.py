"""Sales work on leads: when a lead becomes hot an SDR starts working it (status Working, calls and
emails); it ends Qualified (converted), Nurturing or Unqualified with a reason. Marketing ops
cleans out students, junk and competitors and moves stale leads to nurturing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.demo import catalog as cat
from leadscore.demo import site as web
from leadscore.demo.config import DAY, NEVER, PERIOD_END, PERIOD_START
from leadscore.demo.fmt import pick, pick_index
from leadscore.demo.journeys import uniform_between

HIGH_INTENT = [web.FORM_INDEX[f] for f in web.HIGH_INTENT_FORMS]
# phase origin codes
IN_MARKET_ACTIVE, IN_MARKET_PASSIVE, INBOUND, OUTBOUND, CONVERSION = range(5)


def lead_phases(
    rng, leads: pd.DataFrame, people: pd.DataFrame, forms: pd.DataFrame, parts: pd.DataFrame, conversions: pd.DataFrame
) -> pd.DataFrame:
    """Periods in which an SDR works a lead (primary lead records only)."""
    rec_of_person = pd.Series(leads["rec"].to_numpy(), index=leads["person_idx"].to_numpy())
    known = people["known_t"].to_numpy()
    rows = []
    # In-market buyers who raise their hand, or whose activity the SDR notices.
    f = forms[forms["reason"] == "episode"]
    hi = f[f["form"].isin(HIGH_INTENT)].groupby("person_idx")["t"].min()
    anyf = f.groupby("person_idx")["t"].min()
    p = parts.drop_duplicates("person_idx")
    who = p["person_idx"].to_numpy()
    active = p["kind"].to_numpy() == "active"
    span = (p["end_t"] - p["start_t"]).to_numpy()
    hot = hi.reindex(who).to_numpy()
    hot = np.where(
        np.isnan(hot), np.where(active, anyf.reindex(who).to_numpy(), p["start_t"].to_numpy() + 0.6 * span), hot
    )
    noticed = ~np.isnan(hot) & (rng.random(len(p)) < 0.85)
    rows.append(
        pd.DataFrame(
            {
                "person_idx": who[noticed],
                "hot_t": hot[noticed].astype(np.int64),
                "origin": np.where(active, IN_MARKET_ACTIVE, IN_MARKET_PASSIVE)[noticed],
            }
        )
    )
    # Inbound hand-raisers outside an episode (tire kickers, students, competitors).
    b = forms[(forms["reason"] != "episode") & forms["form"].isin(HIGH_INTENT)]
    rows.append(pd.DataFrame({"person_idx": b["person_idx"].to_numpy(), "hot_t": b["t"].to_numpy(), "origin": INBOUND}))
    # Outbound prospecting of decent-looking leads.
    cand = leads[(people["fit"].to_numpy()[leads["person_idx"].to_numpy()] > 0.3)]
    cand = cand[rng.random(len(cand)) < 0.05]
    lo = np.maximum(known[cand["person_idx"].to_numpy()] + 7 * DAY, PERIOD_START)
    rows.append(
        pd.DataFrame(
            {
                "person_idx": cand["person_idx"].to_numpy(),
                "hot_t": uniform_between(rng, lo, np.full(len(cand), PERIOD_END)),
                "origin": OUTBOUND,
            }
        )
    )
    # Every conversion was worked first.
    c = conversions
    rows.append(
        pd.DataFrame(
            {
                "person_idx": c["person_idx"].to_numpy(),
                "hot_t": c["convert_t"].to_numpy() - (rng.uniform(3, 15, len(c)) * DAY).astype(np.int64),
                "origin": CONVERSION,
            }
        )
    )
    ph = pd.concat(rows, ignore_index=True)
    ph = ph[ph["person_idx"].isin(rec_of_person.index)]
    ph["hot_t"] = np.maximum(ph["hot_t"].to_numpy(), known[ph["person_idx"].to_numpy()] + 600)
    ph = ph[(ph["hot_t"] <= PERIOD_END - 3600) | (ph["origin"] == CONVERSION)]
    ph["rec"] = rec_of_person.loc[ph["person_idx"].to_numpy()].to_numpy()
    return ph.sort_values(["rec", "hot_t", "origin"], kind="stable").reset_index(drop=True)


def settle_phases(
    rng, ph: pd.DataFrame, people: pd.DataFrame, companies: pd.DataFrame, conversions: pd.DataFrame
) -> pd.DataFrame:
    """Outcome of each phase; overlapping phases are merged; nothing happens after a conversion."""
    conv = pd.Series(conversions["convert_t"].to_numpy(), index=conversions["person_idx"].to_numpy())
    convert_t = conv.reindex(ph["person_idx"].to_numpy()).fillna(NEVER).to_numpy().astype(np.int64)
    # The conversion's own phase wins: other work on a converted lead ended well before it.
    is_conv = ph["origin"].to_numpy() == CONVERSION
    ph = ph[is_conv | (ph["hot_t"].to_numpy() < convert_t - 60 * DAY)].reset_index(drop=True)
    convert_t = conv.reindex(ph["person_idx"].to_numpy()).fillna(NEVER).to_numpy().astype(np.int64)
    n = len(ph)
    who = ph["person_idx"].to_numpy()
    work_t = ph["hot_t"].to_numpy() + rng.integers(600, DAY, n)
    origin = ph["origin"].to_numpy()
    outcome_t = work_t + (rng.uniform(7, 45, n) * DAY).astype(np.int64)
    outcome = np.where(origin == IN_MARKET_PASSIVE, "Nurturing", "Unqualified").astype(object)
    soft = (origin >= INBOUND) & (rng.random(n) < 0.3)
    outcome = np.where(soft, "Nurturing", outcome)
    reason = np.where(
        origin == IN_MARKET_ACTIVE,
        pick(rng, ["No Budget", "Competitor", "Not Decision Maker", "No Response"], n, [35, 25, 20, 20]),
        pick(rng, ["No Response", "Not Decision Maker", "No Budget"], n, [55, 25, 20]),
    )
    sen = people["seniority"].to_numpy()[who]
    kind = companies["kind"].to_numpy()[people["company_idx"].to_numpy()[who]]
    reason = np.where(sen == cat.STUDENT, "Student", reason)
    reason = np.where(kind == "competitor", "Competitor", reason)
    reason = np.where(people["is_junk"].to_numpy()[who], "Bad Data", reason)
    forced = (sen == cat.STUDENT) | (kind == "competitor") | people["is_junk"].to_numpy()[who]
    outcome = np.where(forced, "Unqualified", outcome)
    converted = ph["origin"].to_numpy() == CONVERSION
    outcome = np.where(converted, "Qualified", outcome)
    outcome_t = np.where(converted, convert_t, outcome_t)
    work_t = np.minimum(work_t, outcome_t - 60)
    ph = ph.assign(
        work_t=work_t,
        outcome=outcome,
        outcome_t=outcome_t,
        reason=np.where(outcome == "Unqualified", reason, None),
        converted=converted,
    )
    # Keep phases in order; a phase starts only after the previous one ended.
    ph["rank"] = ph.groupby("rec").cumcount()
    keep = np.zeros(len(ph), bool)
    last_end = pd.Series(-1, index=ph["rec"].unique())
    for r in range(int(ph["rank"].max()) + 1 if len(ph) else 0):
        rows = np.flatnonzero(ph["rank"].to_numpy() == r)
        recs = ph["rec"].to_numpy()[rows]
        ok = ph["work_t"].to_numpy()[rows] > last_end.loc[recs].to_numpy()
        keep[rows[ok]] = True
        ends = np.where(
            ph["converted"].to_numpy()[rows[ok]] | (ph["outcome_t"].to_numpy()[rows[ok]] > PERIOD_END),
            NEVER,
            ph["outcome_t"].to_numpy()[rows[ok]],
        )
        last_end.loc[recs[ok]] = ends
    ph = ph[keep].copy()
    ph["still_working"] = ph["outcome_t"].to_numpy() > PERIOD_END
    return ph.reset_index(drop=True)


def history(
    rng, leads: pd.DataFrame, ph: pd.DataFrame, people: pd.DataFrame, companies: pd.DataFrame, marketing_ops: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """LeadHistory rows (Status and Unqualified_Reason__c changes) and each lead's final status."""
    rows = []
    ph = ph.sort_values(["rec", "work_t"], kind="stable")
    prev_status = ph.groupby("rec")["outcome"].shift(1).fillna("Open").to_numpy()
    prev_reason = ph.groupby("rec")["reason"].shift(1).to_numpy()
    owner = leads["owner_id"].to_numpy()[ph["rec"].to_numpy()]
    rec = ph["rec"].to_numpy()
    rows.append(_hist(rec, ph["work_t"], "Status", prev_status, "Working", owner))
    was_unq = prev_status == "Unqualified"
    rows.append(
        _hist(
            rec[was_unq],
            ph["work_t"].to_numpy()[was_unq],
            "Unqualified_Reason__c",
            prev_reason[was_unq],
            None,
            owner[was_unq],
        )
    )
    done = ~ph["still_working"].to_numpy()
    rows.append(
        _hist(
            rec[done],
            ph["outcome_t"].to_numpy()[done],
            "Status",
            "Working",
            ph["outcome"].to_numpy()[done],
            owner[done],
        )
    )
    unq = done & (ph["outcome"].to_numpy() == "Unqualified")
    rows.append(
        _hist(
            rec[unq],
            ph["outcome_t"].to_numpy()[unq],
            "Unqualified_Reason__c",
            None,
            ph["reason"].to_numpy()[unq],
            owner[unq],
        )
    )

    # Marketing-ops hygiene on leads nobody worked.
    untouched = ~np.isin(leads["rec"].to_numpy(), rec)
    who = leads["person_idx"].to_numpy()
    created = leads["created_t"].to_numpy()
    sen = people["seniority"].to_numpy()[who]
    kind = companies["kind"].to_numpy()[people["company_idx"].to_numpy()[who]]
    junk = people["is_junk"].to_numpy()[who]
    digits = pd.Series(leads["first_name"]).str.contains(r"\d", regex=True).to_numpy()
    reason = np.select(
        [junk | digits, sen == cat.STUDENT, kind == "competitor"], ["Bad Data", "Student", "Competitor"], ""
    )
    p = np.select([junk, sen == cat.STUDENT, kind == "competitor", digits], [0.7, 0.6, 0.7, 0.3], 0.0)
    clean = untouched & (reason != "") & (rng.random(len(leads)) < p) & ~leads["is_duplicate"].to_numpy()
    t = np.maximum(created, PERIOD_START) + (rng.uniform(1, 60, len(leads)) * DAY).astype(np.int64)
    clean &= t <= PERIOD_END
    rows.append(_hist(leads["rec"].to_numpy()[clean], t[clean], "Status", "Open", "Unqualified", marketing_ops))
    rows.append(
        _hist(leads["rec"].to_numpy()[clean], t[clean], "Unqualified_Reason__c", None, reason[clean], marketing_ops)
    )
    # Stale open leads go to nurturing in periodic clean-ups.
    stale_from = np.maximum(created + 180 * DAY, PERIOD_START)
    t = stale_from + (rng.uniform(0, 120, len(leads)) * DAY).astype(np.int64)
    stale = untouched & ~clean & (t <= PERIOD_END) & (rng.random(len(leads)) < 0.3)
    rows.append(_hist(leads["rec"].to_numpy()[stale], t[stale], "Status", "Open", "Nurturing", marketing_ops))
    hist = pd.concat(rows, ignore_index=True)
    hist = hist.sort_values(["t", "rec", "field_order"], kind="stable").reset_index(drop=True)

    status = pd.Series("Open", index=leads["rec"].to_numpy(), dtype=object)
    st = hist[hist["field"] == "Status"].groupby("rec")["new"].last()
    status.loc[st.index] = st.to_numpy()
    reason_final = pd.Series(None, index=leads["rec"].to_numpy(), dtype=object)
    rs = hist[hist["field"] == "Unqualified_Reason__c"].groupby("rec")["new"].last()
    reason_final.loc[rs.index] = rs.to_numpy()
    final = pd.DataFrame(
        {
            "rec": leads["rec"].to_numpy(),
            "status": status.to_numpy(),
            "reason": np.where(status.to_numpy() == "Unqualified", reason_final.to_numpy(), None),
        }
    )
    return hist, final


def _hist(rec, t, field, old, new, by) -> pd.DataFrame:
    n = len(rec)
    return pd.DataFrame(
        {
            "rec": np.asarray(rec),
            "t": np.asarray(t, dtype=np.int64),
            "field": field,
            "field_order": 0 if field == "Status" else 1,
            "old": np.broadcast_to(np.asarray(old, dtype=object), n),
            "new": np.broadcast_to(np.asarray(new, dtype=object), n),
            "by": np.broadcast_to(np.asarray(by, dtype=object), n),
        }
    )


def call_outcomes(rng, n: int, engaged: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Call disposition and duration: most calls end in voicemail or no answer within two minutes."""
    dispositions = np.array(
        ["No Answer", "Left Voicemail", "Not Interested", "Connected", "Meeting Booked"], dtype=object
    )
    cold = pick_index(rng, (30, 38, 10, 20, 2), n)
    warm = pick_index(rng, (15, 25, 8, 40, 12), n)
    d = np.where(engaged, warm, cold)
    seconds = np.select(
        [d == 0, d == 1, d == 2, d == 3],
        [
            rng.uniform(5, 35, n),
            rng.uniform(25, 110, n),
            rng.uniform(40, 240, n),
            np.clip(np.exp(rng.normal(np.log(330), 0.9, n)), 60, 3600),
        ],
        rng.uniform(400, 1800, n),
    )
    return dispositions[d], seconds.astype(np.int64)


def activities(rng, owner_rows: pd.DataFrame) -> pd.DataFrame:
    """Calls, emails and meetings for each worked period.

    owner_rows: who (record key), what (opportunity key or -1), owner, start_t, end_t, engaged, n.
    """
    n_tasks = owner_rows["n"].to_numpy()
    idx = np.repeat(np.arange(len(owner_rows)), n_tasks)
    first = np.concatenate([[True], idx[1:] != idx[:-1]]) if len(idx) else np.zeros(0, bool)
    start = owner_rows["start_t"].to_numpy()[idx]
    end = np.maximum(owner_rows["end_t"].to_numpy()[idx], start + 3600)
    t = np.where(first, start + rng.integers(300, 4 * 3600, len(idx)), uniform_between(rng, start, end))
    engaged = owner_rows["engaged"].to_numpy()[idx]
    kind = pick_index(rng, (52, 38, 10), len(idx))
    kind = np.where(engaged & (rng.random(len(idx)) < 0.15), 2, kind)
    kind = np.where(first & (kind == 2), 0, kind)  # the first touch is never a meeting
    disposition, seconds = call_outcomes(rng, len(idx), engaged)
    return pd.DataFrame(
        {"row": idx, "t": t, "kind": kind, "disposition": disposition, "seconds": seconds, "engaged": engaged}
    )
