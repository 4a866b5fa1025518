{#- One row per stage visit of each person: the lifecycle replayed from int_lifecycle_events, in
    time order, moving only along lifecycle_transitions (an event that would make another move,
    such as an MQL crossing while sales works the lead, changes nothing). Each visit carries
    what caused it and the champion scores and grade at the instant it began (read from the
    score timeline, so every visit from the record's creation on has them). -#}

-- depends_on: {{ ref('decay_profiles') }}
with recursive

events as (
    select * from {{ ref('int_lifecycle_events') }}
),

transitions as (
    select from_stage, to_stage from {{ ref('lifecycle_transitions') }}
),

{{ lifecycle_walk_cte('events', 'transitions') }},

visits as (
    select
        person_id,
        stage,
        entered_at,
        cause,
        lag(stage) over (partition by person_id order by event_number) as previous_stage,
        lead(entered_at) over (partition by person_id order by event_number) as exited_at,
        row_number() over (partition by person_id order by event_number) as visit_number
    from walk
    where is_move
),

-- The champion's scores right after the event that began each visit.
entry_requests as (
    select person_id, '{{ var("champion_rulebook") }}' as rulebook_id, visit_number, entered_at as score_at
    from visits
),

entry_scores as (
    {{ scores_at('entry_requests') }}
),

entry_grades as (
    {{ score_labels('entry_scores', ['person_id', 'visit_number']) }}
),

final as (
    select
        visits.person_id,
        visits.visit_number,
        visits.stage,
        visits.previous_stage,
        visits.entered_at,
        visits.exited_at,
        visits.exited_at is null as is_current,
        {{ days_between('visits.entered_at', 'coalesce(visits.exited_at, (select as_of from ' ~ ref('int_scoring_as_of') ~ '))') }}
            as days_in_stage,
        visits.cause,
        entry_scores.fit_score as entry_fit_score,
        entry_scores.engagement_score as entry_engagement_score,
        entry_scores.total_score as entry_total_score,
        entry_grades.fit_grade || entry_grades.engagement_level as entry_grade
    from visits
    left join entry_scores
        on visits.person_id = entry_scores.person_id
        and visits.visit_number = entry_scores.visit_number
    left join entry_grades
        on visits.person_id = entry_grades.person_id
        and visits.visit_number = entry_grades.visit_number
)

select * from final
