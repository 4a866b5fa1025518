{#- Daily score trend for BI: one row per person, rulebook and complete day (UTC) of the last
    `score_history_days` days before as_of (120), with the scores as of the end of the day (the
    midnight after it). A thin reading of the score timeline: each day is the timeline's score at
    that midnight. Lifecycle facts never come from here; they read the timeline, whose history
    is complete. -#}

-- depends_on: {{ ref('decay_profiles') }}
with

as_of as (
    select
        as_of,
        {{ day_number(dbt.dateadd('day', -1, 'as_of')) }} as last_dn,
        {{ day_number(dbt.dateadd('day', -1, 'as_of')) }} - {{ var('score_history_days', 120) }} + 1 as first_dn
    from {{ ref('int_scoring_as_of') }}
),

-- Each day with the midnight after it, when its scores are read.
calendar as (
    select dn, cast({{ day_date('dn + 1') }} as timestamp) as midnight
    from ({{ day_numbers('(select first_dn from as_of)', '(select last_dn from as_of)') }}) as days
),

timeline as (
    select * from {{ ref('int_score_timeline') }}
),

-- Each day's midnight, on the timeline row in force then.
scored as (
    select
        timeline.person_id,
        timeline.rulebook_id,
        calendar.dn,
        {{ timeline_scores_at('timeline', 'calendar.midnight') }}
    from timeline
    inner join calendar
        on calendar.midnight >= timeline.changed_at
        and calendar.midnight < {{ timeline_valid_until('timeline') }}
    {{ score_bounds_joins('timeline') }}
),

final as (
    select
        scored.person_id as crm_id,
        scored.rulebook_id,
        scored.rulebook_id = '{{ var("champion_rulebook") }}' as is_champion,
        {{ day_date('scored.dn') }} as score_date,
        cast(scored.fit_score as {{ points_type() }}) as fit_score,
        cast(scored.engagement_score as {{ points_type() }}) as engagement_score,
        cast(scored.data_quality_score as {{ points_type() }}) as data_quality_score,
        cast(scored.adjustment_score as {{ points_type() }}) as adjustment_score,
        cast(scored.total_score as {{ points_type() }}) as total_score,
        fingerprints.fingerprint as rulebook_fingerprint,
        (select as_of from as_of) as as_of
    from scored
    inner join {{ ref('int_rulebook_fingerprints') }} as fingerprints
        on scored.rulebook_id = fingerprints.rulebook_id
)

select * from final
