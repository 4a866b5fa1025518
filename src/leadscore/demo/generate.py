"""Generate the demo landing files and their hidden ground truth.

    python -m leadscore.demo.generate --size small --seed 42 [--landing DIR] [--truth DIR] [--force]

The same size and seed always give byte-identical files. The simulated period is fixed
(2025-01-01 to 2026-06-30 UTC); the CRM export is dated 2026-06-30.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from leadscore.demo import campaigns as cal
from leadscore.demo import render, truth, weblog
from leadscore.demo import site as web
from leadscore.demo.config import DAY, EXPORT_FOLDER, NEVER, PERIOD_START, SIZES, Size, stream
from leadscore.demo.crm import build_crm, finish, prepare_people
from leadscore.demo.deals import Deals, build_deals
from leadscore.demo.email_events import EmailActivity, simulate_email
from leadscore.demo.fmt import hex_tokens
from leadscore.demo.forms import FORM_COLUMNS, form_rows, place_forms
from leadscore.demo.journeys import Journeys, build_journeys, plan_visits
from leadscore.demo.population import build_companies, build_people
from leadscore.demo.signals import SIGNAL_COLUMNS, build_signals, month_label
from leadscore.demo.users import build_team
from leadscore.demo.writers import connect, write_crm_csv, write_grouped_csv

CRM_OBJECTS = (
    "User",
    "Account",
    "Contact",
    "Lead",
    "Opportunity",
    "OpportunityContactRole",
    "Campaign",
    "CampaignMember",
    "Task",
    "LeadHistory",
)
# Bot traffic as a share of human log lines.
CRAWLER_SHARE, MONITOR_SHARE, ATTACK_SHARE, GARBAGE_SHARE = 0.2, 0.04, 0.06, 0.0002


@dataclass
class Summary:
    files: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    facts: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, family: str, files: int, rows: int) -> None:
        self.files[family] = self.files.get(family, 0) + files
        self.rows[family] = self.rows.get(family, 0) + rows

    @contextmanager
    def phase(self, name: str):
        started = time.perf_counter()
        yield
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


class LandingNotEmpty(Exception):
    pass


def prepare_folder(landing: Path, force: bool) -> None:
    """Refuse to mix generated files into existing data unless asked to replace it."""
    if landing.exists() and any(landing.iterdir()):
        if not force:
            raise LandingNotEmpty(f"{landing} is not empty; use --force to replace its contents")
        for child in sorted(landing.iterdir()):
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    landing.mkdir(parents=True, exist_ok=True)


@dataclass
class World:
    """Everything simulated, before it is written out."""

    seed: int
    companies: pd.DataFrame
    people: pd.DataFrame
    campaigns: pd.DataFrame
    sends: pd.DataFrame
    site: web.Site
    journeys: Journeys
    deals: Deals
    email: EmailActivity
    vis: weblog.Visitors | None = None
    tokens: np.ndarray | None = None  # visitor cookie per visitor index
    attendance: pd.DataFrame | None = None
    queries: weblog.Queries | None = None
    requests: dict | None = None  # web log rows as column arrays


def simulate_market(size: Size, seed: int) -> World:
    """Companies, people, their hidden journeys, deals and email engagement."""
    companies = build_companies(stream(seed, "companies"), max(40, int(size.people / 3.2)))
    people = build_people(stream(seed, "people"), companies, size.people)
    campaigns, sends = cal.build_calendar()
    site = web.Site(cal.webinars(campaigns))
    journeys = build_journeys(stream(seed, "journeys"), people, companies, campaigns)
    deals = build_deals(stream(seed, "deals"), journeys.episodes, journeys.participants, people, companies)
    prepare_people(stream(seed, "records"), people)
    customer_from = np.full(len(companies), NEVER)
    customer_from[deals.customers["company_idx"].to_numpy()] = deals.customers["since_t"].to_numpy()
    email = simulate_email(stream(seed, "email"), people, companies, sends, deals.periods, customer_from, site)
    return World(seed, companies, people, campaigns, sends, site, journeys, deals, email)


def simulate_web(w: World, size: Size) -> None:
    """Visitors (cookies), their visits, and the bot traffic around them."""
    rng = stream(w.seed, "web")
    episodes = w.journeys.episodes
    colleagues = np.repeat(episodes["episode_idx"].to_numpy(), rng.poisson(1.2, len(episodes)))
    n_anonymous = int(size.anonymous_per_person * size.people)
    w.vis = weblog.build_visitors(
        rng, w.people, n_anonymous, w.companies, episodes["company_idx"].to_numpy()[colleagues]
    )
    w.tokens = hex_tokens(render.visitor_token_values(np.arange(len(w.vis.person)), w.seed), 10, "v-")
    webinar_page = np.array([w.site.path_id.get(f"/webinars/{slug}", -1) for slug in w.campaigns["slug"]])
    place_forms(rng, w.journeys.forms, w.vis, w.site, webinar_page)
    w.attendance = weblog.attendance(rng, w.journeys.forms, w.campaigns)
    renewals = w.deals.periods[w.deals.periods["kind"] == "repurchase"]
    visits = plan_visits(stream(w.seed, "visits"), w.people, w.companies, w.journeys.participants, renewals)
    w.queries = weblog.build_queries(w.sends, w.campaigns)
    sessions = weblog.plan_sessions(
        rng,
        w.vis,
        w.people,
        visits,
        w.journeys.forms,
        w.attendance[w.attendance["attended"]],
        w.email.human_clicks,
        episodes,
        n_anonymous,
        colleagues,
        w.site,
        w.queries,
    )
    human = weblog.expand_sessions(rng, sessions, w.vis, w.companies, w.site, w.journeys.forms)
    n_human = len(human["t"])
    bots = stream(w.seed, "bots")
    parts = [
        human,
        weblog.crawler_traffic(bots, int(CRAWLER_SHARE * n_human), w.site),
        weblog.monitor_traffic(bots, int(MONITOR_SHARE * n_human), w.site),
        weblog.attack_traffic(bots, int(ATTACK_SHARE * n_human), w.site),
        weblog.scanner_traffic(bots, w.email.scanner_clicks, w.queries, w.site),
        weblog.garbage_traffic(bots, max(3, int(GARBAGE_SHARE * n_human)), w.site),
    ]
    w.requests = weblog.layout(stream(w.seed, "layout"), weblog.concat(parts))


def generate(size: Size, seed: int, landing: Path, truth_dir: Path) -> Summary:
    summary = Summary()
    with summary.phase("simulate market"):
        w = simulate_market(size, seed)
    with summary.phase("simulate web"):
        simulate_web(w, size)
    with summary.phase("build crm"):
        team = build_team(stream(seed, "users"), size.sdrs, size.account_executives)
        crm = build_crm(
            stream(seed, "crm"), w.companies, w.people, w.campaigns, w.journeys, w.deals, w.email, w.attendance, team
        )
        tables = finish(crm.tables)
    con = connect()
    with summary.phase("write crm"):
        for name in CRM_OBJECTS:
            summary.add("crm", 1, write_crm_csv(con, tables[name], landing / "crm" / EXPORT_FOLDER / f"{name}.csv"))
    with summary.phase("write weblogs"):
        logs = render.write_weblogs(con, w.requests, w.site, w.queries, seed, landing)
        summary.add(
            "weblogs", len(logs["paths"]) + 1, int(logs["counts"].sum() + logs["counts"][logs["duplicate_day"]])
        )
    with summary.phase("write email"):
        ev = render.email_layout(stream(seed, "email-files"), w.email.events)
        mailed = render.write_email(con, ev, w.people, tables["Campaign"]["Id"].to_numpy(), w.site, w.queries, landing)
        summary.add(
            "email", len(mailed["paths"]) + 1, int(mailed["counts"].sum() + mailed["counts"][mailed["duplicate_day"]])
        )
    with summary.phase("write forms and signals"):
        summary.add("forms", *_write_forms(stream(seed, "form-files"), w, landing))
        summary.add(
            "signals",
            *_write_signals(build_signals(stream(seed, "signals"), w.companies, w.journeys.episodes), landing),
        )
        summary.add("adjustments", *_write_adjustments(stream(seed, "adjustments"), tables["LeadHistory"], landing))
    with summary.phase("write truth"):
        _write_truth(con, w, crm, ev, mailed, logs, landing, truth_dir, summary)
    con.close()
    opps = w.deals.opportunities
    closed = opps[(opps["kind"] != "repurchase") & opps["is_closed"]]
    summary.facts = {
        "people": f"{len(w.people)}",
        "in market": f"{w.journeys.participants['person_idx'].nunique() / len(w.people):.1%}",
        "opportunities": f"{len(opps)} ({(opps['kind'] == 'repurchase').sum()} repurchases)",
        "new-business win rate": f"{closed['is_won'].mean():.0%}" if len(closed) else "-",
        "bot share of web lines": f"{(w.requests['cls'] > 0).mean():.0%}",
    }
    return summary


def _write_truth(con, w: World, crm, ev, mailed, logs, landing: Path, truth_dir: Path, summary: Summary) -> None:
    truth_dir.mkdir(parents=True, exist_ok=True)
    facts = truth.person_facts(w.people, w.companies, w.journeys, w.deals)
    frames = {
        "people.csv": truth.people_truth(facts, crm),
        "in_market_periods.csv": truth.periods_truth(w.deals, w.people),
        "visitors.csv": truth.visitors_truth(w.vis, w.tokens, w.people, w.companies, crm, w.journeys.forms),
        "opportunities.csv": truth.opportunities_truth(w.deals, crm, w.journeys, w.people),
        "accounts.csv": truth.accounts_truth(w.companies, crm, w.journeys, w.deals),
        "bad_crm_rows.csv": crm.bad_rows,
    }
    for name, frame in frames.items():
        summary.add("truth", 1, truth.write_csv(con, frame, truth_dir / name))
    summary.add("truth", 1, render.email_truth(con, mailed, landing, truth_dir / "email_events.csv"))
    summary.add("truth", 1, render.weblog_truth(con, logs, landing, truth_dir / "weblog_lines.csv"))


def _write_forms(rng, w: World, landing: Path) -> tuple[int, int]:
    forms = w.journeys.forms
    rows = form_rows(rng, forms, w.people, w.tokens, w.vis.blocks_cookies, w.site)
    day = (forms["t"].to_numpy() - PERIOD_START) // DAY
    names = render.day_names()
    paths = {int(d): landing / "forms" / f"form-submissions-{names[d]}.csv" for d in np.unique(day)}
    counts = write_grouped_csv(rows[FORM_COLUMNS], day, paths)
    return len(counts), sum(counts.values())


def _write_signals(signals: pd.DataFrame, landing: Path) -> tuple[int, int]:
    month = signals["month"].to_numpy()
    labels = month_label(np.arange(month.max() + 1))
    paths = {int(m): landing / "signals" / f"signals-{labels[m]}.csv" for m in np.unique(month)}
    counts = write_grouped_csv(signals[SIGNAL_COLUMNS], month, paths)
    return len(counts), sum(counts.values())


# What reps do to scores by hand after a first call: (points, score, reason, share of adjustments).
ADJUSTMENT_KINDS = (
    (10, None, "Confirmed a project on the discovery call", 0.6),
    (-15, None, "Not the buyer; passed us to a colleague", 0.25),
    (None, 0, "Wrong contact details; score restarted from zero", 0.15),
)


def _write_adjustments(rng, history: pd.DataFrame, landing: Path) -> tuple[int, int]:
    """Manual score adjustments: reps adjust a few leads the day after they start working them.
    One file per month; in larger sets one row fills both points and score, as a typing slip would."""
    worked = history[(history["Field"] == "Status") & (history["NewValue"] == "Working")]
    picked = worked[rng.random(len(worked)) < 0.03]
    if picked.empty:
        return 0, 0
    kind = rng.choice(len(ADJUSTMENT_KINDS), size=len(picked), p=[k[3] for k in ADJUSTMENT_KINDS])
    at = pd.to_datetime(picked["CreatedDate"].to_numpy(), utc=True) + pd.Timedelta(days=1)
    rows = pd.DataFrame(
        {
            "adjustment_id": [f"ADJ-{i:06d}" for i in range(1, len(picked) + 1)],
            "crm_id": picked["LeadId"].to_numpy(),
            "rulebook_id": None,
            "points": [ADJUSTMENT_KINDS[k][0] for k in kind],
            "score": [ADJUSTMENT_KINDS[k][1] for k in kind],
            "reason": [ADJUSTMENT_KINDS[k][2] for k in kind],
            "author": picked["CreatedById"].to_numpy(),
            "adjusted_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )
    if len(rows) >= 40:  # one slip among many; in a tiny set it would be most of a delivery
        rows.loc[rows.index[len(rows) // 2], ["points", "score"]] = (5, 50)
    rows["points"] = rows["points"].astype("Int64")
    rows["score"] = rows["score"].astype("Int64")
    month = np.asarray(at.year * 12 + at.month - 1)
    counts = 0
    paths = 0
    for m in np.unique(month):
        path = landing / "adjustments" / f"adjustments-{m // 12}-{m % 12 + 1:02d}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        rows[month == m].to_csv(path, index=False)
        counts += int((month == m).sum())
        paths += 1
    return paths, counts


def _default_paths() -> tuple[Path, Path]:
    from leadscore.settings import load_settings

    settings = load_settings()
    return settings.landing, settings.data_dir / "truth"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m leadscore.demo.generate", description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=list(SIZES), default="small")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--landing", type=Path, help="landing folder (default: the pipeline's LEADSCORE_LANDING)")
    parser.add_argument("--truth", type=Path, help="ground-truth folder (default: <data dir>/truth)")
    parser.add_argument("--force", action="store_true", help="empty a non-empty landing folder first")
    parser.add_argument("--verbose", action="store_true", help="also print the time of each phase")
    args = parser.parse_args(argv)
    landing, truth_dir = args.landing, args.truth
    if landing is None or truth_dir is None:
        default_landing, default_truth = _default_paths()
        landing, truth_dir = landing or default_landing, truth_dir or default_truth
    try:
        prepare_folder(landing, args.force)
    except LandingNotEmpty as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    summary = generate(SIZES[args.size], args.seed, landing, truth_dir)
    elapsed = time.perf_counter() - started
    print(f"demo data ({args.size}, seed {args.seed}) -> {landing}  truth -> {truth_dir}")
    for family in summary.files:
        print(f"  {family:<11} {summary.files[family]:>5} files {summary.rows[family]:>12,} rows")
    for key, value in summary.facts.items():
        print(f"  {key}: {value}")
    if args.verbose:
        for name, seconds in summary.seconds.items():
            print(f"  {name:<24} {seconds:6.1f} s")
    print(f"  {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
