{#- The scores at the end of each complete day (the midnight after it) of the last
    `score_history_days` days before as_of (120), per person and rulebook, read off the score
    timeline; fct_lead_score_daily publishes it.

    Incremental: a day's scores change only when the person's timeline is recomputed. A run
    reads, for the timelines rewritten since the previous run (their _built_at stamp) or after
    a settings change, every day of the window, and for the others only the days as_of added;
    the post-hook drops the days that left the window and the people gone. Days before a
    rewritten timeline's first row are written as tombstones (see
    macros/incremental/keyed_rewrites.sql), so a record whose creation moved later loses them.
    Each row keeps the stamp of the run that wrote it (_built_at), so its data tests read only
    the rows written since they last passed (macros/incremental/tested_rows.sql). Spark rebuilds
    it in full. -#}

-- depends_on: {{ ref('decay_profiles') }}
{{ keyed_rewrite_config(['person_id', 'rulebook_id', 'score_date'], post_hooks=[
    "{% if is_incremental() %}delete from {{ this }}
        where score_date < (select {{ day_date(day_number(dbt.dateadd('day', -1, 'as_of')) ~ ' - ' ~ var('score_history_days', 120) ~ ' + 1') }} from {{ ref('int_scoring_as_of') }})
            or score_date > (select {{ day_date(day_number(dbt.dateadd('day', -1, 'as_of'))) }} from {{ ref('int_scoring_as_of') }})
            or not exists (
                select 1 from (select distinct person_id, rulebook_id from {{ ref('int_score_timeline') }}) as timelines
                where timelines.person_id = {{ this }}.person_id and timelines.rulebook_id = {{ this }}.rulebook_id){% endif %}"]) }}

{%- set fingerprint = settings_fingerprint(['score_bounds'], {'score_history_days': var('score_history_days', 120)}) %}

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

all_timelines as {{ inline_cte() }} (
    select * from {{ ref('int_score_timeline') }}
),

{% if is_incremental() -%}
-- (Incremental runs are DuckDB's only: the CTEs read several times are materialized.)
scope as materialized (
    {{ rewritten_keys('all_timelines', ['person_id', 'rulebook_id'], fingerprint) }}
),

-- The last day already stored: later days are new for every timeline.
stored_days as materialized (
    select {{ day_number('max(score_date)') }} as last_stored_dn from {{ this }}
),

timeline as (
    select
        all_timelines.*,
        scope.person_id is not null as is_rewritten
    from all_timelines
    left join scope
        on all_timelines.person_id = scope.person_id
        and all_timelines.rulebook_id = scope.rulebook_id
),

{% else -%}
timeline as (
    select *, true as is_rewritten from all_timelines
),

{% endif -%}
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
    {%- if is_incremental() %}
    where timeline.is_rewritten
        or calendar.dn > coalesce((select last_stored_dn from stored_days), -1)
    {%- endif %}
),

final as (
    select
        scored.person_id,
        scored.rulebook_id,
        {{ day_date('scored.dn') }} as score_date,
        cast(scored.fit_score as {{ points_type() }}) as fit_score,
        cast(scored.engagement_score as {{ points_type() }}) as engagement_score,
        cast(scored.data_quality_score as {{ points_type() }}) as data_quality_score,
        cast(scored.adjustment_score as {{ points_type() }}) as adjustment_score,
        cast(scored.total_score as {{ points_type() }}) as total_score,
        run_values.upstream_built_at as _upstream_built_at,
        run_values.fingerprint as _settings_fingerprint,
        run_values.built_at as _built_at
    from scored
    {{ run_values(fingerprint, upstream='all_timelines', stamp=true) }}
)

select * from final
{%- if is_incremental() %}
-- Tombstones for the days of a rewritten timeline before its first row.
union all by name
select scope.person_id, scope.rulebook_id, {{ day_date('calendar.dn') }} as score_date
from scope
inner join (
    select person_id, rulebook_id, min(changed_at) as first_changed_at
    from all_timelines
    group by person_id, rulebook_id
) as firsts
    on scope.person_id = firsts.person_id
    and scope.rulebook_id = firsts.rulebook_id
inner join calendar
    on calendar.midnight < firsts.first_changed_at
{%- endif %}
