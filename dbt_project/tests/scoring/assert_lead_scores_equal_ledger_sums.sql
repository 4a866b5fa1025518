-- The ledger's promise: for every person and rulebook, the total score is exactly the sum of
-- the person's ledger rows. Returns the people where it is not.

{{ config(meta={'dagster': {'ref': {'name': 'fct_lead_scores'}}}) }}

with

ledger_sums as (
    select person_id, rulebook_id, sum(points_as_of) as ledger_total
    from {{ ref('fct_score_ledger') }}
    group by person_id, rulebook_id
),

scores as (
    select person_id, rulebook_id, total_score
    from {{ ref('fct_lead_scores') }}
)

select scores.person_id, scores.rulebook_id, scores.total_score, ledger_sums.ledger_total
from scores
left join ledger_sums
    on scores.person_id = ledger_sums.person_id
    and scores.rulebook_id = ledger_sums.rulebook_id
where abs(scores.total_score - coalesce(ledger_sums.ledger_total, 0)) > 1e-9
