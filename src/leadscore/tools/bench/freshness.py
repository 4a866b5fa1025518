"""Freshness: one more hour of data lands after the incremental run, in which a known lead fills
in high-intent forms, views the pricing and demo pages and clicks an email. The benchmark times
the run that follows and checks that the lead's new score, MQL flag, `mql` stage and SLA reached
the warehouse and the published copy (`freshness_s` counts only when they all did).

The lead is the closest to the champion's MQL threshold among the people in stage `name` with
enough fit and an email address, so the hour's points (about 50 from the forms alone in the
shipped rulebooks) carry them over it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from leadscore.warehouse import connect

# Forms that the shipped rulebooks score as critical or important buying signals.
HIGH_INTENT_FORMS = ("pricing-quote", "rfp-template-download", "demo-request", "contact-us")
SITE = "https://www.tessellate.io"
PAGES = ("/pricing", "/demo", "/pricing", "/contact")
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 " \
          "Safari/537.36"
COOKIE = "v-freshness01"
CLIENT_IP = "198.51.100.77"
FORM_HEADER = ("submission_id,submitted_at,form_name,page_url,visitor_id,email,first_name,last_name,company,"
               "job_title,country,phone")


@dataclass(frozen=True)
class Lead:
    person_id: str
    email: str
    first_name: str
    last_name: str
    total_score: float
    as_of: datetime


def pick_lead(warehouse: Path) -> Lead | None:
    """The champion's non-MQL lead in stage `name` closest below the threshold, with the minimum fit."""
    with connect(warehouse, read_only=True) as con:
        row = con.execute(
            """select scores.person_id, people.email, people.first_name, people.last_name, scores.total_score,
                scores.as_of
            from marts.fct_lead_scores as scores
            inner join marts.dim_people as people on people.person_id = scores.person_id
            inner join seeds.rulebooks as rulebooks on rulebooks.rulebook_id = scores.rulebook_id
            where scores.is_champion and not scores.is_mql and people.current_stage = 'name'
                and scores.fit_score >= rulebooks.mql_min_fit and people.email like '%@%'
                and not coalesce(people.has_opted_out_of_email, false)
            order by scores.total_score desc, scores.person_id
            limit 1"""
        ).fetchone()
    return Lead(*row) if row else None


def land_one_hour(landing: Path, lead: Lead) -> datetime:
    """Write the hour after the lead's as_of: web hits, form fills and an email click, in new files
    (a `-hour` suffix: the day's own files may already be loaded). Returns the hour's end."""
    start = lead.as_of.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    day = start.strftime("%Y-%m-%d")
    stamps = [start + timedelta(minutes=5 * i + 1) for i in range(len(PAGES) + len(HIGH_INTENT_FORMS) + 2)]
    weblog = landing / "weblogs" / start.strftime("%Y/%m") / f"access-{day}-hour.log"
    weblog.parent.mkdir(parents=True, exist_ok=True)
    weblog.write_text("".join(
        f'{CLIENT_IP} - - [{at.strftime("%d/%b/%Y:%H:%M:%S +0000")}] "GET {page} HTTP/2.0" 200 20480 '
        f'"{SITE}/" "{BROWSER}" "{COOKIE}"\n'
        for page, at in zip(PAGES, stamps, strict=False)
    ))
    forms = landing / "forms" / f"form-submissions-{day}-hour.csv"
    forms.parent.mkdir(parents=True, exist_ok=True)
    forms.write_text(FORM_HEADER + "\n" + "".join(
        f"fs-fresh-{i:04d},{at.strftime('%Y-%m-%dT%H:%M:%SZ')},{form},{SITE}/contact,{COOKIE},{lead.email},"
        f"{lead.first_name or ''},{lead.last_name or ''},,,,\n"
        for i, (form, at) in enumerate(zip(HIGH_INTENT_FORMS, stamps[len(PAGES):], strict=False))
    ))
    email = landing / "email" / f"email-events-{day}-hour.jsonl"
    email.parent.mkdir(parents=True, exist_ok=True)
    clicked_at = stamps[-1]
    email.write_text("".join(json.dumps({
        "event_id": f"evt_fresh_{kind}", "event_type": kind,
        "occurred_at": (clicked_at - timedelta(minutes=2 if kind == "open" else 0)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "email": lead.email, "campaign_id": "freshness", "message_id": "<freshness@mail.tessellate.io>",
        **({"url": f"{SITE}/pricing"} if kind == "click" else {}),
    }) + "\n" for kind in ("open", "click")))
    return start + timedelta(hours=1)


def reached(warehouse: Path, published: Path, lead: Lead) -> dict[str, bool]:
    """Whether the hour's effect is in the warehouse and the published copy."""
    facts = {}
    with connect(warehouse, read_only=True) as con:
        score = con.execute(
            "select total_score, is_mql from marts.fct_lead_scores where is_champion and person_id = ?",
            [lead.person_id],
        ).fetchone()
        facts["score_moved"] = bool(score and score[0] > lead.total_score)
        facts["mql"] = bool(score and score[1])
        facts["mql_stage"] = con.execute(
            "select count(*) from marts.fct_lead_stage_history where person_id = ? and is_current and stage = 'mql'",
            [lead.person_id],
        ).fetchone()[0] == 1
        facts["mql_sla"] = con.execute(
            "select count(*) from marts.fct_lead_sla as sla inner join seeds.sla_policies as policies "
            "on policies.policy = sla.policy where sla.person_id = ? and policies.stage = 'mql'", [lead.person_id],
        ).fetchone()[0] > 0
        warehouse_score = score[0] if score else None
    with connect(published, read_only=True) as con:
        copy = con.execute(
            "select total_score from marts.fct_lead_scores where is_champion and person_id = ?", [lead.person_id]
        ).fetchone()
    facts["published"] = bool(copy) and copy[0] == warehouse_score
    return facts
