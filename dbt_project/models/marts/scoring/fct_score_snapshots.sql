{#- Every rulebook's scores at the backtest's past instants, read off the score timeline, so a
    backtest reaches as far back as the history does (not the daily trend's window).

    Snapshots are midnights on a fixed grid: days whose day number (days since 1970-01-01) is a
    multiple of `backtest_step_days` (14). The latest is the last grid midnight whose
    `backtest_horizon_days` horizon (90) ends by as_of; the others step back from it down to
    `backtest_history_days` (180) before that horizon's end (counted from there rather than
    from as_of, so the history moves with the grid). The snapshots change once every step, not
    every day, so daily runs read the same past scores. Each snapshot's score_date is the day
    before it (its scores hold at the end of that day, as in fct_lead_score_daily). When no
    grid midnight follows the first record's creation (a history shorter than the horizon and
    a step), the midnight after the creation is the one snapshot, with the horizon cut to the
    whole days left before as_of when fewer (horizon_reduced). People appear from the
    snapshot after their record's creation. None in snapshot_mode (no past to score at). -#}

-- depends_on: {{ ref('decay_profiles') }}
{%- set horizon_days = var('backtest_horizon_days', 90) %}
{%- set step_days = var('backtest_step_days', 14) %}
{%- set history_days = var('backtest_history_days', 180) %}

with

bounds as (
    select
        as_of,
        -- The last midnight whose horizon ends by as_of.
        {{ day_number(dbt.dateadd('day', -horizon_days, 'as_of')) }} as labelled_dn,
        (select {{ day_number('min(person_created_at)') }} + 1 from {{ ref('int_people') }} where is_master)
            as first_dn
    from {{ ref('int_scoring_as_of') }}
),

grid as (
    select
        as_of,
        first_dn,
        labelled_dn - mod(labelled_dn, {{ step_days }}) as latest_dn
    from bounds
),

regular_snapshots as (
    select days.dn, {{ horizon_days }} as horizon_days, false as horizon_reduced
    from ({{ day_numbers(
        '(select latest_dn from grid) - (' ~ (history_days - horizon_days) ~ ')', '(select latest_dn from grid)'
    ) }}) as days
    cross join grid
    where mod(days.dn, {{ step_days }}) = 0
        and days.dn >= grid.first_dn
),

-- No grid midnight after the first record: its next midnight, with the days left if fewer.
first_record_snapshot as (
    select
        dn,
        least(days_left, {{ horizon_days }}) as horizon_days,
        days_left < {{ horizon_days }} as horizon_reduced
    from (
        select
            grid.first_dn as dn,
            cast(floor({{ days_between('cast(' ~ day_date('grid.first_dn') ~ ' as timestamp)', 'grid.as_of') }})
                as integer) as days_left
        from grid
        where grid.first_dn > grid.latest_dn
            and cast({{ day_date('grid.first_dn') }} as timestamp) < grid.as_of
    ) as first_record
),

snapshots as (
    select
        dn,
        cast({{ day_date('dn') }} as timestamp) as snapshot_at,
        horizon_days,
        horizon_reduced
    from (
        select * from regular_snapshots
        union all
        select * from first_record_snapshot
    ) as all_snapshots
    {%- if var('snapshot_mode') %}
    -- A snapshot export has no past to score at: it is evaluated by cross-validation at as_of.
    where false
    {%- endif %}
),

requests as (
    select people.person_id, people.rulebook_id, snapshots.snapshot_at as score_at, snapshots.dn,
        snapshots.horizon_days, snapshots.horizon_reduced
    from (select distinct person_id, rulebook_id from {{ ref('int_score_timeline') }}) as people
    cross join snapshots
),

scored as (
    {{ scores_at('requests') }}
),

final as (
    select
        {{ day_date('scored.dn - 1') }} as score_date,
        scored.score_at as snapshot_at,
        scored.horizon_days,
        scored.horizon_reduced,
        scored.person_id as person_id,
        scored.rulebook_id,
        scored.rulebook_id = '{{ var("champion_rulebook") }}' as is_champion,
        cast(scored.fit_score as {{ points_type() }}) as fit_score,
        cast(scored.engagement_score as {{ points_type() }}) as engagement_score,
        cast(scored.data_quality_score as {{ points_type() }}) as data_quality_score,
        cast(scored.adjustment_score as {{ points_type() }}) as adjustment_score,
        cast(scored.total_score as {{ points_type() }}) as total_score,
        {{ meets_mql('scored.total_score', 'scored.fit_score') }} as is_mql,
        (select as_of from bounds) as as_of
    from scored
    inner join {{ ref('rulebooks') }} as rulebooks
        on scored.rulebook_id = rulebooks.rulebook_id
)

select * from final
