{#- What the CRM is sent for each person the champion rulebook scores: the score in whole points,
    the grade, the current lifecycle stage and the reasons behind the score, as of as_of. The CRM
    sync export (assets/export/crm_sync.py) sends the rows that differ from what it sent last.

    Reasons: the person's champion ledger rows that count at as_of (points_as_of not zero), the
    largest absolute points first and ties by rule id, the first `top_reasons` of them written
    "<rule description> (<points, one decimal>)" and joined with "; ". Rows of one rule with equal
    points (two adjustments, say) come in ledger row id order, so a rebuild sends the same text. -#}

{%- set top_reasons = 3 %}

with

champion_scores as (
    select crm_id, total_score, grade, as_of
    from {{ ref('fct_lead_scores') }}
    where is_champion
),

current_stages as (
    select crm_id, stage
    from {{ ref('fct_lead_stage_history') }}
    where is_current
),

ranked_reasons as (
    select
        crm_id,
        {{ dbt.concat([
            "description", "' ('", "cast(round(points_as_of, 1) as " ~ dbt.type_string() ~ ")", "')'"
        ]) }} as reason,
        row_number() over (
            partition by crm_id order by abs(points_as_of) desc, rule_id, ledger_row_id
        ) as reason_rank
    from {{ ref('fct_score_ledger') }}
    where is_champion
        and points_as_of <> 0
),

-- One column per rank, joined in rank order; concat_ws skips a missing one (a rule without a
-- description), and a person whose every reason is missing gets null, not an empty text.
reasons as (
    select
        crm_id,
        nullif(concat_ws(
            '; '
            {%- for rank in range(1, top_reasons + 1) %},
            max(case when reason_rank = {{ rank }} then reason end)
            {%- endfor %}
        ), '') as top_reasons
    from ranked_reasons
    where reason_rank <= {{ top_reasons }}
    group by crm_id
),

final as (
    select
        champion_scores.crm_id,
        cast(round(champion_scores.total_score) as {{ dbt.type_int() }}) as score,
        champion_scores.grade,
        current_stages.stage,
        reasons.top_reasons,
        champion_scores.as_of
    from champion_scores
    left join current_stages
        on champion_scores.crm_id = current_stages.crm_id
    left join reasons
        on champion_scores.crm_id = reasons.crm_id
)

select * from final
