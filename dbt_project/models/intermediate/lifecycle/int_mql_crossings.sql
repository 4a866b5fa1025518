{#- Every time a person's score crossed a rulebook's MQL threshold (with the minimum fit) from
    below, at the activity that crossed it. The day comes from the score history (the first day
    qualified after a day not qualified); the time is that of the day's first point-earning
    event after which the day's points reach the threshold: the day's final score minus the
    points of the events after it (same-day points taken at face value). -#}

with

rulebooks as (
    select * from {{ ref('rulebooks') }}
),

history as (
    select
        daily.crm_id,
        daily.rulebook_id,
        daily.score_date,
        daily.total_score,
        daily.fit_score,
        rulebooks.mql_threshold,
        daily.total_score >= rulebooks.mql_threshold and daily.fit_score >= rulebooks.mql_min_fit as is_qualified
    from {{ ref('fct_lead_score_daily') }} as daily
    inner join rulebooks
        on daily.rulebook_id = rulebooks.rulebook_id
),

crossing_days as (
    select * from (
        select
            *,
            lag(is_qualified) over (partition by crm_id, rulebook_id order by score_date) as was_qualified
        from history
    ) as with_previous
    where is_qualified
        and not coalesce(was_qualified, false)
),

-- The points each event of the crossing day adds, in time order.
day_events as (
    select
        hits.person_id as crm_id,
        hits.rulebook_id,
        hits.rule_id,
        hits.activity_id,
        hits.event_at,
        hits.points_after_cap * rulebooks.engagement_weight as points
    from {{ ref('int_activity_rule_hits') }} as hits
    inner join rulebooks
        on hits.rulebook_id = rulebooks.rulebook_id
    union all
    select
        hits.person_id,
        hits.rulebook_id,
        hits.rule_id,
        cast(null as {{ dbt.type_string() }}),
        hits.event_at,
        hits.points * {{ component_weight('rulebooks', 'hits.component') }}
    from {{ ref('int_profile_rule_hits') }} as hits
    inner join rulebooks
        on hits.rulebook_id = rulebooks.rulebook_id
    union all
    select person_id, rulebook_id, 'ADJUST-' || upper(adjustment_type), adjustment_id, adjusted_at, coalesce(points, 0)
    from {{ ref('int_score_adjustments') }}
    where problem is null
),

candidates as (
    select
        crossing_days.crm_id,
        crossing_days.rulebook_id,
        crossing_days.score_date,
        crossing_days.total_score,
        crossing_days.mql_threshold,
        day_events.rule_id,
        day_events.activity_id,
        day_events.event_at,
        -- the day's final score without the points earned after this event
        crossing_days.total_score - coalesce(sum(day_events.points) over (
            partition by crossing_days.crm_id, crossing_days.rulebook_id, crossing_days.score_date
            order by day_events.event_at, day_events.rule_id, day_events.activity_id
            rows between 1 following and unbounded following
        ), 0) as score_after_event
    from crossing_days
    inner join day_events
        on crossing_days.crm_id = day_events.crm_id
        and crossing_days.rulebook_id = day_events.rulebook_id
        and cast(day_events.event_at as date) = crossing_days.score_date
),

first_crossing_event as (
    select * from (
        select
            *,
            row_number() over (
                partition by crm_id, rulebook_id, score_date
                order by case when score_after_event >= mql_threshold then 0 else 1 end,
                    case when score_after_event >= mql_threshold then event_at end,
                    event_at desc, rule_id, activity_id
            ) as pick
        from candidates
    ) as ranked
    where pick = 1
),

final as (
    select
        crossing_days.crm_id,
        crossing_days.rulebook_id,
        crossing_days.rulebook_id = '{{ var("champion_rulebook") }}' as is_champion,
        coalesce(first_crossing_event.event_at, cast(crossing_days.score_date as timestamp)) as crossed_at,
        crossing_days.score_date,
        crossing_days.total_score as day_total_score,
        crossing_days.fit_score as day_fit_score,
        crossing_days.mql_threshold,
        first_crossing_event.rule_id as crossing_rule_id,
        first_crossing_event.activity_id as crossing_activity_id
    from crossing_days
    left join first_crossing_event
        on crossing_days.crm_id = first_crossing_event.crm_id
        and crossing_days.rulebook_id = first_crossing_event.rulebook_id
        and crossing_days.score_date = first_crossing_event.score_date
)

select * from final
