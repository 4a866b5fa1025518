{#- The champion scores that moved most over the last `score_mover_days` days (7): the score at
    as_of against the score at the start of the window, the midnight `score_mover_days - 1` days
    before as_of's day (the fct_lead_score_daily row of the day before that midnight). A person
    created inside the window had no score at its start: they count from zero.

    The `score_movers_per_direction` (50) largest rises and as many largest falls, the largest
    change first, then the higher score now, then person_id. -#}

{%- set days = var('score_mover_days', 7) %}
{%- set per_direction = var('score_movers_per_direction', 50) %}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

window_start as (
    select {{ dbt.dateadd('day', -days, 'cast(as_of as date)') }} as score_date
    from as_of
),

scores_now as (
    select person_id, total_score, as_of
    from {{ ref('fct_lead_scores') }}
    where is_champion
),

scores_before as (
    select daily.person_id, daily.total_score
    from {{ ref('fct_lead_score_daily') }} as daily
    where daily.is_champion
        and cast(daily.score_date as date) = (select cast(score_date as date) from window_start)
),

changes as (
    select
        scores_now.person_id,
        coalesce(scores_before.total_score, 0) as score_before,
        scores_now.total_score as score_now,
        scores_now.total_score - coalesce(scores_before.total_score, 0) as change,
        scores_now.as_of
    from scores_now
    left join scores_before
        on scores_now.person_id = scores_before.person_id
),

ranked as (
    select
        *,
        case when change > 0 then 'up' else 'down' end as direction,
        row_number() over (
            partition by case when change > 0 then 'up' else 'down' end
            order by abs(change) desc, score_now desc, person_id asc
        ) as direction_rank
    from changes
    where change <> 0
),

people as (
    select
        person_id,
        person_name,
        company_name,
        owner_id,
        owner_name,
        current_stage
    from {{ ref('dim_people') }}
),

final as (
    select
        ranked.direction,
        ranked.direction_rank,
        ranked.person_id,
        people.person_name,
        people.company_name,
        people.owner_id,
        people.owner_name,
        people.current_stage,
        ranked.score_before,
        ranked.score_now,
        ranked.change,
        ranked.as_of
    from ranked
    left join people
        on ranked.person_id = people.person_id
    where ranked.direction_rank <= {{ per_direction }}
)

select * from final
