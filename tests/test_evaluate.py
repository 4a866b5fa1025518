"""The ranking measure the README quotes: AUC with ties counted half, people who already had an
opportunity left out, a person's opportunity found on any of their records."""

from __future__ import annotations

from datetime import date

import duckdb

from demo.evaluate import rank_quality


def test_auc_counts_ties_half_and_leaves_out_earlier_opportunities(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute("""create table marts.fct_lead_score_daily as select * from (values
            ('A', 'rb', date '2026-03-31', 30.0, 0.0, 0.0),
            ('B', 'rb', date '2026-03-31', 20.0, 0.0, 0.0),
            ('C', 'rb', date '2026-03-31', 20.0, 0.0, 0.0),
            ('D', 'rb', date '2026-03-31', 10.0, 0.0, 0.0),
            ('E', 'rb', date '2026-03-31', 99.0, 0.0, 0.0),
            ('A', 'rb', date '2026-03-30', 0.0, 0.0, 0.0)
        ) as t(crm_id, rulebook_id, score_date, total_score, fit_score, engagement_score)""")
    truth = tmp_path / "truth"
    truth.mkdir()
    (truth / "people.csv").write_text(
        "crm_id,person_key,first_opportunity_at\n"
        "A,pa,2026-05-01T10:00:00Z\n"  # positive
        "B-lead,pb,2026-06-15T00:00:00Z\n"  # positive through the person's lead record
        "B,pb,\n"
        "C,pc,2026-09-01T00:00:00Z\n"  # after the horizon: negative
        "D,pd,\n"
        "E,pe,2026-02-01T00:00:00Z\n"  # already an opportunity: left out
    )

    [ranking] = rank_quality(warehouse, truth, date(2026, 3, 31), 90)

    # Positive-negative pairs: A>C, A>D, B=C (half), B>D.
    assert (ranking.people, ranking.positives, ranking.auc) == (4, 2, 3.5 / 4)
