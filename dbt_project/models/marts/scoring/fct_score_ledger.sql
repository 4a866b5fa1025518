{#- The points ledger: every point of every score, traceable to a rule and an event; a score is
    exactly the sum of its rows' points_as_of. A view, valued at as_of when read: the rows of
    int_score_ledger (a row of one decaying term is worth that term at as_of, so the stored
    rows need no rewriting when as_of moves) and those of int_score_ledger_sum_rows (recycle
    resets, scores set by hand, caps and floors, computed at as_of; the bound rows are dated at
    as_of). -#}

{{ config(materialized='view') }}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

ledger as (
    select
        ledger.ledger_row_id,
        ledger.person_id,
        ledger.rulebook_id,
        ledger.rule_id,
        ledger.component,
        ledger.category,
        ledger.description,
        ledger.source_type,
        ledger.activity_id,
        ledger.activity_type,
        ledger.product_line,
        ledger.event_at,
        ledger.points,
        ledger.points_after_cap,
        {{ ledger_value_at('ledger', '(select as_of from as_of)', 'decay_factor') }} as decay_factor,
        ledger.weight,
        {{ ledger_value_at('ledger', '(select as_of from as_of)', 'points_as_of') }} as points_as_of
    from {{ ref('int_score_ledger') }} as ledger
    union all
    select
        sum_rows.ledger_row_id,
        sum_rows.person_id,
        sum_rows.rulebook_id,
        sum_rows.rule_id,
        sum_rows.component,
        sum_rows.category,
        sum_rows.description,
        sum_rows.source_type,
        sum_rows.activity_id,
        sum_rows.activity_type,
        sum_rows.product_line,
        sum_rows.event_at,
        sum_rows.points,
        sum_rows.points_after_cap,
        sum_rows.decay_factor,
        sum_rows.weight,
        sum_rows.points_as_of
    from {{ ref('int_score_ledger_sum_rows') }} as sum_rows
)

select
    ledger.ledger_row_id,
    ledger.person_id as person_id,
    ledger.rulebook_id,
    ledger.rulebook_id = '{{ var("champion_rulebook") }}' as is_champion,
    ledger.rule_id,
    ledger.component,
    ledger.category,
    ledger.description,
    ledger.source_type,
    ledger.activity_id,
    ledger.activity_type,
    ledger.product_line,
    case when ledger.source_type = 'bound' then as_of.as_of else ledger.event_at end as event_at,
    ledger.points,
    ledger.points_after_cap,
    ledger.decay_factor,
    ledger.weight,
    ledger.points_as_of,
    as_of.as_of
from ledger
cross join as_of
