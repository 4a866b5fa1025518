{#- Every instant a person's score crossed a rulebook's MQL threshold (with the minimum fit), up
    (qualified) or down (unqualified), read from the score timeline over the whole history.

    Most crossings happen at a change point: points earned, negative points expiring, positive
    points expiring, a recycle, a score set by hand, or the record's creation with its profile
    points. The score just before a change point is the previous row's closed form at that
    instant. Between change points only decay moves the score; where it carries the score
    across the threshold (exponential or linear decay), the instant is found by searching the
    closed form, and the crossing kind is `decay`. The closed form counts whole seconds of the
    clock (days_between), so the score moves only at a whole second: the crossing is that
    second, the same whatever steps the search took to find it.

    Incremental per person and rulebook: a run recomputes the timelines rewritten since the
    previous run (their _built_at stamp), those whose last interval, which ends at as_of,
    needs a search at this as_of or held a decay crossing at the previous one, and every one
    after a settings change; see macros/incremental/keyed_rewrites.sql. Spark rebuilds it in
    full. -#}

-- depends_on: {{ ref('decay_profiles') }}
{{ keyed_rewrite_config(['person_id', 'rulebook_id']) }}

{%- set fingerprint = settings_fingerprint(['rulebooks', 'score_bounds', 'decay_profiles'],
    {'champion_rulebook': var('champion_rulebook')}) %}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

rulebooks as (
    select rulebook_id, mql_threshold, mql_min_fit from {{ ref('rulebooks') }}
),

all_timelines as {{ inline_cte() }} (
    select * from {{ ref('int_score_timeline') }}
),

{% if is_incremental() -%}
{%- do require_built_column('person_id') %}
-- Each timeline's last row: its interval ends at as_of, which moves between runs. (Incremental
-- runs are DuckDB's only: the CTEs read several times are materialized.)
last_rows as materialized (
    select
        last_row.person_id,
        last_row.rulebook_id,
        last_row.changed_at,
        {{ meets_mql('last_row.total_score', 'last_row.fit_score') }}
            <> coalesce({{ timeline_qualifies_at('last_row', '(select as_of from as_of)') }}, false)
            as needs_search
    from all_timelines as last_row
    inner join rulebooks
        on last_row.rulebook_id = rulebooks.rulebook_id
    {{ score_bounds_joins('last_row') }}
    where last_row.valid_until is null
),

scope as materialized (
    select person_id, rulebook_id
    from ({{ rewritten_keys('all_timelines', ['person_id', 'rulebook_id'], fingerprint) }}) as rewritten
    union
    select person_id, rulebook_id from last_rows where needs_search
    union
    select stored.person_id, stored.rulebook_id
    from {{ this }} as stored
    inner join last_rows
        on stored.person_id = last_rows.person_id
        and stored.rulebook_id = last_rows.rulebook_id
    where stored.crossing_kind = 'decay'
        and stored.crossed_at > last_rows.changed_at
),

timeline as (
    {{ rows_in_scope('all_timelines', ['person_id', 'rulebook_id']) }}
),

timeline_keys as (
    select distinct person_id, rulebook_id from all_timelines
),

{% else -%}
timeline as (
    select * from all_timelines
),

{% endif -%}

-- Each change point, qualified or not right after it, just before it (the previous row's
-- value at that instant) and at the end of its interval (the next change point, or as_of).
changes as (
    select
        current_row.person_id,
        current_row.rulebook_id,
        current_row.changed_at,
        coalesce(current_row.valid_until, (select as_of from as_of)) as ends_at,
        current_row.change_kind,
        current_row.change_rule_id,
        current_row.change_source_id,
        current_row.total_score,
        current_row.fit_score,
        rulebooks.mql_threshold,
        rulebooks.mql_min_fit,
        {{ meets_mql('current_row.total_score', 'current_row.fit_score') }} as is_qualified,
        coalesce({{ timeline_qualifies_at('previous_row', 'current_row.changed_at') }}, false) as was_qualified,
        {{ timeline_score_at('previous_row', 'current_row.changed_at', 'total') }} as score_before,
        {{ timeline_qualifies_at('current_row', 'coalesce(current_row.valid_until, (select as_of from as_of))') }}
            as is_qualified_at_end
    from timeline as current_row
    inner join rulebooks
        on current_row.rulebook_id = rulebooks.rulebook_id
    left join timeline as previous_row
        on current_row.person_id = previous_row.person_id
        and current_row.rulebook_id = previous_row.rulebook_id
        and current_row.changed_at = previous_row.valid_until
    {{ score_bounds_joins('current_row') }}
),

at_change_points as (
    select
        person_id,
        rulebook_id,
        changed_at as crossed_at,
        case when is_qualified then 'qualified' else 'unqualified' end as direction,
        change_kind as crossing_kind,
        change_rule_id as crossing_rule_id,
        change_source_id as crossing_source_id,
        coalesce(score_before, 0) as score_before,
        total_score,
        fit_score,
        mql_threshold
    from changes
    where is_qualified <> was_qualified
),

-- Intervals that end on the other side of the threshold: decay crossed it inside. The
-- crossing lies in (low_at, high_at]: not yet crossed at low_at, crossed at high_at.
search_0 as (
    select person_id, rulebook_id, changed_at, not is_qualified as target_qualified,
        changed_at as low_at, ends_at as high_at
    from changes
    where is_qualified <> is_qualified_at_end
        and ends_at > changed_at
),

-- The timeline rows searched, kept apart so each round joins a few rows, not the timeline.
searched_rows as (
    select timeline.*
    from timeline
    inner join search_0
        on timeline.person_id = search_0.person_id
        and timeline.rulebook_id = search_0.rulebook_id
        and timeline.changed_at = search_0.changed_at
),

{#- Each round probes evenly spaced instants of (low_at, high_at] and keeps the step before the
    first one past the threshold: six rounds of 32 narrow any interval under 34 years (32^6
    seconds) to a second. Fewer, wider rounds evaluate the closed form more often: three rounds
    of 1,024 took twice as long on DuckDB at medium size. Spark's analyzer gives up on six
    nested rounds (its 100 resolution iterations), so it does three of 1,024; both end on the
    same whole second. -#}
{%- set probes_per_round, search_rounds = (1024, 3) if target.type == 'spark' else (32, 6) %}

probe_numbers as (
    {{ day_numbers('1', probes_per_round) }}
),
{%- for round in range(search_rounds) %}

search_{{ round + 1 }} as (
    select
        person_id, rulebook_id, changed_at, target_qualified,
        {{ dbt.dateadd('second', '-step_seconds', 'min(probe_at)') }} as low_at,
        min(probe_at) as high_at
    from (
        select
            probes.*,
            coalesce({{ timeline_qualifies_at('state', 'probes.probe_at') }}, false) = probes.target_qualified
                as reached
        from (
            select
                narrowed.*,
                case when probe_numbers.dn * narrowed.step_seconds >= narrowed.span_seconds
                    then narrowed.high_at
                    else {{ dbt.dateadd('second', 'probe_numbers.dn * narrowed.step_seconds', 'narrowed.low_at') }}
                end as probe_at
            from (
                select
                    *,
                    {{ dbt.datediff('low_at', 'high_at', 'second') }} as span_seconds,
                    cast(ceil(
                        {{ dbt.datediff('low_at', 'high_at', 'second') }} / {{ to_double(probes_per_round) }}
                    ) as bigint) as step_seconds
                from search_{{ round }}
            ) as narrowed
            cross join probe_numbers
        ) as probes
        inner join searched_rows as state
            on probes.person_id = state.person_id
            and probes.rulebook_id = state.rulebook_id
            and probes.changed_at = state.changed_at
        inner join rulebooks
            on probes.rulebook_id = rulebooks.rulebook_id
        {{ score_bounds_joins('state') }}
    ) as probed
    where reached
    group by person_id, rulebook_id, changed_at, target_qualified, step_seconds
),
{%- endfor %}

-- The last round leaves a second, (low_at, high_at], in which the score moved: the whole
-- second of the clock inside it.
searched as (
    select
        person_id, rulebook_id, changed_at, target_qualified,
        {{ dbt.date_trunc('second', 'high_at') }} as crossed_at
    from search_{{ search_rounds }}
),

within_intervals as (
    select
        crossing.person_id,
        crossing.rulebook_id,
        crossing.crossed_at,
        case when crossing.target_qualified then 'qualified' else 'unqualified' end as direction,
        'decay' as crossing_kind,
        cast(null as {{ dbt.type_string() }}) as crossing_rule_id,
        cast(null as {{ dbt.type_string() }}) as crossing_source_id,
        {{ timeline_score_at('state', dbt.dateadd('second', -1, 'crossing.crossed_at'), 'total') }} as score_before,
        {{ timeline_score_at('state', 'crossing.crossed_at', 'total') }} as total_score,
        {{ timeline_score_at('state', 'crossing.crossed_at', 'fit') }} as fit_score,
        rulebooks.mql_threshold
    from searched as crossing
    inner join searched_rows as state
        on crossing.person_id = state.person_id
        and crossing.rulebook_id = state.rulebook_id
        and crossing.changed_at = state.changed_at
    inner join rulebooks
        on crossing.rulebook_id = rulebooks.rulebook_id
    {{ score_bounds_joins('state') }}
),

crossings as (
    select * from at_change_points
    union all
    select * from within_intervals
),

final as (
    select
        crossings.person_id as person_id,
        crossings.rulebook_id,
        crossings.rulebook_id = '{{ var("champion_rulebook") }}' as is_champion,
        crossings.crossed_at,
        crossings.direction,
        crossings.crossing_kind,
        crossings.crossing_rule_id,
        crossings.crossing_source_id,
        crossings.score_before,
        crossings.total_score,
        crossings.fit_score,
        crossings.mql_threshold,
        run_values.upstream_built_at as _upstream_built_at,
        run_values.fingerprint as _settings_fingerprint
    from crossings
    {{ run_values(fingerprint, upstream='all_timelines') }}
)

select * from final
{{ tombstone_rows('scope', 'timeline_keys', ['person_id', 'rulebook_id']) }}
