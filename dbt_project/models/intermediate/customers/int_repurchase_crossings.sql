{#- Every instant a customer account's repurchase score crossed its rulebook's
    repurchase_threshold, up (qualified) or down (unqualified), over the whole history up to
    as_of. The score is read (repurchase_scores_at) at every instant where a term starts or ends
    and, while a linear cycle term grows, at every UTC midnight: growth between two changes is
    seen on the next midnight. Decay only lowers the positive points of the shipped rules, so a
    fall under the threshold between changes shows at the next change.

    Incremental per account and rulebook: a run recomputes the accounts whose terms changed (a
    digest of them, _inputs_digest), and, when as_of moved forward, those that get an instant
    in between: a term ending, or a UTC midnight while a growing term runs. Every key after a
    settings change or when as_of moved back. See macros/incremental/keyed_rewrites.sql; Spark
    rebuilds it in full. -#}

{{ keyed_rewrite_config(['account_id', 'rulebook_id']) }}

{%- set fingerprint = settings_fingerprint(['rulebooks', 'score_bounds'],
    {'champion_rulebook': var('champion_rulebook')}) %}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

all_terms as {{ inline_cte() }} (
    select * from {{ ref('int_repurchase_score_events') }}
),

-- What an account's crossings are computed from: its terms, digested per account and rulebook.
term_digests as (
    select
        account_id,
        rulebook_id,
        {{ unordered_digest_agg(['repurchase_event_id', 'source_type', 'source_id', 'rule_id', 'event_at',
            'term_kind', 'term_points', 'starts_at', 'ends_at', 'half_life_days', 'lifetime_days']) }}
            as inputs_digest
    from all_terms
    group by account_id, rulebook_id
),

{% if is_incremental() -%}
-- (Incremental runs are DuckDB's only: the CTEs read several times are materialized.)
scope as materialized (
    {{ changed_digest_keys('term_digests', ['account_id', 'rulebook_id'], fingerprint) }}
    {%- if stored_column_exists('_computed_as_of') %}
    union
    -- The instants a moved as_of adds: term ends up to it, and midnights before it (the last
    -- one before as_of is `latest_midnight`) while a growing term runs.
    select terms.account_id, terms.rulebook_id
    from all_terms as terms
    cross join (
        select
            previous_as_of,
            as_of,
            case when {{ dbt.date_trunc('day', 'as_of') }} = as_of
                then {{ dbt.dateadd('day', -1, 'as_of') }}
                else {{ dbt.date_trunc('day', 'as_of') }}
            end as latest_midnight
        from (select max(_computed_as_of) as previous_as_of from {{ this }}) as previous_run
        cross join as_of
    ) as moved
    where moved.previous_as_of is null
        or moved.previous_as_of > moved.as_of
        or (terms.ends_at > moved.previous_as_of and terms.ends_at <= moved.as_of)
        or (terms.term_kind = 'growing'
            and moved.latest_midnight >= moved.previous_as_of
            and terms.starts_at < moved.as_of
            and (terms.ends_at is null or terms.ends_at > moved.previous_as_of))
    {%- endif %}
),

terms as (
    {{ rows_in_scope('all_terms', ['account_id', 'rulebook_id']) }}
),

{% else -%}
terms as (
    select * from all_terms
),

{% endif -%}

{#- The midnights from the first growing term to as_of (none without one). -#}
{%- set as_of_day = '(select ' ~ day_number('as_of') ~ ' from ' ~ ref('int_scoring_as_of') ~ ')' %}
growing_days as (
    {{ day_numbers(
        'coalesce((select ' ~ day_number('min(starts_at)') ~ ' from ' ~ ref('int_repurchase_score_events')
            ~ " where term_kind = 'growing'), " ~ as_of_day ~ ' + 1)',
        as_of_day) }}
),

instants as (
    select account_id, rulebook_id, starts_at as scored_at from terms
    union
    select account_id, rulebook_id, ends_at from terms
    where ends_at <= (select as_of from as_of)
    union
    select terms.account_id, terms.rulebook_id, cast({{ day_date('growing_days.dn') }} as timestamp)
    from terms
    inner join growing_days
        on cast({{ day_date('growing_days.dn') }} as timestamp) > terms.starts_at
        and cast({{ day_date('growing_days.dn') }} as timestamp) < coalesce(terms.ends_at, (select as_of from as_of))
    where terms.term_kind = 'growing'
),

scores as (
    {{ repurchase_scores_at('instants') }}
),

changes as (
    select
        *,
        lag(is_repurchase_qualified) over (partition by account_id, rulebook_id order by scored_at)
            as was_qualified,
        lag(repurchase_score) over (partition by account_id, rulebook_id order by scored_at) as score_before
    from scores
),

-- What changed at the crossing: the term that started there with the most points.
causes as (
    select account_id, rulebook_id, starts_at, rule_id, source_id
    from (
        select
            account_id, rulebook_id, starts_at, rule_id, source_id,
            row_number() over (
                partition by account_id, rulebook_id, starts_at order by term_points desc, rule_id asc, source_id asc
            ) as cause_rank
        from terms
    ) as ranked
    where cause_rank = 1
),

final as (
    select
        changes.account_id,
        changes.rulebook_id,
        changes.rulebook_id = '{{ var("champion_rulebook") }}' as is_champion,
        changes.scored_at as crossed_at,
        case when changes.is_repurchase_qualified then 'qualified' else 'unqualified' end as direction,
        causes.rule_id as crossing_rule_id,
        causes.source_id as crossing_source_id,
        coalesce(changes.score_before, 0) as score_before,
        changes.repurchase_score,
        changes.repurchase_threshold,
        term_digests.inputs_digest as _inputs_digest,
        run_values.fingerprint as _settings_fingerprint,
        (select as_of from as_of) as _computed_as_of
    from changes
    inner join term_digests
        on changes.account_id = term_digests.account_id
        and changes.rulebook_id = term_digests.rulebook_id
    left join causes
        on changes.account_id = causes.account_id
        and changes.rulebook_id = causes.rulebook_id
        and changes.scored_at = causes.starts_at
    {{ run_values(fingerprint) }}
    where changes.is_repurchase_qualified <> coalesce(changes.was_qualified, false)
)

select * from final
{{ tombstone_rows('scope', 'term_digests', ['account_id', 'rulebook_id']) }}
