"""The ranking measure the README quotes: AUC with ties counted half, people who already had an
opportunity left out, a person's opportunity found on any of their records. And the customer
measures: purchase cycles within half a month of the truth, and the repurchase score's AUC."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from leadscore.demo.evaluate import cycle_accuracy, rank_quality, repurchase_rank_quality


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
        ) as t(person_id, rulebook_id, score_date, total_score, fit_score, engagement_score)""")
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


def test_cycle_accuracy_counts_cycles_within_half_a_month(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute("""create table marts.fct_account_purchase_cycles as select * from (values
            ('A1', 3, 3.2, 'own_history'),
            ('A2', 5, 3.6, 'own_history'),
            ('A3', 4, 4.5, 'own_history'),
            ('A4', 3, 3.6, 'own_history'),
            ('A5', 2, 9.0, 'default'),
            ('A6', 6, 3.0, 'own_history'),
            ('A7', 4, 3.0, 'own_history')
        ) as t(account_id, purchases, cycle_months, cycle_source)""")
    truth = tmp_path / "truth"
    truth.mkdir()
    (truth / "accounts.csv").write_text(
        "company_domain,account_id,customer_cycle_months\n"
        "a1.com,A1,3\n"  # 0.2 off
        "a2.com,A2,4\n"  # 0.4 off
        "a3.com,A3,4\n"  # 0.5 off: still within
        "a4.com,A4,3\n"  # 0.6 off: a miss
        "a5.com,A5,3\n"  # two purchases: left out
        "a6.com,A6,\n"  # not a customer in the truth: left out
        "nix.com,,4\n"  # a customer without an account
    )  # A7 is not in the truth: left out

    result = cycle_accuracy(warehouse, truth)

    assert (result.accounts, result.within_half_month, result.share) == (4, 3, 0.75)
    assert result.misses == (("A4", 3.6, 3),)


def test_repurchase_auc_per_rulebook_pooled_and_per_day(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute("""create table marts.fct_account_repurchase_snapshots as
            select account_id, rulebook_id, rulebook_id = 'rb' as is_champion, score_date,
                cast(score_date + 1 as timestamp) as snapshot_at, 60 as horizon_days, repurchase_score,
                has_open_opportunity
            from (values
                ('A', 'rb', date '2026-03-31', 0.9, false),
                ('B', 'rb', date '2026-03-31', 0.5, false),
                ('C', 'rb', date '2026-03-31', 0.5, false),
                ('E', 'rb', date '2026-03-31', 0.1, false),
                ('G', 'rb', date '2026-03-31', 0.05, false),
                ('F', 'rb', date '2026-03-31', 0.95, true),
                ('A', 'rb', date '2026-04-30', 0.3, false),
                ('C', 'rb', date '2026-04-30', 0.8, false),
                ('H', 'rb', date '2026-04-30', 0.3, false),
                ('B', 'rb', date '2026-04-30', 0.1, true),
                ('A', 'rb2', date '2026-03-31', 1.0, false),
                ('C', 'rb2', date '2026-03-31', 1.0, false)
            ) as t(account_id, rulebook_id, score_date, repurchase_score, has_open_opportunity)""")
    truth = tmp_path / "truth"
    truth.mkdir()
    (truth / "opportunities.csv").write_text(
        "opportunity_id,account_id,kind,created_at\n"
        "o1,A,repurchase,2026-04-20T09:00:00Z\n"
        "o2,B,repurchase,2026-05-31T00:00:00Z\n"  # the last instant of the 60 days after 2026-04-01
        "o3,C,repurchase,2026-05-31T00:00:01Z\n"  # just after them: negative on 03-31, positive on 04-30
        "o4,E,new_business,2026-04-15T00:00:00Z\n"  # not a repurchase
        "o5,G,repurchase,2026-04-10T08:00:00Z\n"
        "o6,F,repurchase,2026-04-10T08:00:00Z\n"  # F had an open opportunity: left out
        "o7,,repurchase,2026-04-10T08:00:00Z\n"
    )

    rows = repurchase_rank_quality(warehouse, truth)

    # rb on 03-31: positives A .9, B .5, G .05; negatives C .5, E .1.
    #   A beats both (2), B ties C and beats E (1.5), G beats none: 3.5 of 6 pairs.
    # rb on 04-30: positive C .8; negatives A .3, H .3: 2 of 2.
    # rb pooled: positives A .9, C .8, B .5, G .05; negatives C .5, A .3, H .3, E .1.
    #   4 + 4 + 3.5 + 0 = 11.5 of 16 pairs.
    # rb2 on 03-31: positive A 1.0 ties negative C 1.0: 0.5.
    got = [(r.rulebook_id, r.score_date, r.accounts, r.positives, r.auc) for r in rows]
    assert got == [
        ("rb", None, 8, 4, pytest.approx(11.5 / 16)),
        ("rb", date(2026, 3, 31), 5, 3, pytest.approx(3.5 / 6)),
        ("rb", date(2026, 4, 30), 3, 1, pytest.approx(1.0)),
        ("rb2", None, 2, 1, pytest.approx(0.5)),
        ("rb2", date(2026, 3, 31), 2, 1, pytest.approx(0.5)),
    ]
