"""How well the scores do against the demo's hidden truth: people, purchase cycles and repurchases.

    python -m leadscore.demo.evaluate --date 2026-03-31 --horizon-days 90
    python -m leadscore.demo.evaluate customers [--min-purchases 3]

People: ROC AUC of each rulebook's score on a past day of `fct_lead_score_daily`. Positives are
people whose first opportunity (data/truth/people.csv) comes within the horizon after the scores'
day; people who already had one are left out. Ties count half, so a score that puts everyone at 0
gets 0.5.

Customers: the share of `fct_account_purchase_cycles` cycles within half a month of the true one
(data/truth/accounts.csv), for accounts with enough purchases; and the ROC AUC of
`fct_account_repurchase_snapshots` among accounts without an open opportunity, a positive being a
repurchase opportunity (data/truth/opportunities.csv) created within the row's horizon after its
snapshot, per rulebook over all score dates and per date.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class Ranking:
    rulebook_id: str
    people: int
    positives: int
    auc: float | None


@dataclass(frozen=True)
class CycleAccuracy:
    accounts: int  # with enough purchases and a true cycle
    within_half_month: int
    share: float | None
    misses: tuple[tuple[str, float | None, int], ...]  # (account_id, cycle_months, true cycle)


@dataclass(frozen=True)
class RepurchaseRanking:
    rulebook_id: str
    score_date: date | None  # None: all score dates pooled
    accounts: int  # account-days when pooled
    positives: int
    auc: float | None


def _auc_sql(ctes: str, groups: str) -> str:
    """ROC AUC per `groups` by the rank-sum (Mann-Whitney) formula, average ranks for ties, over the
    `scored` relation (the groups, `score`, `positive`) that `ctes` defines."""
    return f"""
with {ctes},
ranked as (
    select *, rank() over (partition by {groups} order by score)
        + (count(*) over (partition by {groups}, score) - 1) / 2.0 as score_rank
    from scored
)
select {groups}, count(*) as n, count(*) filter (where positive) as positives,
    (sum(score_rank) filter (where positive) - count(*) filter (where positive)
        * (count(*) filter (where positive) + 1) / 2.0)
    / nullif(count(*) filter (where positive) * count(*) filter (where not positive), 0) as auc
from ranked
group by {groups}
order by {groups} nulls first
"""


PEOPLE_SQL = """
records as (
    select crm_id, person_key, cast(try_cast(first_opportunity_at as timestamptz) as timestamp) as first_opportunity_at
    from read_csv(?, all_varchar = true)
),
-- A person's first opportunity, whichever of their CRM records (lead, contact) carries it.
truth as (
    select records.crm_id, people.first_opportunity_at
    from records
    inner join (
        select person_key, min(first_opportunity_at) as first_opportunity_at from records group by person_key
    ) as people on records.person_key = people.person_key
),
scored as (
    select d.rulebook_id, d.{score} as score,
        coalesce(t.first_opportunity_at > ?::timestamp
                 and t.first_opportunity_at <= ?::timestamp + to_days(?), false) as positive
    from marts.fct_lead_score_daily as d
    inner join truth as t on t.crm_id = d.person_id
    where d.score_date = ?::date
        and (t.first_opportunity_at is null or t.first_opportunity_at > ?::timestamp)
)"""

CYCLE_SQL = """
with truth as (
    select account_id, cast(customer_cycle_months as integer) as true_cycle
    from read_csv(?, all_varchar = true)
    where account_id is not null and customer_cycle_months is not null
)
select c.account_id, c.cycle_months, t.true_cycle,
    coalesce(abs(c.cycle_months - t.true_cycle) <= 0.5, false) as within
from marts.fct_account_purchase_cycles as c
inner join truth as t on t.account_id = c.account_id
where c.purchases >= ?
order by c.account_id
"""

REPURCHASE_SQL = """
repurchases as (
    select account_id, cast(try_cast(created_at as timestamptz) as timestamp) as created_at
    from read_csv(?, all_varchar = true)
    where kind = 'repurchase' and account_id is not null
),
rows as (
    select s.rulebook_id, s.score_date, s.repurchase_score as score,
        exists (
            select 1 from repurchases as r
            where r.account_id = s.account_id
                and r.created_at > s.snapshot_at
                and r.created_at <= s.snapshot_at + to_days(coalesce(?::integer, s.horizon_days))
        ) as positive
    from marts.fct_account_repurchase_snapshots as s
    where s.has_open_opportunity = false
),
-- Each row once on its day and once in the rulebook's pool of all days (score_date null).
scored as (
    select rulebook_id, score_date, score, positive from rows
    union all
    select rulebook_id, null::date, score, positive from rows
)"""


SCORES = ("total_score", "fit_score", "engagement_score")


def rank_quality(
    warehouse: Path, truth_dir: Path, score_date: date, horizon_days: int, score: str = "total_score"
) -> list[Ranking]:
    """AUC per rulebook of one score column at the end of `score_date`."""
    if score not in SCORES:
        raise ValueError(f"score must be one of {SCORES}")
    # The day's scores hold at the midnight after it: the horizon starts there.
    start = datetime.combine(score_date + timedelta(days=1), time())
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        rows = con.execute(
            _auc_sql(PEOPLE_SQL.format(score=score), "rulebook_id"),
            [str(truth_dir / "people.csv"), start, start, horizon_days, score_date.isoformat(), start],
        ).fetchall()
    return [Ranking(r[0], r[1], r[2], None if r[3] is None else float(r[3])) for r in rows]


def cycle_accuracy(warehouse: Path, truth_dir: Path, min_purchases: int = 3) -> CycleAccuracy:
    """How many accounts with at least `min_purchases` purchases and a true cycle have a cycle within
    half a month of it."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(CYCLE_SQL, [str(truth_dir / "accounts.csv"), min_purchases]).fetchall()
    within = sum(1 for r in rows if r[3])
    misses = tuple((r[0], None if r[1] is None else float(r[1]), int(r[2])) for r in rows if not r[3])
    return CycleAccuracy(len(rows), within, within / len(rows) if rows else None, misses)


