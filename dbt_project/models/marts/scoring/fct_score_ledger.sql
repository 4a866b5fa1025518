{#- The points ledger: every point of every score, traceable to a rule and an event; a score is
    exactly the sum of its rows' points_as_of. A view of int_score_ledger, which keeps the rows
    of people whose points did not move between runs, with as_of: the bound rows (caps and
    floors) are dated at as_of. -#}

{{ config(materialized='view') }}

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
from {{ ref('int_score_ledger') }} as ledger
cross join {{ ref('int_scoring_as_of') }} as as_of
