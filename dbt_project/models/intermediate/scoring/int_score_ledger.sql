{#- The points ledger's rows that hold until a term starts or ends: each rule's points after the
    per-period cap, decay and weight, and the manual adjustments that add points. A row whose
    one term decays (linear or exponential) keeps that term (term_kind, term_points, starts_at,
    ...) instead of its points, and fct_score_ledger values it at as_of, so a run need not
    rewrite it when as_of moves. The rows computed from sums at as_of
    (recycle resets, scores set by hand, caps and floors) are int_score_ledger_sum_rows.
    It values the terms of int_score_events; the score timeline evaluates the same terms at
    every instant, and a test holds the two equal.

    Incremental per person and rulebook: a run recomputes the keys whose score events were
    rewritten since the previous run (their _built_at stamp), and, when as_of moved forward,
    those with a constant term (a step, a window) starting or ending in between. Every key
    after a settings change or when as_of moved back. See macros/incremental/keyed_rewrites.sql;
    Spark rebuilds it in full. -#}

{{ keyed_rewrite_config(['person_id', 'rulebook_id']) }}

{%- set fingerprint = settings_fingerprint([], {'ledger_rows': 'single decaying terms kept'}) %}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

all_events as {{ inline_cte() }} (
    select * from {{ ref('int_score_events') }}
),

{% if is_incremental() -%}
-- (Incremental runs are DuckDB's only: the CTEs read several times are materialized.)
previous_run as materialized (
    select max(_computed_as_of) as previous_as_of from {{ this }}
),

scope as materialized (
    {{ rewritten_keys('all_events', ['person_id', 'rulebook_id'], fingerprint) }}
    union
    select events.person_id, events.rulebook_id
    from all_events as events
    cross join previous_run
    cross join as_of
    where previous_run.previous_as_of is null
        or previous_run.previous_as_of > as_of.as_of
        or (
            previous_run.previous_as_of < as_of.as_of
            and events.term_kind = 'constant'
            and (
                (events.starts_at > previous_run.previous_as_of and events.starts_at <= as_of.as_of)
                or (events.ends_at > previous_run.previous_as_of and events.ends_at <= as_of.as_of)
            )
        )
),

events as materialized (
    {{ rows_in_scope('all_events', ['person_id', 'rulebook_id']) }}
),

event_keys as (
    select distinct person_id, rulebook_id from all_events
),

{% else -%}
events as (
    select * from all_events
),

{% endif -%}

-- Each rule's points as of as_of: the sum of its terms (several for a step decay profile). The
-- terms of one rule and source share everything but their share of the points, so those
-- columns are grouped on rather than aggregated (max() of text per row cost a third of the
-- model). A row of one decaying term keeps it, to be valued at any later as_of.
rule_rows as (
    select
        events.person_id,
        events.rulebook_id,
        events.rule_id,
        events.component,
        events.category,
        events.description,
        events.source_type,
        events.source_id as activity_id,
        events.activity_type,
        events.product_line,
        events.event_at,
        events.points,
        events.points_after_cap,
        sum(events.term_factor * {{ term_share_at('events', '(select as_of from as_of)') }}) as decay_factor,
        events.weight,
        cast(sum(events.term_points * {{ term_share_at('events', '(select as_of from as_of)') }}) as {{ points_type() }})
            as points_as_of,
        events.absolute_epoch,
        events.recycle_epoch,
        count(*) as terms,
        {%- for column in ['term_kind', 'term_points', 'term_factor', 'starts_at', 'ends_at', 'half_life_days',
            'lifetime_days'] %}
        max(case when events.term_kind in ('linear', 'exponential') then events.{{ column }} end) as {{ column }}
        {{- ',' if not loop.last }}
        {%- endfor %}
    from events
    where events.term_kind in ('constant', 'linear', 'exponential')
        and events.source_type <> 'adjustment'
    group by
        events.person_id, events.rulebook_id, events.rule_id, events.source_type, events.source_id,
        events.component, events.category, events.description, events.activity_type, events.product_line,
        events.event_at, events.points, events.points_after_cap, events.weight, events.absolute_epoch,
        events.recycle_epoch
),

{#- A rule row's one decaying term, kept instead of its value (which moves with as_of), or
    nothing when its points hold until a term starts or ends. A row of several terms of which one
    decays cannot be valued later: `several` (a data test rejects it; the decay profiles give a
    decaying rule one term). -#}
rule_ledger_rows as (
    select
        person_id, rulebook_id, rule_id, component, category, description, source_type, activity_id,
        activity_type, product_line, event_at, points, points_after_cap,
        case when term_kind is null or terms > 1 then decay_factor end as decay_factor,
        weight,
        case when term_kind is null or terms > 1 then points_as_of end as points_as_of,
        case when term_kind is not null and terms > 1 then 'several' else term_kind end as term_kind,
        term_points,
        term_factor,
        starts_at,
        ends_at,
        half_life_days,
        lifetime_days,
        recycle_epoch,
        absolute_epoch
    from rule_rows
),

{#- Manual adjustments that add points (deltas), never decayed or reset. Scores set by hand are
    int_score_ledger_sum_rows: their rows take the score from a sum. -#}
delta_rows as (
    select
        person_id,
        rulebook_id,
        rule_id,
        component,
        category,
        description,
        source_type,
        source_id as activity_id,
        activity_type,
        product_line,
        event_at,
        points,
        points_after_cap,
        cast(1 as {{ type_double() }}) as decay_factor,
        weight,
        cast(term_points as {{ points_type() }}) as points_as_of,
        cast(null as {{ dbt.type_string() }}) as term_kind,
        cast(null as {{ type_double() }}) as term_points,
        cast(null as {{ type_double() }}) as term_factor,
        cast(null as timestamp) as starts_at,
        cast(null as timestamp) as ends_at,
        cast(null as {{ type_double() }}) as half_life_days,
        cast(null as {{ type_double() }}) as lifetime_days,
        recycle_epoch,
        absolute_epoch
    from events
    where source_type = 'adjustment'
        and term_kind = 'constant'
),

ledger as (
    select * from rule_ledger_rows
    union all
    select * from delta_rows
),

final as (
    select
        {{ ledger_row_id() }} as ledger_row_id,
        ledger.person_id,
        ledger.rulebook_id,
        ledger.rule_id,
        ledger.component,
        ledger.category,
        ledger.description,
        ledger.source_type,
        ledger.activity_id,
        ledger.activity_type,
        ledger.product_line,
        ledger.event_at,
        ledger.points,
        ledger.points_after_cap,
        ledger.decay_factor,
        ledger.weight,
        ledger.points_as_of,
        ledger.term_kind,
        ledger.term_points,
        ledger.term_factor,
        ledger.starts_at,
        ledger.ends_at,
        ledger.half_life_days,
        ledger.lifetime_days,
        ledger.recycle_epoch,
        ledger.absolute_epoch,
        (select as_of from as_of) as _computed_as_of,
        run_values.upstream_built_at as _upstream_built_at,
        run_values.fingerprint as _settings_fingerprint
    from ledger
    {{ run_values(fingerprint, upstream='all_events') }}
)

select * from final
{{ tombstone_rows('scope', 'event_keys', ['person_id', 'rulebook_id']) }}
