{#- Score history: one row per person, rulebook and complete day up to as_of, with the scores the
    ledger would give as of the end of that day (midnight UTC after it), so lifecycle timing and
    backtests read past scores without recomputing the ledger for each day.

    The ledger's logic is applied per day with running sums instead of one ledger per day:
    - rules without decay (profile rules, adjustments) are running totals;
    - decaying activity points are kept per series (person, rulebook, decay profile, and the
      recycles and absolute adjustments before them); a series' value on day d comes from its
      running sums: exponential decay from a sum scaled to the series' first day, windows and
      linear decay from the difference of running sums d and d - N days, steps from one such
      difference per step;
    - recycles keep recycle_reset_fraction of the activity points before them; the latest
      absolute adjustment replaces every point before it; inactivity penalties are recomputed
      from the last web activity each day; caps and floors apply to each day's sums.

    A full build covers the last `score_history_days` days before as_of (120). Incremental: a
    run rewrites the days from `score_history_late_days` before the last built day, and the
    whole history of a rulebook whose seeds changed, of a person not built before or whose
    history now starts earlier, and of a person whose inputs up to the last kept day changed
    (an event that arrived later than that, an anonymous history credited to the person once a
    cookie is tied to them, a CRM edit): each row keeps a running count and checksum of the
    inputs up to its day (_inputs_count, _inputs_checksum), compared on the last kept day. The post-hooks
    drop the days after as_of and before the history's first day (as_of moved), and people and rulebooks no
    longer scored, and set as_of on the kept rows, so the table stays what a full build gives. A
    full refresh, or the var rebuild_score_history (the daily schedule sets it), rebuilds
    everything.

    On DuckDB the model runs for slices of at most score_history_people_per_batch people
    (person_batched, macros/incremental/person_batches.sql): every read of a person's inputs is
    marked with person_batch(), so memory stays that of one slice. -#}

{{ config(
    materialized=person_batched_materialization(),
    batch_people_model='int_people',
    people_per_batch=var('score_history_people_per_batch', 4000),
    unique_key=['crm_id', 'rulebook_id', 'score_date'],
    incremental_strategy=incremental_rewrite_strategy(),
    file_format=var('spark_file_format', 'parquet'),
    on_schema_change='append_new_columns',
    full_refresh=incremental_full_refresh(rebuild=var('rebuild_score_history', false)),
    post_hook=[
        "{% if table_format_supports_delete() %}delete from {{ this }} where score_date > (select cast({{ dbt.dateadd('day', -1, 'as_of') }} as date) from {{ ref('int_scoring_as_of') }}){% endif %}",
        "{% if table_format_supports_delete() %}delete from {{ this }} where score_date < (select cast({{ dbt.dateadd('day', -var('score_history_days', 120), 'as_of') }} as date) from {{ ref('int_scoring_as_of') }}){% endif %}",
        "{% if table_format_supports_delete() %}delete from {{ this }} where crm_id not in (select person_id from {{ ref('int_people') }} where is_master and person_created_at <= (select as_of from {{ ref('int_scoring_as_of') }})) or rulebook_id not in (select rulebook_id from {{ ref('rulebooks') }}){% endif %}",
        "{% if table_format_supports_delete() %}update {{ this }} set as_of = (select as_of from {{ ref('int_scoring_as_of') }}) where as_of <> (select as_of from {{ ref('int_scoring_as_of') }}){% endif %}"
    ]
) }}

with

as_of as (
    select
        as_of,
        {{ day_number(dbt.dateadd('day', -1, 'as_of')) }} as last_dn,
        {{ day_number(dbt.dateadd('day', -1, 'as_of')) }} - {{ var('score_history_days', 120) }} + 1 as history_start_dn
    from {{ ref('int_scoring_as_of') }}
),

rulebooks as (
    select
        rulebooks.*,
        coalesce(rulebooks.recycle_reset_fraction, 0) as reset_fraction,
        fingerprints.fingerprint as fingerprint
    from {{ ref('rulebooks') }} as rulebooks
    inner join {{ ref('int_rulebook_fingerprints') }} as fingerprints
        on rulebooks.rulebook_id = fingerprints.rulebook_id
),

-- Each person's history starts when they became known, or score_history_days before as_of.
people as (
    select
        person_id,
        person_created_at as created_at,
        greatest({{ day_number('person_created_at') }}, (select history_start_dn from as_of)) as first_dn
    from {{ ref('int_people') }}
    where is_master
        and person_created_at <= (select as_of from as_of)
        and {{ person_batch('person_id') }}
),

{% if builds_incrementally() %}
built as (
    select
        crm_id,
        rulebook_id,
        min(score_date) as built_from,
        max(score_date) as built_until,
        max(rulebook_fingerprint) as fingerprint
    from {{ this }}
    where {{ person_batch('crm_id') }}
    group by crm_id, rulebook_id
),

-- What each kept history was computed from, on its last kept day.
{%- do require_built_column('_inputs_checksum') %}
built_inputs as (
    select
        built_rows.crm_id,
        built_rows.rulebook_id,
        built_rows._inputs_count as inputs_count,
        built_rows._inputs_checksum as inputs_checksum
    from {{ this }} as built_rows
    inner join built
        on built_rows.crm_id = built.crm_id
        and built_rows.rulebook_id = built.rulebook_id
        and built_rows.score_date = cast({{ dbt.dateadd('day', -var('score_history_late_days', 7), 'built.built_until') }} as date)
),
{% endif %}

-- Each person and rulebook, with the first day this run writes.
person_rulebooks as (
    select
        people.person_id as person_id,
        people.created_at as created_at,
        people.first_dn as first_dn,
        rulebooks.rulebook_id as rulebook_id,
        rulebooks.reset_fraction as reset_fraction,
        rulebooks.fingerprint as fingerprint,
        {% if builds_incrementally() -%}
        case
            when built.fingerprint = rulebooks.fingerprint
                and {{ day_number('built.built_from') }} <= people.first_dn
                then greatest(people.first_dn,
                    {{ day_number('built.built_until') }} - {{ var('score_history_late_days', 7) }} + 1)
            else people.first_dn
        end as write_from_dn
        {%- else -%}
        people.first_dn as write_from_dn
        {%- endif %}
    from people
    cross join rulebooks
    {% if builds_incrementally() -%}
    left join built
        on people.person_id = built.crm_id
        and rulebooks.rulebook_id = built.rulebook_id
    {%- endif %}
),

-- Recycles and absolute adjustments, counted per day.
recycles as (
    select person_id, recycled_at, {{ day_number('recycled_at') }} as dn
    from {{ ref('int_recycles') }}
    where recycled_at <= (select as_of from as_of)
        and {{ person_batch('person_id') }}
),

adjustments as (
    select *, {{ day_number('adjusted_at') }} as dn
    from {{ ref('int_score_adjustments') }}
    where problem is null
        and {{ person_batch('person_id') }}
),

-- Points without decay and never reset: profile rules (fit, data quality, profile-based
-- engagement such as do-not-call) and delta adjustments.
static_events as (
    select
        hits.person_id as person_id,
        hits.rulebook_id as rulebook_id,
        hits.component as component,
        hits.event_at as event_at,
        hits.points * {{ component_weight('rulebooks', 'hits.component') }} as points
    from {{ ref('int_profile_rule_hits') }} as hits
    inner join rulebooks
        on hits.rulebook_id = rulebooks.rulebook_id
    where {{ person_batch('hits.person_id') }}
    union all
    select person_id, rulebook_id, 'adjustment', adjusted_at, points
    from adjustments
    where adjustment_type = 'delta'
),

{#- Events before a person's first day (their record's creation) count from that day on. -#}
static_daily as (
    select
        static_events.person_id,
        static_events.rulebook_id,
        greatest({{ day_number('static_events.event_at') }}, people.first_dn) as dn,
        sum(case when component = 'fit' then points else 0 end) as fit_points,
        sum(case when component = 'data_quality' then points else 0 end) as data_quality_points,
        sum(case when component = 'engagement' then points else 0 end) as engagement_points,
        sum(case when component = 'adjustment' then points else 0 end) as adjustment_points
    from static_events
    inner join people
        on static_events.person_id = people.person_id
    group by static_events.person_id, static_events.rulebook_id,
        greatest({{ day_number('static_events.event_at') }}, people.first_dn)
),

-- What an absolute adjustment replaces of the points without decay: those up to its time.
absolute_adjustments as (
    select
        adjustments.person_id as person_id,
        adjustments.rulebook_id as rulebook_id,
        adjustments.adjustment_id as adjustment_id,
        adjustments.adjusted_at as adjusted_at,
        greatest(adjustments.dn, people.first_dn) as dn,
        adjustments.score as score,
        coalesce(sum(static_events.points), 0) as static_points_before
    from adjustments
    inner join people
        on adjustments.person_id = people.person_id
    left join static_events
        on adjustments.person_id = static_events.person_id
        and adjustments.rulebook_id = static_events.rulebook_id
        and static_events.event_at <= adjustments.adjusted_at
    where adjustments.adjustment_type = 'absolute'
    group by adjustments.person_id, adjustments.rulebook_id, adjustments.adjustment_id, adjustments.adjusted_at,
        greatest(adjustments.dn, people.first_dn), adjustments.score
),

-- The latest absolute adjustment of each day that has one, and how many that day has.
absolute_daily as (
    select person_id, rulebook_id, dn, adjusted_at, score, static_points_before, absolutes
    from (
        select
            *,
            row_number() over (
                partition by person_id, rulebook_id, dn order by adjusted_at desc, adjustment_id desc
            ) as rank_in_day,
            count(*) over (partition by person_id, rulebook_id, dn) as absolutes
        from absolute_adjustments
    ) as ranked
    where rank_in_day = 1
),

recycle_daily as (
    select recycles.person_id, greatest(recycles.dn, people.first_dn) as dn, count(*) as recycles
    from recycles
    inner join people
        on recycles.person_id = people.person_id
    group by recycles.person_id, greatest(recycles.dn, people.first_dn)
),

web_daily as (
    select
        activities.person_id,
        greatest({{ day_number('activities.activity_at') }}, people.first_dn) as dn,
        max(activities.activity_at) as last_web_at
    from {{ ref('int_activities') }} as activities
    inner join people
        on activities.person_id = people.person_id
    where activities.activity_type in ('web_page_view', 'web_visit')
        and activities.activity_at <= (select as_of from as_of)
        and {{ person_batch('activities.person_id') }}
    group by activities.person_id, greatest({{ day_number('activities.activity_at') }}, people.first_dn)
),

-- Activity points, each tagged with the recycles up to its time (recycle_epoch) and the absolute
-- adjustments strictly before it (absolute_epoch): the series it belongs to.
activity_points as (
    select
        hits.person_id as person_id,
        hits.rulebook_id as rulebook_id,
        hits.decay_profile_id as decay_profile_id,
        hits.event_at as event_at,
        hits.points_after_cap * rulebooks.engagement_weight as points
    from {{ ref('int_activity_rule_hits') }} as hits
    inner join rulebooks
        on hits.rulebook_id = rulebooks.rulebook_id
    where {{ person_batch('hits.person_id') }}
),

recycle_epochs as (
    select person_id, rulebook_id, decay_profile_id, event_at, points, recycle_epoch
    from (
        select
            *,
            sum(is_recycle) over (
                partition by person_id order by event_at, is_recycle desc rows between unbounded preceding and current row
            ) as recycle_epoch
        from (
            select person_id, rulebook_id, decay_profile_id, event_at, points, 0 as is_recycle from activity_points
            union all
            select person_id, null, null, recycled_at, null, 1 from recycles
        ) as events_and_recycles
    ) as counted
    where is_recycle = 0
),

series_points as (
    select person_id, rulebook_id, decay_profile_id, event_at, points, recycle_epoch, absolute_epoch
    from (
        select
            *,
            sum(is_absolute) over (
                partition by person_id, rulebook_id order by event_at, is_absolute rows between unbounded preceding and current row
            ) as absolute_epoch
        from (
            select person_id, rulebook_id, decay_profile_id, event_at, points, recycle_epoch, 0 as is_absolute
            from recycle_epochs
            union all
            select person_id, rulebook_id, null, adjusted_at, null, null, 1 from absolute_adjustments
        ) as events_and_absolutes
    ) as counted
    where is_absolute = 0
),

series as (
    select
        row_number() over (
            order by person_id, rulebook_id, decay_profile_id, recycle_epoch, absolute_epoch
        ) as series_id,
        person_id,
        rulebook_id,
        decay_profile_id,
        recycle_epoch,
        absolute_epoch,
        greatest(min({{ day_number('event_at') }}), (select history_start_dn from as_of)) as grid_start_dn
    from series_points
    group by person_id, rulebook_id, decay_profile_id, recycle_epoch, absolute_epoch
),

decay_profiles as (
    select * from {{ ref('decay_profiles') }}
),

-- Every input of a day's scores, counted and summed per person, rulebook and day: a change
-- of the inputs before the days a run rewrites shows in these running sums.
score_inputs as (
    select person_id, rulebook_id, event_at, points from static_events
    union all
    select person_id, rulebook_id, event_at, points from activity_points
    union all
    select person_id, rulebook_id, adjusted_at, score from adjustments where adjustment_type = 'absolute'
    union all
    select recycles.person_id, rulebooks.rulebook_id, recycles.recycled_at, 0
    from recycles
    cross join rulebooks
    union all
    select web_daily.person_id, rulebooks.rulebook_id, web_daily.last_web_at, 0
    from web_daily
    cross join rulebooks
),

input_daily as (
    select
        score_inputs.person_id,
        score_inputs.rulebook_id,
        greatest({{ day_number('score_inputs.event_at') }}, people.first_dn) as dn,
        count(*) as inputs,
        sum(cast(round({{ epoch_days('score_inputs.event_at') }} * 86400000) as bigint)
            + cast(round(coalesce(score_inputs.points, 0) * 1000) as bigint)) as checksum
    from score_inputs
    inner join people
        on score_inputs.person_id = people.person_id
    group by score_inputs.person_id, score_inputs.rulebook_id,
        greatest({{ day_number('score_inputs.event_at') }}, people.first_dn)
),

calendar as (
    {{ day_numbers('select least((select min(first_dn) from people), coalesce((select min(grid_start_dn) from series), (select min(first_dn) from people)))', 'select last_dn from as_of') }}
),

grid as (
    select person_rulebooks.*, calendar.dn as dn
    from person_rulebooks
    inner join calendar
        on calendar.dn >= person_rulebooks.first_dn
        and calendar.dn <= (select last_dn from as_of)
),


-- Per person, rulebook and day: running totals, recycles so far, the absolute adjustment in
-- force, and the last web activity.
grid_running as (
    select
        grid.person_id,
        grid.rulebook_id,
        grid.dn,
        grid.created_at,
        grid.reset_fraction,
        sum(coalesce(static_daily.fit_points, 0)) over running as fit_points,
        sum(coalesce(static_daily.data_quality_points, 0)) over running as data_quality_points,
        sum(coalesce(static_daily.engagement_points, 0)) over running as engagement_profile_points,
        sum(coalesce(static_daily.adjustment_points, 0)) over running as delta_points,
        sum(coalesce(recycle_daily.recycles, 0)) over running as recycles_so_far,
        sum(coalesce(absolute_daily.absolutes, 0)) over running as absolutes_so_far,
        max(absolute_daily.adjusted_at) over running as absolute_at,
        max(web_daily.last_web_at) over running as last_web_at,
        -- the latest absolute adjustment's values: carried forward from its day
        {{ last_non_null('absolute_daily.score') }} over running as absolute_score,
        {{ last_non_null('absolute_daily.static_points_before') }} over running as absolute_static_before,
        sum(coalesce(input_daily.inputs, 0)) over running as inputs_count,
        sum(coalesce(input_daily.checksum, 0)) over running as inputs_checksum
    from grid
    left join static_daily
        on grid.person_id = static_daily.person_id
        and grid.rulebook_id = static_daily.rulebook_id
        and grid.dn = static_daily.dn
    left join recycle_daily
        on grid.person_id = recycle_daily.person_id
        and grid.dn = recycle_daily.dn
    left join absolute_daily
        on grid.person_id = absolute_daily.person_id
        and grid.rulebook_id = absolute_daily.rulebook_id
        and grid.dn = absolute_daily.dn
    left join web_daily
        on grid.person_id = web_daily.person_id
        and grid.dn = web_daily.dn
    left join input_daily
        on grid.person_id = input_daily.person_id
        and grid.rulebook_id = input_daily.rulebook_id
        and grid.dn = input_daily.dn
    window running as (
        partition by grid.person_id, grid.rulebook_id order by grid.dn rows between unbounded preceding and current row
    )
),

-- Step decay: each step's share of the points younger than its max_age_days.
step_weights as (
    select
        decay_profile_id,
        cast(max_age_days as integer) as lag_days,
        factor - coalesce(lead(factor) over (partition by decay_profile_id order by max_age_days), 0) as weight
    from {{ ref('decay_steps') }}
),

{#- Each activity point as changes to its series' running sums, so that a series' value on a day
    is read from that day's sums alone: a window of N days (window, linear, each step) adds the
    points on the day they are earned and takes them back N days later. `points` is the sum for
    windows, steps and no decay; `time_points` weighs points by their time for linear decay, and
    `growth_points` grows them by 2^(t / half-life) for exponential decay (t in days since the
    history's first day, so the values stay small). -#}
series_changes as (
    select
        series_points.*,
        {{ day_number('series_points.event_at') }} as dn,
        {{ epoch_days('series_points.event_at') }} - (select history_start_dn from as_of) as t,
        decay_profiles.decay_type,
        decay_profiles.half_life_days,
        cast(decay_profiles.lifetime_days as integer) as lifetime_days
    from series_points
    inner join decay_profiles
        on series_points.decay_profile_id = decay_profiles.decay_profile_id
),

series_deltas as (
    select person_id, rulebook_id, decay_profile_id, recycle_epoch, absolute_epoch, dn,
        case when decay_type in ('none', 'window', 'linear') then points else 0 end as points,
        case when decay_type = 'linear' then points * t else 0 end as time_points,
        case when decay_type = 'exponential' then points * power(2, t / half_life_days) else 0 end as growth_points
    from series_changes
    union all
    select person_id, rulebook_id, decay_profile_id, recycle_epoch, absolute_epoch, dn + lifetime_days,
        -points, case when decay_type = 'linear' then -points * t else 0 end, 0
    from series_changes
    where decay_type in ('window', 'linear')
    union all
    select series_changes.person_id, series_changes.rulebook_id, series_changes.decay_profile_id,
        series_changes.recycle_epoch, series_changes.absolute_epoch,
        series_changes.dn + step_sides.after_lag * step_weights.lag_days,
        (1 - 2 * step_sides.after_lag) * step_weights.weight * series_changes.points, 0, 0
    from series_changes
    inner join step_weights
        on series_changes.decay_profile_id = step_weights.decay_profile_id
    -- each step's share counts from the day the points are earned until they are lag_days old
    cross join (select 0 as after_lag union all select 1) as step_sides
    where series_changes.decay_type = 'step'
),

-- Per series and day, from the series' first day in the history (earlier changes count from
-- that day on) to the last day.
series_daily as (
    select
        series.series_id,
        greatest(series_deltas.dn, series.grid_start_dn) as dn,
        sum(series_deltas.points) as points,
        sum(series_deltas.time_points) as time_points,
        sum(series_deltas.growth_points) as growth_points
    from series_deltas
    inner join series
        on series_deltas.person_id = series.person_id
        and series_deltas.rulebook_id = series.rulebook_id
        and series_deltas.decay_profile_id = series.decay_profile_id
        and series_deltas.recycle_epoch = series.recycle_epoch
        and series_deltas.absolute_epoch = series.absolute_epoch
    where series_deltas.dn <= (select last_dn from as_of)
    group by series.series_id, greatest(series_deltas.dn, series.grid_start_dn)
),

series_running as (
    select
        series.*,
        calendar.dn as dn,
        sum(coalesce(series_daily.points, 0)) over running as running_points,
        sum(coalesce(series_daily.time_points, 0)) over running as running_time_points,
        sum(coalesce(series_daily.growth_points, 0)) over running as running_growth_points
    from series
    inner join calendar
        on calendar.dn >= series.grid_start_dn
        and calendar.dn <= (select last_dn from as_of)
    left join series_daily
        on series.series_id = series_daily.series_id
        and calendar.dn = series_daily.dn
    window running as (partition by series.series_id order by calendar.dn rows between unbounded preceding and current row)
),

-- The value of each series at the end of each day (time T = dn + 1 since 1970-01-01):
-- sum(points * (1 - age / lifetime)) for linear decay, sum(points * 0.5^(age / half-life)) for
-- exponential decay.
series_values as (
    select
        series_running.person_id,
        series_running.rulebook_id,
        series_running.recycle_epoch,
        series_running.absolute_epoch,
        series_running.dn,
        case
            when decay_profiles.decay_type = 'exponential' then series_running.running_growth_points
                * power(0.5, (series_running.dn + 1 - (select history_start_dn from as_of)) / decay_profiles.half_life_days)
            when decay_profiles.decay_type = 'linear' then
                series_running.running_points
                    * (1 - (series_running.dn + 1 - (select history_start_dn from as_of)) / decay_profiles.lifetime_days)
                + series_running.running_time_points / decay_profiles.lifetime_days
            -- windows and steps took their points back when they expired
            when decay_profiles.decay_type in ('none', 'window', 'step') then series_running.running_points
            else 0
        end as points
    from series_running
    inner join decay_profiles
        on series_running.decay_profile_id = decay_profiles.decay_profile_id
),

-- Activity engagement per person and day. A series before the absolute adjustment in force is
-- replaced by it (counted whole, then taken back by the adjustment); the others keep
-- reset_fraction per recycle since their points were earned.
activity_daily as (
    select
        series_values.person_id,
        series_values.rulebook_id,
        series_values.dn,
        sum(case
            when series_values.absolute_epoch < grid_running.absolutes_so_far then series_values.points
            else series_values.points * power(grid_running.reset_fraction,
                grid_running.recycles_so_far - series_values.recycle_epoch)
        end) as engagement_points,
        sum(case when series_values.absolute_epoch < grid_running.absolutes_so_far then series_values.points else 0 end)
            as replaced_points
    from series_values
    inner join grid_running
        on series_values.person_id = grid_running.person_id
        and series_values.rulebook_id = grid_running.rulebook_id
        and series_values.dn = grid_running.dn
    group by series_values.person_id, series_values.rulebook_id, series_values.dn
),

-- Inactivity penalties of each day: days since the last web activity (or the record's creation)
-- at the end of the day, against the rulebook's inactivity rules.
inactivity_rules as (
    select * from {{ ref('activity_rules') }}
    where activity_type = 'inactivity'
),

penalties as (
    select
        inactive.person_id,
        inactive.rulebook_id,
        inactive.dn,
        inactivity_rules.points * rulebooks.engagement_weight as points,
        inactive.inactive_since + coalesce(inactivity_rules.min_value, 0) as start_epoch_days
    from (
        select
            person_id, rulebook_id, dn,
            {{ epoch_days('coalesce(last_web_at, created_at)') }} as inactive_since
        from grid_running
    ) as inactive
    -- Inactivity rules are ranges on days_without_web_activity (checked with the rulebooks).
    inner join inactivity_rules
        on inactive.rulebook_id = inactivity_rules.rulebook_id
        and (inactivity_rules.min_value is null or inactive.dn + 1 - inactive.inactive_since >= inactivity_rules.min_value)
        and (inactivity_rules.max_value is null or inactive.dn + 1 - inactive.inactive_since <= inactivity_rules.max_value)
    inner join rulebooks
        on inactive.rulebook_id = rulebooks.rulebook_id
),

penalty_daily as (
    select
        penalties.person_id,
        penalties.rulebook_id,
        penalties.dn,
        sum(case
            when grid_running.absolute_at is not null
                and {{ epoch_days('grid_running.absolute_at') }} >= penalties.start_epoch_days
                then penalties.points
            else penalties.points * power(grid_running.reset_fraction, coalesce(later_recycles.recycles, 0))
        end) as engagement_points,
        sum(case
            when grid_running.absolute_at is not null
                and {{ epoch_days('grid_running.absolute_at') }} >= penalties.start_epoch_days
                then penalties.points
            else 0
        end) as replaced_points
    from penalties
    inner join grid_running
        on penalties.person_id = grid_running.person_id
        and penalties.rulebook_id = grid_running.rulebook_id
        and penalties.dn = grid_running.dn
    left join (
        select penalties.person_id, penalties.rulebook_id, penalties.dn, penalties.start_epoch_days, count(*) as recycles
        from penalties
        inner join recycles
            on penalties.person_id = recycles.person_id
            and {{ epoch_days('recycles.recycled_at') }} > penalties.start_epoch_days
            and recycles.dn <= penalties.dn
        group by penalties.person_id, penalties.rulebook_id, penalties.dn, penalties.start_epoch_days
    ) as later_recycles
        on penalties.person_id = later_recycles.person_id
        and penalties.rulebook_id = later_recycles.rulebook_id
        and penalties.dn = later_recycles.dn
        and penalties.start_epoch_days = later_recycles.start_epoch_days
    group by penalties.person_id, penalties.rulebook_id, penalties.dn
),

-- Caps do not apply from the day a person first triggers one of the cap_unless rules.
bounds as (
    select * from {{ ref('score_bounds') }}
),

rule_days as (
    select person_id, rulebook_id, rule_id, min({{ day_number('event_at') }}) as first_dn
    from {{ ref('int_activity_rule_hits') }}
    where {{ person_batch('person_id') }}
    group by person_id, rulebook_id, rule_id
    union all
    select person_id, rulebook_id, rule_id, min({{ day_number('event_at') }})
    from {{ ref('int_profile_rule_hits') }}
    where {{ person_batch('person_id') }}
    group by person_id, rulebook_id, rule_id
),

cap_exemptions as (
    select rule_days.person_id, rule_days.rulebook_id, bounds.component, min(rule_days.first_dn) as exempt_from_dn
    from rule_days
    inner join bounds
        on rule_days.rulebook_id = bounds.rulebook_id
        and '|' || bounds.cap_unless_rule_ids || '|' like '%|' || rule_days.rule_id || '|%'
    group by rule_days.person_id, rule_days.rulebook_id, bounds.component
),

-- The first day this run writes: the whole history when the inputs up to the last kept day
-- are not those the kept days were computed from.
write_from as (
    select
        person_rulebooks.person_id,
        person_rulebooks.rulebook_id,
        {% if builds_incrementally() -%}
        case
            when person_rulebooks.write_from_dn > person_rulebooks.first_dn
                and built_inputs.inputs_count = kept_day.inputs_count
                and built_inputs.inputs_checksum = kept_day.inputs_checksum
                then person_rulebooks.write_from_dn
            else person_rulebooks.first_dn
        end as write_from_dn
        {%- else -%}
        person_rulebooks.write_from_dn as write_from_dn
        {%- endif %}
    from person_rulebooks
    {%- if builds_incrementally() %}
    left join grid_running as kept_day
        on person_rulebooks.person_id = kept_day.person_id
        and person_rulebooks.rulebook_id = kept_day.rulebook_id
        and kept_day.dn = person_rulebooks.write_from_dn - 1
    left join built_inputs
        on person_rulebooks.person_id = built_inputs.crm_id
        and person_rulebooks.rulebook_id = built_inputs.rulebook_id
    {%- endif %}
),

components as (
    select
        grid_running.person_id,
        grid_running.rulebook_id,
        grid_running.dn,
        grid_running.inputs_count,
        grid_running.inputs_checksum,
        grid_running.fit_points as fit_raw,
        grid_running.data_quality_points as data_quality_raw,
        grid_running.engagement_profile_points + coalesce(activity_daily.engagement_points, 0)
            + coalesce(penalty_daily.engagement_points, 0) as engagement_raw,
        grid_running.delta_points + case
            when grid_running.absolute_at is null then 0
            else grid_running.absolute_score - grid_running.absolute_static_before
                - coalesce(activity_daily.replaced_points, 0) - coalesce(penalty_daily.replaced_points, 0)
        end as adjustment_raw
    from grid_running
    left join activity_daily
        on grid_running.person_id = activity_daily.person_id
        and grid_running.rulebook_id = activity_daily.rulebook_id
        and grid_running.dn = activity_daily.dn
    left join penalty_daily
        on grid_running.person_id = penalty_daily.person_id
        and grid_running.rulebook_id = penalty_daily.rulebook_id
        and grid_running.dn = penalty_daily.dn
    inner join write_from
        on grid_running.person_id = write_from.person_id
        and grid_running.rulebook_id = write_from.rulebook_id
        and grid_running.dn >= write_from.write_from_dn
),

{%- set bounded_components = ['fit', 'engagement', 'data_quality', 'adjustment'] %}

bounded as (
    select
        components.person_id,
        components.rulebook_id,
        components.dn,
        components.inputs_count,
        components.inputs_checksum,
        {%- for component in bounded_components %}
        {{ bound_component(component ~ '_raw', component ~ '_bounds', component ~ '_exempt', 'components.dn') }}
            as {{ component }}_score{{ "," if not loop.last }}
        {%- endfor %}
    from components
    {%- for component in bounded_components %}
    left join bounds as {{ component }}_bounds
        on components.rulebook_id = {{ component }}_bounds.rulebook_id
        and {{ component }}_bounds.component = '{{ component }}'
    left join cap_exemptions as {{ component }}_exempt
        on components.person_id = {{ component }}_exempt.person_id
        and components.rulebook_id = {{ component }}_exempt.rulebook_id
        and {{ component }}_exempt.component = '{{ component }}'
    {%- endfor %}
),

totals as (
    select
        bounded.*,
        {{ bound_component('(bounded.fit_score + bounded.engagement_score + bounded.data_quality_score + bounded.adjustment_score)',
            'total_bounds', none, 'bounded.dn') }} as total_score
    from bounded
    left join bounds as total_bounds
        on bounded.rulebook_id = total_bounds.rulebook_id
        and total_bounds.component = 'total'
),

final as (
    select
        totals.person_id as crm_id,
        totals.rulebook_id,
        totals.rulebook_id = '{{ var("champion_rulebook") }}' as is_champion,
        {{ day_date('totals.dn') }} as score_date,
        cast(totals.fit_score as {{ points_type() }}) as fit_score,
        cast(totals.engagement_score as {{ points_type() }}) as engagement_score,
        cast(totals.data_quality_score as {{ points_type() }}) as data_quality_score,
        cast(totals.adjustment_score as {{ points_type() }}) as adjustment_score,
        cast(totals.total_score as {{ points_type() }}) as total_score,
        rulebooks.fingerprint as rulebook_fingerprint,
        (select as_of from as_of) as as_of,
        totals.inputs_count as _inputs_count,
        totals.inputs_checksum as _inputs_checksum
    from totals
    -- joined at the end: a 32-character text carried on every row of the grid costs memory
    inner join rulebooks
        on totals.rulebook_id = rulebooks.rulebook_id
)

select * from final