def repurchase_rank_quality(
    warehouse: Path, truth_dir: Path, horizon_days: int | None = None
) -> list[RepurchaseRanking]:
    """AUC per rulebook of the repurchase score, over all score dates (score_date None) and per date;
    the horizon is each snapshot's (the backtest's) unless `horizon_days` is given."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        rows = con.execute(
            _auc_sql(REPURCHASE_SQL, "rulebook_id, score_date"), [str(truth_dir / "opportunities.csv"), horizon_days]
        ).fetchall()
    return [RepurchaseRanking(r[0], r[1], r[2], r[3], None if r[4] is None else float(r[4])) for r in rows]


def _people(args) -> int:
    print(f"scores of {args.date}, opportunities within {args.horizon_days} days: AUC of each score")
    for score in SCORES:
        rankings = rank_quality(args.warehouse, args.truth, args.date, args.horizon_days, score)
        if not rankings:
            print(f"no scores on {args.date} in {args.warehouse}", file=sys.stderr)
            return 1
        for r in rankings:
            auc = "-" if r.auc is None else f"{r.auc:.4f}"
            print(f"  {score:<17} {r.rulebook_id:<18} people {r.people:>8,}  positives {r.positives:>6,}  AUC {auc}")
    return 0


def _customers(args) -> int:
    acc = cycle_accuracy(args.warehouse, args.truth, args.min_purchases)
    share = "-" if acc.share is None else f"{acc.share:.1%}"
    print(
        f"purchase cycles of accounts with >= {args.min_purchases} purchases: {acc.within_half_month:,} of "
        f"{acc.accounts:,} within half a month of the truth ({share})"
    )
    for account_id, cycle, true_cycle in acc.misses[:10]:
        print(f"  miss {account_id}: {'-' if cycle is None else f'{cycle:.2f}'} months, truth {true_cycle}")
    if len(acc.misses) > 10:
        print(f"  ... {len(acc.misses) - 10:,} more")
    rankings = repurchase_rank_quality(args.warehouse, args.truth, args.horizon_days)
    if not rankings:
        print(f"no repurchase snapshots in {args.warehouse}", file=sys.stderr)
        return 1
    horizon = "the backtest's horizon" if args.horizon_days is None else f"{args.horizon_days} days"
    print(f"repurchase score vs a repurchase opportunity within {horizon}: AUC (accounts without an open one)")
    for r in rankings:
        auc = "-" if r.auc is None else f"{r.auc:.4f}"
        day = "all dates" if r.score_date is None else r.score_date.isoformat()
        print(f"  {r.rulebook_id:<18} {day:<10} accounts {r.accounts:>8,}  positives {r.positives:>6,}  AUC {auc}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from leadscore.settings import load_settings

    settings = load_settings()
    argv = sys.argv[1:] if argv is None else list(argv)
    # `people` (the default) or `customers` as the first argument.
    command = argv.pop(0) if argv and argv[0] in ("people", "customers") else "people"
    parser = argparse.ArgumentParser(prog=f"python -m leadscore.demo.evaluate {command}",
                                     description=__doc__.split("\n")[0])
    if command == "people":
        parser.add_argument("--date", type=date.fromisoformat, default=date(2026, 3, 31), help="day of the scores")
        parser.add_argument("--horizon-days", type=int, default=90)
    else:
        parser.add_argument("--min-purchases", type=int, default=3, help="purchases an account needs to count")
        parser.add_argument("--horizon-days", type=int, default=None,
                            help="days after each snapshot a repurchase counts (default: the backtest's)")
    parser.add_argument("--warehouse", type=Path, default=settings.warehouse)
    parser.add_argument("--truth", type=Path, default=settings.data_dir / "truth")
    args = parser.parse_args(argv)
    return _people(args) if command == "people" else _customers(args)


if __name__ == "__main__":
    sys.exit(main())
