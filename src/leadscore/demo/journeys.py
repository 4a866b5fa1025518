"""Hidden buyer journeys: who is in market when, how people become known, which forms they fill
and when they visit the site.

Buying happens per company: an *episode* (start, end, product line) in which one to four people
(the buying group) research. Active episodes look like the guide's Crissy (RFP template, demo,
pricing within days); passive ones like Jen (white papers, webinars, email clicks over months).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore.demo import catalog as cat
from leadscore.demo import site as web
from leadscore.demo.config import DAY, HISTORY_START, NEVER, PERIOD_END, PERIOD_START
from leadscore.demo.fmt import pick, pick_index

ORIGINS = (
    "existing_lead",
    "existing_contact",
    "customer_contact",
    "web",
    "list",
    "syndication",
    "trade_show",
    "partner",
    "other",
)
ORIGIN = {name: i for i, name in enumerate(ORIGINS)}
FORM_SOURCES = ("organic", "paid", "social", "direct", "referral")  # how a form visit arrived
PAID, SOCIAL, DIRECT = (FORM_SOURCES.index(s) for s in ("paid", "social", "direct"))
_SOURCE_WEIGHTS = (38, 12, 10, 33, 7)
MONTH = 30.44 * DAY


@dataclass
class Journeys:
    episodes: pd.DataFrame
    participants: pd.DataFrame
    forms: pd.DataFrame
    booth_visits: pd.DataFrame
    imports: pd.DataFrame


def business_time(rng: np.random.Generator, t: np.ndarray, tz_hours: np.ndarray) -> np.ndarray:
    """Move moments to a working hour of the same local day; most weekend activity moves to a weekday."""
    t = np.asarray(t, dtype=np.int64)
    tz = np.asarray(tz_hours, dtype=np.int64) * 3600
    day = (t + tz) // DAY
    weekday = (day + 3) % 7  # 0 = Monday
    move = rng.random(len(t)) < 0.8
    day = day + np.where(move & (weekday == 5), -1, 0) + np.where(move & (weekday == 6), 1, 0)
    hour = np.clip(rng.normal(13.0, 2.6, len(t)), 6.5, 22.5)
    return day * DAY + (hour * 3600).astype(np.int64) - tz


def uniform_between(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.maximum(np.asarray(hi, dtype=np.int64), lo)
    return lo + (rng.random(len(lo)) * (hi - lo)).astype(np.int64)


def assign_origins(
    rng: np.random.Generator, people: pd.DataFrame, companies: pd.DataFrame, campaigns: pd.DataFrame
) -> None:
    """How and when each person first entered the CRM (before any in-market adjustment)."""
    n = len(people)
    customer = companies["is_customer"].to_numpy()[people["company_idx"].to_numpy()]
    r = rng.random(n)
    new_origin = np.array(
        [ORIGIN["web"], ORIGIN["list"], ORIGIN["syndication"], ORIGIN["trade_show"], ORIGIN["partner"], ORIGIN["other"]]
    )[pick_index(rng, (55, 13, 10, 12, 4, 6), n)]
    origin = np.where(
        r < 0.3, np.where(rng.random(n) < 0.8, ORIGIN["existing_lead"], ORIGIN["existing_contact"]), new_origin
    )
    origin = np.where(customer, ORIGIN["customer_contact"], origin)
    origin = np.where(people["is_junk"].to_numpy(), ORIGIN["web"], origin)

    known = uniform_between(rng, np.full(n, PERIOD_START), np.full(n, PERIOD_END - 5 * DAY))
    since = companies["customer_since"].to_numpy()[people["company_idx"].to_numpy()]
    existing = np.isin(origin, [ORIGIN["existing_lead"], ORIGIN["existing_contact"]])
    known = np.where(existing, uniform_between(rng, np.full(n, HISTORY_START), np.full(n, PERIOD_START - DAY)), known)
    cust_old = uniform_between(rng, np.maximum(since - 180 * DAY, HISTORY_START), np.full(n, PERIOD_START - DAY))
    known = np.where(customer, np.where(rng.random(n) < 0.85, cust_old, known), known)

    # List uploads happen on the first working days of a month.
    month_start = (known - PERIOD_START) // int(MONTH) * int(MONTH) + PERIOD_START
    known = np.where(origin == ORIGIN["list"], month_start + rng.integers(1, 4, n) * DAY + 10 * 3600, known)
    # Trade-show leads are uploaded a few days after the show.
    shows = campaigns[(campaigns["type"] == "Trade Show") & (campaigns["event_t"] <= PERIOD_END - 6 * DAY)]
    show_pick = rng.integers(0, len(shows), n)
    show_t = shows["event_t"].to_numpy()[show_pick]
    people["trade_show_campaign"] = np.where(
        origin == ORIGIN["trade_show"], shows["campaign_idx"].to_numpy()[show_pick], -1
    )
    known = np.where(origin == ORIGIN["trade_show"], show_t + rng.integers(2, 6, n) * DAY, known)
    people["origin"] = origin
    people["known_t"] = known.astype(np.int64)


def plan_episodes(rng: np.random.Generator, companies: pd.DataFrame) -> pd.DataFrame:
    """Buying episodes per company: more likely for well-fitting companies; customers cross-buy."""
    n = len(companies)
    fit = companies["company_fit"].to_numpy()
    prospect = companies["kind"].to_numpy() == "prospect"
    customer = companies["is_customer"].to_numpy()
    p = np.where(customer, 0.12, 0.04 + 0.45 * fit**2)
    p = np.where(prospect, p, 0.0)
    first = rng.random(n) < p
    comp = np.flatnonzero(first)
    k = len(comp)
    kind = np.where(rng.random(k) < 0.55, "active", "passive")
    start = uniform_between(rng, np.full(k, PERIOD_START - 45 * DAY), np.full(k, PERIOD_END - 15 * DAY))
    dur = np.where(kind == "active", rng.uniform(21, 70, k), rng.uniform(90, 240, k)) * DAY
    owned = companies["customer_product_line"].to_numpy()[comp]
    pl = 1 + pick_index(rng, cat.PRODUCT_LINE_WEIGHTS, k)
    pl = np.where(pl == owned, 1 + pl % 3, pl)
    ep = pd.DataFrame(
        {
            "company_idx": comp,
            "kind": kind,
            "start_t": start,
            "end_t": start + dur.astype(np.int64),
            "product_line": pl,
            "number": 1,
        }
    )
    # Some companies come back later for another product.
    again = ep[rng.random(k) < 0.12].copy()
    again["start_t"] = again["end_t"] + (rng.uniform(30, 150, len(again)) * DAY).astype(np.int64)
    again = again[again["start_t"] < PERIOD_END - 15 * DAY]
    again["kind"] = np.where(rng.random(len(again)) < 0.55, "active", "passive")
    dur2 = np.where(again["kind"] == "active", rng.uniform(21, 70, len(again)), rng.uniform(90, 240, len(again)))
    again["end_t"] = again["start_t"] + (dur2 * DAY).astype(np.int64)
    again["product_line"] = 1 + again["product_line"].to_numpy() % 3
    again["number"] = 2
    episodes = pd.concat([ep, again], ignore_index=True).sort_values(["company_idx", "number"], kind="stable")
    episodes = episodes.reset_index(drop=True)
    episodes["episode_idx"] = np.arange(len(episodes))
    span = episodes["end_t"] - episodes["start_t"]
    episodes["decide_t"] = episodes["start_t"] + (span * rng.uniform(0.35, 0.85, len(episodes))).astype(np.int64)
    return episodes


def pick_participants(rng: np.random.Generator, episodes: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    """The buying group: the most relevant senior people of the company, 1-4 of them."""
    cand = episodes[["episode_idx", "company_idx", "product_line", "kind", "start_t", "end_t", "decide_t"]].merge(
        people[["person_idx", "company_idx", "seniority", "dept", "is_junk"]], on="company_idx"
    )
    cand = cand[(cand["seniority"] < cat.STUDENT) & ~cand["is_junk"]]
    relevant = np.array([[d in pl.departments for pl in cat.PRODUCT_LINES] for d in range(len(cat.DEPARTMENTS))])
    rel = np.where(relevant[cand["dept"].to_numpy(), cand["product_line"].to_numpy() - 1], 1.0, 0.25)
    sen = np.array([1.0, 1.0, 0.9, 0.8, 0.5, 0, 0, 0])[cand["seniority"].to_numpy()]
    cand = cand.assign(score=rel * sen * rng.uniform(0.3, 1.0, len(cand)))
    cand = cand.sort_values(["episode_idx", "score", "person_idx"], ascending=[True, False, True], kind="stable")
    cand["rank"] = cand.groupby("episode_idx").cumcount()
    size = 1 + rng.binomial(3, 0.3, len(episodes))
    cand = cand[cand["rank"].to_numpy() < size[cand["episode_idx"].to_numpy()]].copy()
    span = (cand["end_t"] - cand["start_t"]).to_numpy()
    n = len(cand)
    cand["start_t"] = cand["start_t"].to_numpy() + (span * rng.uniform(0, 0.15, n)).astype(np.int64)
    cand["end_t"] = cand["end_t"].to_numpy() - (span * rng.uniform(0, 0.08, n)).astype(np.int64)
    cand["decide_t"] = np.clip(
        cand["decide_t"].to_numpy() + rng.normal(0, 1.5 * DAY, n).astype(np.int64),
        cand["start_t"].to_numpy(),
        cand["end_t"].to_numpy(),
    )
    cand["is_champion"] = cand["rank"].to_numpy() == 0
    return cand[
        [
            "episode_idx",
            "person_idx",
            "company_idx",
            "product_line",
            "kind",
            "start_t",
            "end_t",
            "decide_t",
            "is_champion",
        ]
    ].reset_index(drop=True)


def _form_rows(person, t, form_name, pl, reason) -> pd.DataFrame:
    n = len(person)
    return pd.DataFrame(
        {
            "person_idx": np.asarray(person, dtype=np.int64),
            "t": np.asarray(t, dtype=np.int64),
            "form": np.full(n, web.FORM_INDEX[form_name]) if isinstance(form_name, str) else np.asarray(form_name),
            "product_line": np.asarray(pl),
            "reason": reason,
        }
    )


def episode_forms(rng: np.random.Generator, parts: pd.DataFrame) -> pd.DataFrame:
    rows = []
    act = parts[parts["kind"] == "active"]
    champ = act["is_champion"].to_numpy()
    n = len(act)
    d = act["decide_t"].to_numpy()
    person, pl = act["person_idx"].to_numpy(), act["product_line"].to_numpy()
    chosen = rng.random(n) < np.where(champ, 0.6, 0.4)
    rows.append(
        _form_rows(
            person[chosen],
            d[chosen] - (rng.uniform(0.5, 4, n) * DAY)[chosen].astype(np.int64),
            "rfp-template-download",
            pl[chosen],
            "episode",
        )
    )
    chosen = rng.random(n) < np.where(champ, 0.85, 0.25)
    rows.append(_form_rows(person[chosen], d[chosen], "demo-request", pl[chosen], "episode"))
    for form, p, spread in (("pricing-quote", 0.35, 2), ("contact-us", 0.1, 3)):
        chosen = rng.random(n) < p
        shift = (rng.uniform(-spread, spread, n) * DAY).astype(np.int64)
        rows.append(_form_rows(person[chosen], (d + shift)[chosen], form, pl[chosen], "episode"))
    chosen = rng.random(n) < 0.3
    early = uniform_between(rng, act["start_t"].to_numpy(), d)
    rows.append(_form_rows(person[chosen], early[chosen], "white-paper-download", pl[chosen], "episode"))

    pas = parts[parts["kind"] == "passive"]
    n = len(pas)
    person, pl = pas["person_idx"].to_numpy(), pas["product_line"].to_numpy()
    lo, hi = pas["start_t"].to_numpy(), pas["end_t"].to_numpy()
    k = 1 + rng.poisson(1.2, n)
    idx = np.repeat(np.arange(n), k)
    rows.append(
        _form_rows(person[idx], uniform_between(rng, lo[idx], hi[idx]), "white-paper-download", pl[idx], "episode")
    )
    for form, p, frac in (
        ("buying-guide-download", 0.35, (0.3, 1.0)),
        ("newsletter-signup", 0.15, (0, 0.3)),
        ("demo-request", 0.1, (0.85, 1.0)),
    ):
        chosen = rng.random(n) < p
        t = lo + ((hi - lo) * rng.uniform(*frac, n)).astype(np.int64)
        rows.append(_form_rows(person[chosen], t[chosen], form, pl[chosen], "episode"))
    # Webinar registrations: passive buyers register more often.
    k = np.where(parts["kind"].to_numpy() == "passive", rng.poisson(0.9, len(parts)), rng.binomial(1, 0.25, len(parts)))
    idx = np.repeat(np.arange(len(parts)), k)
    t = uniform_between(rng, parts["start_t"].to_numpy()[idx], parts["decide_t"].to_numpy()[idx])
    rows.append(
        _form_rows(
            parts["person_idx"].to_numpy()[idx],
            t,
            "webinar-registration",
            parts["product_line"].to_numpy()[idx],
            "episode",
        )
    )
    return pd.concat(rows, ignore_index=True)


def background_forms(rng: np.random.Generator, people: pd.DataFrame) -> pd.DataFrame:
    """Forms outside buying episodes: content downloads, webinars, newsletter, the odd demo request."""
    n = len(people)
    student = people["seniority"].to_numpy() == cat.STUDENT
    person = people["person_idx"].to_numpy()
    interest = people["product_interest"].to_numpy()
    eng = people["engagement"].to_numpy()
    lo = np.maximum(people["known_t"].to_numpy(), PERIOD_START)
    months = np.maximum(PERIOD_END - lo, 0) / MONTH
    rows = []
    # The first form of people who became known through the web site.
    first = people["origin"].to_numpy() == ORIGIN["web"]
    first_form = np.where(
        student,
        pick(rng, ["white-paper-download", "newsletter-signup", "webinar-registration"], n, [5, 3, 2]),
        pick(
            rng,
            [
                "white-paper-download",
                "newsletter-signup",
                "webinar-registration",
                "contact-us",
                "buying-guide-download",
                "demo-request",
                "pricing-quote",
                "rfp-template-download",
            ],
            n,
            [35, 18, 17, 8, 8, 6, 4, 4],
        ),
    )
    form_idx = np.array([web.FORM_INDEX[f] for f in first_form])
    rows.append(
        _form_rows(person[first], people["known_t"].to_numpy()[first], form_idx[first], interest[first], "first")
    )
    for form, rate in (
        ("white-paper-download", 0.035),
        ("webinar-registration", 0.02),
        ("contact-us", 0.004),
        ("demo-request", 0.003),
        ("pricing-quote", 0.002),
        ("buying-guide-download", 0.006),
    ):
        k = rng.poisson(rate * eng * months)
        idx = np.repeat(np.arange(n), k)
        t = uniform_between(rng, lo[idx], np.full(len(idx), PERIOD_END))
        pl = np.where(rng.random(len(idx)) < 0.7, interest[idx], rng.integers(1, 4, len(idx)))
        rows.append(_form_rows(person[idx], t, form, pl, "background"))
    return pd.concat(rows, ignore_index=True)


def attach_webinars(rng: np.random.Generator, forms: pd.DataFrame, campaigns: pd.DataFrame) -> pd.DataFrame:
    """Each registration is for the next webinar of its product line; registrations without one are dropped."""
    forms = forms.copy()
    forms["campaign_idx"] = -1
    is_reg = forms["form"].to_numpy() == web.FORM_INDEX["webinar-registration"]
    wb = campaigns[campaigns["type"] == "Webinar"]
    for pl in (1, 2, 3):
        events = wb[wb["product_line"] == pl].sort_values("event_t")
        sel = np.flatnonzero(is_reg & (forms["product_line"].to_numpy() == pl))
        pos = np.searchsorted(events["event_t"].to_numpy(), forms["t"].to_numpy()[sel] + DAY)
        ok = pos < len(events)
        forms.loc[forms.index[sel[ok]], "campaign_idx"] = events["campaign_idx"].to_numpy()[pos[ok]]
    keep = ~is_reg | (forms["campaign_idx"].to_numpy() >= 0)
    return forms[keep].reset_index(drop=True)


def settle_known_times(rng: np.random.Generator, people: pd.DataFrame, forms: pd.DataFrame) -> pd.DataFrame:
    """People who came through the web site are known from their first form; a form filled before a
    list import or trade-show upload makes the person a web lead instead."""
    forms = forms[(forms["t"] >= PERIOD_START) & (forms["t"] <= PERIOD_END)]
    first = forms.groupby("person_idx")["t"].min()
    t_first = np.full(len(people), NEVER)
    t_first[first.index.to_numpy()] = first.to_numpy()
    known = people["known_t"].to_numpy()
    origin = people["origin"].to_numpy()
    new = ~np.isin(origin, [ORIGIN["existing_lead"], ORIGIN["existing_contact"], ORIGIN["customer_contact"]])
    switch = new & (t_first < known)
    origin = np.where(switch, ORIGIN["web"], origin)
    has_form = t_first < NEVER
    known = np.where((origin == ORIGIN["web"]) & has_form, t_first, known)
    origin = np.where((origin == ORIGIN["web"]) & ~has_form, ORIGIN["other"], origin)
    people["origin"] = origin
    people["known_t"] = known.astype(np.int64)
    who = forms["person_idx"].to_numpy()
    forms = forms[forms["t"].to_numpy() >= known[who]]
    forms = forms.sort_values(["t", "person_idx", "form"], kind="stable").reset_index(drop=True)
    who = forms["person_idx"].to_numpy()
    forms["creates_lead"] = (
        (~forms.duplicated("person_idx")).to_numpy()
        & (origin[who] == ORIGIN["web"])
        & (forms["t"].to_numpy() == known[who])
    )
    forms["source"] = pick_index(rng, _SOURCE_WEIGHTS, len(forms))
    return forms


def plan_visits(
    rng: np.random.Generator,
    people: pd.DataFrame,
    companies: pd.DataFrame,
    parts: pd.DataFrame,
    renewal_windows: pd.DataFrame,
) -> pd.DataFrame:
    """Web visits (without forms and email clicks, which bring their own visits)."""
    n = len(people)
    person = people["person_idx"].to_numpy()
    eng = people["engagement"].to_numpy()
    sen = people["seniority"].to_numpy()
    origin = people["origin"].to_numpy()
    customer = companies["is_customer"].to_numpy()[people["company_idx"].to_numpy()]
    # Web history starts before people are known (anonymous research), up to four months.
    lo = np.clip(people["known_t"].to_numpy() - 120 * DAY, PERIOD_START, PERIOD_END)
    offline = np.isin(origin, [ORIGIN["list"], ORIGIN["syndication"], ORIGIN["trade_show"]]) & (rng.random(n) < 0.4)
    rate = np.where(offline, 0.0, 0.22 * eng)
    k = rng.poisson(rate * (PERIOD_END - lo) / MONTH)
    idx = np.repeat(np.arange(n), k)
    mode = np.full(len(idx), web.M["casual"])
    r = rng.random(len(idx))
    mode = np.where((sen[idx] == cat.STUDENT) & (r < 0.5), web.M["jobseeker"], mode)
    mode = np.where(r > 0.985, web.M["investor"], mode)
    mode = np.where(r > 0.97, web.M["jobseeker"], mode)
    mode = np.where(customer[idx] & (r < 0.45), web.M["customer"], mode)
    rows = [
        _visit_rows(
            person[idx],
            uniform_between(rng, lo[idx], np.full(len(idx), PERIOD_END)),
            mode,
            people["product_interest"].to_numpy()[idx],
            "background",
        )
    ]

    # In-market visits.
    act = parts[parts["kind"] == "active"]
    k = rng.poisson(6, len(act))
    idx = np.repeat(np.arange(len(act)), k)
    t = act["decide_t"].to_numpy()[idx] + rng.normal(0, 4 * DAY, len(idx)).astype(np.int64)
    rows.append(
        _visit_rows(
            act["person_idx"].to_numpy()[idx], t, web.M["buying"], act["product_line"].to_numpy()[idx], "in_market"
        )
    )
    k = rng.poisson(2, len(act))
    idx = np.repeat(np.arange(len(act)), k)
    t = uniform_between(rng, act["start_t"].to_numpy()[idx], act["decide_t"].to_numpy()[idx])
    rows.append(
        _visit_rows(
            act["person_idx"].to_numpy()[idx], t, web.M["research"], act["product_line"].to_numpy()[idx], "in_market"
        )
    )
    pas = parts[parts["kind"] == "passive"]
    months = (pas["end_t"] - pas["start_t"]).to_numpy() / MONTH
    k = rng.poisson(1.6 * months)
    idx = np.repeat(np.arange(len(pas)), k)
    t = uniform_between(rng, pas["start_t"].to_numpy()[idx], pas["end_t"].to_numpy()[idx])
    v = _visit_rows(
        pas["person_idx"].to_numpy()[idx], t, web.M["research"], pas["product_line"].to_numpy()[idx], "in_market"
    )
    v["repeat_page"] = rng.random(len(v)) < 0.5  # Jen keeps coming back to the same page
    rows.append(v)
    k = rng.poisson(1.0, len(pas))
    idx = np.repeat(np.arange(len(pas)), k)
    t = pas["end_t"].to_numpy()[idx] - (rng.uniform(0, 20, len(idx)) * DAY).astype(np.int64)
    rows.append(
        _visit_rows(
            pas["person_idx"].to_numpy()[idx], t, web.M["buying"], pas["product_line"].to_numpy()[idx], "in_market"
        )
    )

    # Customers before a repurchase: documentation and pricing.
    k = rng.poisson(2.5, len(renewal_windows))
    idx = np.repeat(np.arange(len(renewal_windows)), k)
    t = uniform_between(rng, renewal_windows["start_t"].to_numpy()[idx], renewal_windows["end_t"].to_numpy()[idx])
    rows.append(
        _visit_rows(
            renewal_windows["person_idx"].to_numpy()[idx],
            t,
            web.M["customer"],
            renewal_windows["product_line"].to_numpy()[idx],
            "repurchase",
        )
    )
    visits = pd.concat(rows, ignore_index=True)
    visits["repeat_page"] = visits["repeat_page"].fillna(False).astype(bool)
    tz = people["tz_offset"].to_numpy()[visits["person_idx"].to_numpy()]
    visits["t"] = business_time(rng, visits["t"].to_numpy(), tz)
    return visits[(visits["t"] >= PERIOD_START) & (visits["t"] <= PERIOD_END)].reset_index(drop=True)


def _visit_rows(person, t, mode, pl, reason) -> pd.DataFrame:
    n = len(person)
    return pd.DataFrame(
        {
            "person_idx": np.asarray(person, dtype=np.int64),
            "t": np.asarray(t, dtype=np.int64),
            "mode": np.broadcast_to(mode, n).astype(np.int64),
            "product_line": np.asarray(pl),
            "reason": reason,
            "repeat_page": False,
        }
    )


def booth_visits(
    rng: np.random.Generator, people: pd.DataFrame, parts: pd.DataFrame, campaigns: pd.DataFrame
) -> pd.DataFrame:
    """Badge scans at trade shows: trade-show leads plus known people who stop by."""
    shows = campaigns[campaigns["type"] == "Trade Show"]
    rows = []
    ts = people[people["trade_show_campaign"] >= 0]
    ev = shows.set_index("campaign_idx")["event_t"]
    rows.append(
        pd.DataFrame(
            {
                "person_idx": ts["person_idx"].to_numpy(),
                "campaign_idx": ts["trade_show_campaign"].to_numpy(),
                "t": ev.loc[ts["trade_show_campaign"].to_numpy()].to_numpy(),
            }
        )
    )
    known = people["known_t"].to_numpy()
    for c, t, pl in zip(shows["campaign_idx"], shows["event_t"], shows["product_line"], strict=True):
        if t > PERIOD_END:
            continue
        p = np.full(len(people), 0.004)
        active = parts[(parts["start_t"] <= t) & (parts["end_t"] >= t) & ((parts["product_line"] == pl) | (pl == 0))]
        p[active["person_idx"].to_numpy()] = 0.08
        chosen = (rng.random(len(people)) < p) & (known < t) & (people["trade_show_campaign"].to_numpy() != c)
        rows.append(pd.DataFrame({"person_idx": np.flatnonzero(chosen), "campaign_idx": c, "t": t}))
    out = pd.concat(rows, ignore_index=True)
    return out[out["t"] <= PERIOD_END].drop_duplicates(["person_idx", "campaign_idx"]).reset_index(drop=True)


def syndication_imports(people: pd.DataFrame, campaigns: pd.DataFrame) -> pd.DataFrame:
    """Leads bought through content syndication belong to the program of their half-year and interest."""
    synd = campaigns[campaigns["type"] == "Content Syndication"]
    sel = people[people["origin"] == ORIGIN["syndication"]]
    rows = []
    for c, a, b, pl in zip(synd["campaign_idx"], synd["start_t"], synd["end_t"], synd["product_line"], strict=True):
        m = sel[(sel["known_t"] >= a) & (sel["known_t"] <= b) & (sel["product_interest"] == pl)]
        rows.append(
            pd.DataFrame({"person_idx": m["person_idx"].to_numpy(), "campaign_idx": c, "t": m["known_t"].to_numpy()})
        )
    return pd.concat(rows, ignore_index=True)


def build_journeys(
    rng: np.random.Generator, people: pd.DataFrame, companies: pd.DataFrame, campaigns: pd.DataFrame
) -> Journeys:
    assign_origins(rng, people, companies, campaigns)
    episodes = plan_episodes(rng, companies)
    parts = pick_participants(rng, episodes, people)
    tz = people["tz_offset"].to_numpy()
    forms = pd.concat([episode_forms(rng, parts), background_forms(rng, people)], ignore_index=True)
    forms["t"] = business_time(rng, forms["t"].to_numpy(), tz[forms["person_idx"].to_numpy()])
    forms = attach_webinars(rng, forms, campaigns)
    forms = settle_known_times(rng, people, forms)
    return Journeys(
        episodes=episodes,
        participants=parts,
        forms=forms,
        booth_visits=booth_visits(rng, people, parts, campaigns),
        imports=syndication_imports(people, campaigns),
    )
