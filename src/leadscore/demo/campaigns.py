"""The marketing calendar: newsletters, nurture streams, webinars and their invitations, trade shows,
content syndication, paid search and launch announcements, with the email sends and their links.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.demo import catalog as cat
from leadscore.demo.config import DAY, PERIOD_END, PERIOD_START

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEBINAR_TOPICS = {
    1: (
        "Dashboards people actually use",
        "From spreadsheets to self-service analytics",
        "Metrics layers in practice",
        "Analytics for finance teams",
        "Prism Analytics: what's new",
        "KPI design workshop",
    ),
    2: (
        "Integration patterns that scale",
        "ETL, ELT and reverse ETL explained",
        "Real-time pipelines without tears",
        "Relay Integration: what's new",
        "Connecting 200 SaaS apps",
        "API-first integration",
    ),
    3: (
        "Preparing for a GDPR audit",
        "Finding sensitive data you forgot you had",
        "Insider risk 101",
        "Bastion Data Security: what's new",
        "Encryption strategies for the cloud",
        "Zero trust for data teams",
    ),
}
TRADE_SHOWS = (
    ("Data & Analytics Summit London 2025", "2025-03-18", 1),
    ("Integrate Conf Austin 2025", "2025-05-06", 2),
    ("SecureData World Paris 2025", "2025-06-10", 3),
    ("CIO Forum New York 2025", "2025-09-23", 0),
    ("CloudOps Expo Berlin 2025", "2025-11-04", 2),
    ("Data & Analytics Summit London 2026", "2026-03-17", 1),
    ("Integrate Conf Austin 2026", "2026-04-28", 2),
    ("SecureData World Paris 2026", "2026-06-09", 3),
)
_LAUNCHES = (
    ("Relay Integration 5.0", "2025-04-15", 2),
    ("Bastion Data Security 3", "2025-10-07", 3),
    ("Prism Analytics AI Assist", "2026-03-10", 1),
)


def _ts(date: str, hour: int = 0) -> int:
    return int(np.datetime64(date, "s").astype(np.int64)) + hour * 3600


def _weekday_on_or_after(t: int, weekday: int) -> int:
    """Move a timestamp to the next given weekday (0 = Monday) at the same time of day."""
    days = (t // DAY + 3) % 7  # 1970-01-01 was a Thursday
    return t + int((weekday - days) % 7) * DAY


def _slug(text: str) -> str:
    out = "".join(ch.lower() if ch.isalnum() else "-" for ch in text)
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-")


def build_calendar() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Campaign rows and email sends (one row per send, links as a list of site paths)."""
    camps: list[dict] = []
    sends: list[dict] = []

    def add(name: str, ctype: str, start: int, end: int, pl: int = 0, parent: int = -1, **extra) -> int:
        camps.append(
            {
                "name": name,
                "type": ctype,
                "start_t": start,
                "end_t": end,
                "product_line": pl,
                "parent": parent,
                "slug": _slug(name),
                **extra,
            }
        )
        return len(camps) - 1

    def send(campaign: int, t: int, audience: str, pl: int, links: list[str]) -> None:
        sends.append({"campaign": campaign, "t_send": t, "audience": audience, "product_line": pl, "links": links})

    slugs = {pl.code: pl.slug for pl in cat.PRODUCT_LINES}
    months = np.arange(np.datetime64("2025-01"), np.datetime64("2026-07"))
    for k, month in enumerate(months):
        year, mon = int(str(month)[:4]), int(str(month)[5:7])
        t = _weekday_on_or_after(_ts(f"{month}-08", 14), 1)  # second Tuesday
        c = add(f"Newsletter - The Tessellate Brief - {_MONTHS[mon - 1]} {year}", "Email", t, t)
        blog = [
            "/blog/dashboards-people-actually-use",
            "/blog/etl-vs-elt-in-2025",
            "/blog/gdpr-fines-what-changed",
            "/blog/data-contracts-explained",
            "/blog/what-is-reverse-etl",
            "/blog/zero-trust-for-data-teams",
        ]
        papers = [
            "/resources/white-papers/state-of-self-service-analytics-2025",
            "/resources/white-papers/integration-architecture-guide",
            "/resources/white-papers/data-security-posture-report-2025",
        ]
        send(
            c,
            t,
            "newsletter",
            0,
            [blog[k % 6], blog[(k + 3) % 6], papers[k % 3], "/webinars", "/case-studies/bank-connects-200-systems"],
        )

    webinars = []
    t = _weekday_on_or_after(_ts("2025-01-22", 16), 3)
    k = 0
    while t <= PERIOD_END + 20 * DAY:
        pl = 1 + k % 3
        topic = _WEBINAR_TOPICS[pl][(k // 3) % 6]
        date = str(np.datetime64(t, "s"))[:10]
        w = add(f"Webinar - {topic} - {date}", "Webinar", t - 30 * DAY, t, pl, event_t=t)
        webinars.append(w)
        inv = add(f"Email - Invite - {topic} - {date}", "Email", t - 14 * DAY, t - 3 * DAY, pl, parent=w)
        page = f"/webinars/{camps[w]['slug']}"
        for lead_days in (14, 3):
            ts = t - lead_days * DAY - 2 * 3600
            if ts <= PERIOD_END:
                send(inv, ts, "invite", pl, [page, page, "/webinars"])
        t += 21 * DAY
        k += 1

    quarters = [(y, q) for y in (2025, 2026) for q in (1, 2, 3, 4) if (y, q) <= (2026, 2)]
    for y, q in quarters:
        q_start = _ts(f"{y}-{3 * q - 2:02d}-01", 15)
        q_end = _ts(f"{y + (q == 4)}-{(3 * q) % 12 + 1:02d}-01") - 1
        for pl in cat.PRODUCT_LINES:
            s = pl.slug
            c = add(f"Nurture - {pl.name} - {y} Q{q}", "Email", q_start, q_end, pl.code)
            waves = (
                [f"/resources/white-papers/{_paper(pl.code)}", f"/blog/{_blog(pl.code)}", f"/products/{s}"],
                [f"/case-studies/{_case(pl.code)}", f"/videos/{s}-overview", f"/resources/datasheets/{s}-datasheet"],
                [f"/resources/buying-guides/{_guide(pl.code)}", f"/pricing/{s}", "/demo-request"],
            )
            for wave, links in zip((10, 38, 66), waves, strict=True):
                send(c, _weekday_on_or_after(q_start + wave * DAY, 2), "nurture", pl.code, links)

    for name, date, pl in _LAUNCHES:
        t = _ts(date, 15)
        c = add(f"Email - Launch - {name}", "Email", t, t, pl)
        s = slugs[pl]
        send(
            c,
            t,
            "launch",
            pl,
            [f"/products/{s}", f"/videos/{s}-product-tour", f"/docs/{s}/release-notes", f"/pricing/{s}"],
        )

    for name, date, pl in TRADE_SHOWS:
        t = _ts(date, 9)
        add(name, "Trade Show", t - 60 * DAY, t + 2 * DAY, pl, event_t=t)

    halves = (
        ("H1 2025", "2025-01-01", "2025-07-01"),
        ("H2 2025", "2025-07-01", "2026-01-01"),
        ("H1 2026", "2026-01-01", "2026-07-01"),
    )
    for label, a, b in halves:
        for pl in cat.PRODUCT_LINES:
            add(f"Content Syndication - {pl.name} - {label}", "Content Syndication", _ts(a), _ts(b) - 1, pl.code)
            add(f"Google Ads - {pl.name} - {label}", "Paid Search", _ts(a), _ts(b) - 1, pl.code)

    campaigns = pd.DataFrame(camps)
    campaigns["event_t"] = campaigns.get("event_t", pd.Series(dtype=float)).fillna(-1).astype(np.int64)
    campaigns["campaign_idx"] = np.arange(len(campaigns))
    campaigns["status"] = np.where(
        campaigns["end_t"] < PERIOD_END,
        "Completed",
        np.where(campaigns["start_t"] > PERIOD_END, "Planned", "In Progress"),
    )
    # Campaigns are set up a few weeks before they start.
    campaigns["created_t"] = np.minimum(campaigns["start_t"], campaigns["end_t"]) - 21 * DAY
    send_table = pd.DataFrame(sends)
    send_table = send_table[(send_table["t_send"] >= PERIOD_START) & (send_table["t_send"] <= PERIOD_END)]
    send_table = send_table.sort_values("t_send", kind="stable").reset_index(drop=True)
    send_table["send_idx"] = np.arange(len(send_table))
    return campaigns, send_table


def _paper(pl: int) -> str:
    return {1: "analytics-maturity-model", 2: "ipaas-total-cost-of-ownership", 3: "gdpr-data-mapping-playbook"}[pl]


def _blog(pl: int) -> str:
    return {
        1: "the-hidden-cost-of-spreadsheets",
        2: "api-first-integration-patterns",
        3: "classifying-sensitive-data-automatically",
    }[pl]


def _case(pl: int) -> str:
    return {
        1: "insurer-self-service-dashboards",
        2: "manufacturer-real-time-inventory",
        3: "insurer-passes-gdpr-audit",
    }[pl]


def _guide(pl: int) -> str:
    return {
        1: "analytics-platform-buying-guide",
        2: "integration-platform-buying-guide",
        3: "data-security-buying-guide",
    }[pl]


def webinars(campaigns: pd.DataFrame) -> pd.DataFrame:
    return campaigns[campaigns["type"] == "Webinar"][["campaign_idx", "slug", "product_line", "event_t"]]
