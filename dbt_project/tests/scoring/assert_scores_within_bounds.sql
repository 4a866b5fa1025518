{#- Every score of fct_lead_scores stays within the caps and floors of the score_bounds seed: the
    fit, engagement and data-quality components and the total. A cap does not hold for a person
    whose ledger has one of the bound's cap_unless_rule_ids. Returns one row per score out of
    bounds, naming the person, rulebook, component, score and the bound it breaks; the rows are
    kept in dbt_test__audit.assert_scores_within_bounds. -#}

{{ config(meta={'dagster': {'ref': {'name': 'fct_lead_scores'}}}, store_failures=true) }}

with

lead_scores as (
    select * from {{ ref('fct_lead_scores') }}
),

scores as (
    select person_id, rulebook_id, 'fit' as component, fit_score as score from lead_scores
    union all
    select person_id, rulebook_id, 'engagement' as component, engagement_score as score from lead_scores
    union all
    select person_id, rulebook_id, 'data_quality' as component, data_quality_score as score from lead_scores
    union all
    select person_id, rulebook_id, 'total' as component, total_score as score from lead_scores
),

bounds as (
    select * from {{ ref('score_bounds') }}
),

{#- Exact rule id match within the |-separated list (no pattern characters). -#}
cap_exemptions as (
    select distinct ledger.person_id, ledger.rulebook_id, bounds.component
    from {{ ref('fct_score_ledger') }} as ledger
    inner join bounds
        on ledger.rulebook_id = bounds.rulebook_id
    where {{ dbt.position("'|' || ledger.rule_id || '|'", "'|' || bounds.cap_unless_rule_ids || '|'") }} > 0
)

select
    scores.person_id,
    scores.rulebook_id,
    scores.component,
    scores.score,
    bounds.floor_points,
    bounds.cap_points,
    case when scores.score < bounds.floor_points then 'below floor' else 'above cap' end as problem
from scores
inner join bounds
    on scores.rulebook_id = bounds.rulebook_id
    and scores.component = bounds.component
left join cap_exemptions
    on scores.person_id = cap_exemptions.person_id
    and scores.rulebook_id = cap_exemptions.rulebook_id
    and scores.component = cap_exemptions.component
where scores.score < bounds.floor_points - 1e-9
    or (scores.score > bounds.cap_points + 1e-9 and cap_exemptions.person_id is null)
