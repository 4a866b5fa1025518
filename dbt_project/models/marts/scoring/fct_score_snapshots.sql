{#- Every rulebook's scores at the backtest's past instants, read off the score timeline, so a
    backtest reaches as far back as the history does (not the daily trend's window).

    Snapshots are midnights: the latest one whose `backtest_horizon_days` horizon (90) ends by
    as_of, then one every `backtest_step_days` (14) back to the day `backtest_history_days`
    (180) before as_of. Each snapshot's score_date is the day before it (its scores hold at the
    end of that day, as in fct_lead_score_daily). When the history is shorter than the horizon
    (no person existed at the latest snapshot), the midnight after the first record's creation
    is the one snapshot, with the horizon cut to the whole days left before as_of
    (horizon_reduced). People appear from the snapshot after their record's creation. -#}

-- depends_on: {{ ref('decay_profiles') }}
{%- set horizon_days = var('backtest_horizon_days', 90) %}
{%- set step_days = var('backtest_step_days', 14) %}
{%- set history_days = var('backtest_history_days', 180) %}

with

bounds as (
    select
        as_of,
        {{ day_number(dbt.dateadd('day', -horizon_days, 'as_of')) }} as latest_dn,
        {{ day_number(dbt.dateadd('day', -history_days, 'as_of')) }} as earliest_dn,
        (select {{ day_number('min(person_created_at)') }} + 1 from {{ ref('int_people') }} where is_master)
            as first_dn
    from {{ ref('int_scoring_as_of') }}
),

regular_snapshots as (
    select days.dn, {{ horizon_days }} as horizon_days, false as horizon_reduced
    from ({{ day_numbers('(select earliest_dn from bounds)', '(select latest_dn from bounds)') }}) as days
    cross join bounds
    where mod(bounds.latest_dn - days.dn, {{ step_days }}) = 0
        and days.dn >= bounds.first_dn
),

-- The history is shorter than the horizon: one snapshot with the days left.
short_history_snapshot as (
    select
        bounds.first_dn as dn,
        cast(floor({{ days_between('cast(' ~ day_date('bounds.first_dn') ~ ' as timestamp)', 'bounds.as_of') }})
            as integer) as horizon_days,
        true as horizon_reduced
    from bounds
    where bounds.first_dn > bounds.latest_dn
        and cast({{ day_date('bounds.first_dn') }} as timestamp) < bounds.as_of
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
        select * from short_history_snapshot
    ) as all_snapshots
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
        scored.person_id as crm_id,
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
