{#- One row per stage visit of each person: the lifecycle replayed from int_lifecycle_events, in
    time order, moving only along lifecycle_transitions (an event that would make another move,
    such as an MQL crossing while sales works the lead, changes nothing). Each visit carries
    what caused it and the champion score at the end of the day it began. -#}

with recursive

events as (
    select * from {{ ref('int_lifecycle_events') }}
),

transitions as (
    select from_stage, to_stage from {{ ref('lifecycle_transitions') }}
),

walk as (
    select crm_id, event_number, stage, event_at as entered_at, cause, true as is_move
    from events
    where event_number = 1
    union all
    select
        walk.crm_id,
        events.event_number,
        case when transitions.to_stage is null then walk.stage else events.stage end,
        case when transitions.to_stage is null then walk.entered_at else events.event_at end,
        case when transitions.to_stage is null then walk.cause else events.cause end,
        transitions.to_stage is not null
    from walk
    inner join events
        on walk.crm_id = events.crm_id
        and events.event_number = walk.event_number + 1
    left join transitions
        on walk.stage = transitions.from_stage
        and events.stage = transitions.to_stage
),

visits as (
    select
        crm_id,
        stage,
        entered_at,
        cause,
        lag(stage) over (partition by crm_id order by event_number) as previous_stage,
        lead(entered_at) over (partition by crm_id order by event_number) as exited_at,
        row_number() over (partition by crm_id order by event_number) as visit_number
    from walk
    where is_move
),

entry_scores as (
    select crm_id, score_date, fit_score, engagement_score, total_score
    from {{ ref('fct_lead_score_daily') }}
    where is_champion
),

final as (
    select
        visits.crm_id,
        visits.visit_number,
        visits.stage,
        visits.previous_stage,
        visits.entered_at,
        visits.exited_at,
        visits.exited_at is null as is_current,
        {{ dbt.datediff('visits.entered_at', 'coalesce(visits.exited_at, (select as_of from ' ~ ref('int_scoring_as_of') ~ '))', 'second') }}
            / 86400.0 as days_in_stage,
        visits.cause,
        entry_scores.fit_score as entry_fit_score,
        entry_scores.engagement_score as entry_engagement_score,
        entry_scores.total_score as entry_total_score
    from visits
    left join entry_scores
        on visits.crm_id = entry_scores.crm_id
        and cast(visits.entered_at as date) = entry_scores.score_date
)

select * from final
