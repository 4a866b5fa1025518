{#- What the CRM is sent for each person the champion rulebook scores: the score in whole points,
    the grade, the current lifecycle stage and the reasons behind the score, as of as_of. The CRM
    sync export (src/leadscore/export/crm_sync.py) sends the rows that differ from what it sent last.

    Reasons: the same text the sales call list shows (fct_score_reasons). -#}

with

champion_scores as (
    select person_id, total_score, grade, as_of
    from {{ ref('fct_lead_scores') }}
    where is_champion
),

current_stages as (
    select person_id, stage
    from {{ ref('fct_lead_stage_history') }}
    where is_current
),

final as (
    select
        champion_scores.person_id as crm_id,
        cast(round(champion_scores.total_score) as {{ dbt.type_int() }}) as score,
        champion_scores.grade,
        current_stages.stage,
        reasons.top_reasons,
        champion_scores.as_of
    from champion_scores
    left join current_stages
        on champion_scores.person_id = current_stages.person_id
    left join {{ ref('fct_score_reasons') }} as reasons
        on champion_scores.person_id = reasons.person_id
)

select * from final
