"""How well the scores rank people who become opportunities, measured against the demo's hidden
truth: ROC AUC of each rulebook's total score on a past day of `fct_lead_score_daily`.

    python -m demo.evaluate --date 2026-03-31 --horizon-days 90

Positives are people whose first opportunity (data/truth/people.csv) comes within the horizon
after the scores' day; people who already had one are left out. Ties count half, so a score that
puts everyone at 0 gets 0.5.
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


# AUC by the rank-sum (Mann-Whitney) formula, average ranks for ties.
AUC_SQL = """
with records as (
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
    select d.rulebook_id, d.{score} as total_score,
        coalesce(t.first_opportunity_at > ?::timestamp
                 and t.first_opportunity_at <= ?::timestamp + to_days(?), false) as positive
    from marts.fct_lead_score_daily as d
    inner join truth as t on t.crm_id = d.crm_id
    where d.score_date = ?::date
        and (t.first_opportunity_at is null or t.first_opportunity_at > ?::timestamp)
),
ranked as (
    select *, rank() over (partition by rulebook_id order by total_score)
        + (count(*) over (partition by rulebook_id, total_score) - 1) / 2.0 as score_rank
    from scored
)
select rulebook_id, count(*) as people, count(*) filter (where positive) as positives,
    (sum(score_rank) filter (where positive) - count(*) filter (where positive)
        * (count(*) filter (where positive) + 1) / 2.0)
    / nullif(count(*) filter (where positive) * count(*) filter (where not positive), 0) as auc
from ranked
group by rulebook_id
order by rulebook_id
"""


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
            AUC_SQL.format(score=score),
            [str(truth_dir / "people.csv"), start, start, horizon_days, score_date.isoformat(), start],
        ).fetchall()
    return [Ranking(r[0], r[1], r[2], None if r[3] is None else float(r[3])) for r in rows]


def main(argv: list[str] | None = None) -> int:
    from orchestration.settings import load_settings

    settings = load_settings()
    parser = argparse.ArgumentParser(prog="python -m demo.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--date", type=date.fromisoformat, default=date(2026, 3, 31), help="day of the scores")
    parser.add_argument("--horizon-days", type=int, default=90)
    parser.add_argument("--warehouse", type=Path, default=settings.warehouse)
    parser.add_argument("--truth", type=Path, default=settings.data_dir / "truth")
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
