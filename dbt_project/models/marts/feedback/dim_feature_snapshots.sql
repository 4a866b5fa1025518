{#- The instants the predictive model's features are computed at (fct_person_features), with the
    settings that chose them.

    Training at a cutoff c uses the latest `predictive_training_snapshots` (8) midnights s whose
    labels are known by c (s + horizon <= c) on a fixed grid: the days whose day number (days
    since 1970-01-01) is a multiple of `predictive_snapshot_step_days` (28). Grid midnights are
    listed for every cutoff a fit is made at, stepping back from the latest cutoff's newest one to
    `training_snapshots` steps below the earliest cutoff's:
    - the published model (cutoff as_of, horizon `predictive_horizon_days`, 90) and its
      validation model (cutoff the newest midnight the published one trains on);
    - the model of each backtest date (cutoff the date's snapshot_at in fct_score_snapshots, with
      that date's horizon; one range per horizon, as a reduced horizon shifts the grid).
    Added to them: the backtest dates themselves and as_of, where people are scored. In
    snapshot_mode, as_of only: the fit is cross-validated there.

    Also carried, for the fit to read: the custom fields it may use (predictive_custom_fields,
    as JSON: "all" or a list) and those it must not (predictive_excluded_fields and the
    outcome field), and the least people a category needs (predictive_min_category_people). -#}

{%- set horizon_days = var('predictive_horizon_days') %}
{%- set training_snapshots = var('predictive_training_snapshots') %}
{%- set step_days = var('predictive_snapshot_step_days') %}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

backtest_dates as (
    select distinct snapshot_at, horizon_days from {{ ref('fct_score_snapshots') }}
),

{#- The day number of the midnight of cutoff - horizon: the newest whose horizon ends by the cutoff. -#}
{%- set labelled_day = day_number(dbt.dateadd('day', '-horizon_days', 'cutoff')) %}

-- The published model's cutoff: as_of.
published_cutoff as (
    select 'published' as fit, {{ horizon_days }} as horizon_days, as_of as cutoff from as_of
),

published_top as (
    select {{ labelled_day }} - mod({{ labelled_day }}, {{ step_days }}) as dn from published_cutoff
),

-- Every cutoff a model is fitted at, by the fit whose grid range it belongs to: the published
-- model, its validation model (cutoff: the newest midnight the published one trains on) and the
-- model of each backtest date.
cutoffs as (
    select fit, horizon_days, cutoff from published_cutoff
    union all
    select
        'published' as fit,
        {{ horizon_days }} as horizon_days,
        cast({{ day_date('dn') }} as timestamp) as cutoff
    from published_top
    union all
    select 'backtest' as fit, horizon_days, snapshot_at as cutoff from backtest_dates
),

cutoff_days as (
    select fit, horizon_days, {{ labelled_day }} - mod({{ labelled_day }}, {{ step_days }}) as grid_dn
    from cutoffs
),

ranges as (
    select
        fit,
        horizon_days,
        min(grid_dn) - {{ (training_snapshots - 1) * step_days }} as first_dn,
        max(grid_dn) as last_dn
    from cutoff_days
    group by fit, horizon_days
),

grid_days as (
    select distinct days.dn
    from ({{ day_numbers('(select min(first_dn) from ranges)', '(select max(last_dn) from ranges)') }}) as days
    inner join ranges
        on days.dn between ranges.first_dn and ranges.last_dn
    where mod(days.dn, {{ step_days }}) = 0
),

instants as (
    {%- if not var('snapshot_mode') %}
    select cast({{ day_date('dn') }} as timestamp) as snapshot_at, 1 as is_training, 0 as is_backtest, 0 as is_as_of
    from grid_days
    union all
    select snapshot_at, 0 as is_training, 1 as is_backtest, 0 as is_as_of from backtest_dates
    union all
    {%- endif %}
    select as_of as snapshot_at, 0 as is_training, 0 as is_backtest, 1 as is_as_of from as_of
),

final as (
    select
        instants.snapshot_at,
        max(instants.is_training) = 1 as is_training_snapshot,
        max(instants.is_backtest) = 1 as is_backtest_snapshot,
        max(instants.is_as_of) = 1 as is_as_of,
        (select as_of from as_of) as as_of,
        {{ horizon_days }} as horizon_days,
        {{ training_snapshots }} as training_snapshot_count,
        {{ step_days }} as snapshot_step_days,
        {{ var('snapshot_mode') }} as is_snapshot_mode,
        {{ json_literal(var('predictive_custom_fields')) }} as custom_fields_used,
        {{ json_literal(var('predictive_excluded_fields') + ([var('outcome_field') | replace('custom_fields.', '')] if var('outcome_field') else [])) }}
            as custom_fields_excluded,
        {{ var('predictive_min_category_people') }} as min_category_people
    from instants
    group by instants.snapshot_at
)

select * from final
