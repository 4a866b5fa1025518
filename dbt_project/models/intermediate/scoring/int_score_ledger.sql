{#- The points ledger: every point of every score, traceable to a rule and an event. A score is
    exactly the sum of its rows' points_as_of: rule points after the per-period cap, decay as of
    as_of and the component weight; recycle resets; manual adjustments; and rows that apply the
    component and total caps and floors.
    One row per (person, rulebook, rule, activity or attribute, recycle, adjustment, bound).
    It values the terms of int_score_events at as_of; the score timeline evaluates the same terms
    at every instant, and a test holds the two equal. fct_score_ledger publishes it with as_of.

    Incremental per person and rulebook: a run recomputes the keys whose score events were
    rewritten since the previous run (their _built_at stamp), and, when as_of moved forward,
    those whose points as of as_of moved with it: a decaying (linear or exponential) term in
    force, or a term starting or ending in between. Every key after a settings change or when
    as_of moved back. See macros/incremental/keyed_rewrites.sql; Spark rebuilds it in full. -#}

{{ keyed_rewrite_config(['person_id', 'rulebook_id']) }}

{%- set fingerprint = settings_fingerprint(['score_bounds'], {}) %}

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
            and (
                (events.term_kind in ('linear', 'exponential')
                    and events.starts_at <= as_of.as_of
                    and (events.ends_at is null or events.ends_at > previous_run.previous_as_of))
                or (events.starts_at > previous_run.previous_as_of and events.starts_at <= as_of.as_of)
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
-- model).
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
        events.recycle_epoch
    from events
    where events.term_kind in ('constant', 'linear', 'exponential')
        and events.source_type <> 'adjustment'
    group by
        events.person_id, events.rulebook_id, events.rule_id, events.source_type, events.source_id,
        events.component, events.category, events.description, events.activity_type, events.product_line,
        events.event_at, events.points, events.points_after_cap, events.weight, events.absolute_epoch,
        events.recycle_epoch
),

valued as (
    select
        person_id, rulebook_id, rule_id, component, category, description, source_type, activity_id,
        activity_type, product_line, event_at, points, points_after_cap, decay_factor, weight, points_as_of
    from rule_rows
),

{#- Recycling (the guide: a recycled lead's behavior score goes back to zero, or to a share of
    what it was). Each recycle keeps recycle_reset_fraction of the engagement earned before it;
    a row earned before n recycles keeps fraction^n. The reset row of the k-th recycle after an
    activity takes away that activity's value * fraction^(k-1) * (1 - fraction). Points earned up
    to the latest absolute adjustment are replaced by the score it sets, so recycles do not
    reset them. -#}
recycles as (
    select person_id, rulebook_id, source_id as recycle_id, event_at as recycled_at, description,
        term_factor as reset_fraction, recycle_epoch as recycle_number
    from events
    where term_kind = 'recycle'
),

absolutes as (
    select
        person_id, rulebook_id, source_id as adjustment_id, event_at as adjusted_at, description,
        term_points as score, absolute_epoch,
        count(*) over (partition by person_id, rulebook_id) as absolutes
    from events
    where term_kind = 'absolute'
),

latest_absolute as (
    select * from absolutes where absolute_epoch = absolutes - 1
),

resettable as (
    select rule_rows.*
    from rule_rows
    left join latest_absolute
        on rule_rows.person_id = latest_absolute.person_id
        and rule_rows.rulebook_id = latest_absolute.rulebook_id
    where rule_rows.component = 'engagement'
        and rule_rows.source_type in ('activity', 'inactivity')
        and rule_rows.absolute_epoch = coalesce(latest_absolute.absolutes, 0)
),

reset_sums as (
    select
        recycles.person_id as person_id,
        recycles.rulebook_id as rulebook_id,
        recycles.recycle_id as recycle_id,
        sum(cast(
            resettable.points_as_of
            * power(recycles.reset_fraction, recycles.recycle_number - resettable.recycle_epoch - 1)
            * (recycles.reset_fraction - 1)
            as {{ points_type() }}
        )) as points_as_of
    from resettable
    inner join recycles
        on resettable.person_id = recycles.person_id
        and resettable.rulebook_id = recycles.rulebook_id
        and recycles.recycle_number > resettable.recycle_epoch
    group by recycles.person_id, recycles.rulebook_id, recycles.recycle_id
),

recycle_rows as (
    select
        recycles.person_id as person_id,
        recycles.rulebook_id as rulebook_id,
        'RECYCLE-RESET' as rule_id,
        'engagement' as component,
        'recycle' as category,
        recycles.description as description,
        'recycle' as source_type,
        recycles.recycle_id as activity_id,
        'recycle' as activity_type,
        cast(null as {{ dbt.type_string() }}) as product_line,
        recycles.recycled_at as event_at,
        cast(0 as {{ type_double() }}) as points,
        cast(0 as {{ type_double() }}) as points_after_cap,
        cast(1 as {{ type_double() }}) as decay_factor,
        cast(1 as {{ type_double() }}) as weight,
        cast(coalesce(reset_sums.points_as_of, 0) as {{ points_type() }}) as points_as_of
    from recycles
    left join reset_sums
        on recycles.person_id = reset_sums.person_id
        and recycles.rulebook_id = reset_sums.rulebook_id
        and recycles.recycle_id = reset_sums.recycle_id
),

with_resets as {{ inline_cte() }} (
    select * from valued
    union all
    select * from recycle_rows
),

{#- Manual adjustments, on top of everything and never decayed or reset. A delta adds its
    points. The latest absolute adjustment sets the score at its time: it replaces every point
    earned up to then (earlier adjustments included), and later points add to it. -#}
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
        cast(term_points as {{ points_type() }}) as points_as_of
    from events
    where source_type = 'adjustment'
        and term_kind = 'constant'
),

before_absolute as (
    select latest_absolute.adjustment_id, latest_absolute.rulebook_id, sum(earlier.points_as_of) as points_as_of
    from latest_absolute
    inner join (
        select person_id, rulebook_id, event_at, points_as_of from with_resets
        union all
        select person_id, rulebook_id, event_at, points_as_of from delta_rows
    ) as earlier
        on latest_absolute.person_id = earlier.person_id
        and latest_absolute.rulebook_id = earlier.rulebook_id
        and earlier.event_at <= latest_absolute.adjusted_at
    group by latest_absolute.adjustment_id, latest_absolute.rulebook_id
),

absolute_rows as (
    select
        absolutes.person_id as person_id,
        absolutes.rulebook_id as rulebook_id,
        'ADJUST-SCORE' as rule_id,
        'adjustment' as component,
        'adjustment' as category,
        case when absolutes.absolute_epoch = absolutes.absolutes - 1
            then absolutes.description
            else replace(absolutes.description, 'Score set by ', 'Score set (replaced by a later one) by ')
        end as description,
        'adjustment' as source_type,
        absolutes.adjustment_id as activity_id,
        'manual_adjustment' as activity_type,
        cast(null as {{ dbt.type_string() }}) as product_line,
        absolutes.adjusted_at as event_at,
        absolutes.score as points,
        absolutes.score as points_after_cap,
        cast(1 as {{ type_double() }}) as decay_factor,
        cast(1 as {{ type_double() }}) as weight,
        case when absolutes.absolute_epoch = absolutes.absolutes - 1
            then cast(absolutes.score as {{ points_type() }}) - coalesce(before_absolute.points_as_of, 0)
            else cast(0 as {{ points_type() }})
        end as points_as_of
    from absolutes
    left join before_absolute
        on absolutes.adjustment_id = before_absolute.adjustment_id
        and absolutes.rulebook_id = before_absolute.rulebook_id
),

scored_rows as {{ inline_cte() }} (
    select * from with_resets
    union all
    select * from delta_rows
    union all
    select * from absolute_rows
),

{#- Component caps and floors. A cap does not apply when the person triggered one of the rules
    named in cap_unless_rule_ids (the guide's "capped unless a criterion is met"). -#}
bounds as (
    select * from {{ ref('score_bounds') }}
),

component_sums as (
    select person_id, rulebook_id, component, sum(points_as_of) as points_as_of
    from scored_rows
    group by person_id, rulebook_id, component
),

cap_waivers as (
    {{ cap_waivers('scored_rows', 'event_at') }}
),

-- The bound rows take each component from its sum to its bounded value (bounded_points, as the
-- score timeline bounds it).
component_bound_rows as (
    select
        component_sums.person_id as person_id,
        component_sums.rulebook_id as rulebook_id,
        component_sums.component as component,
        bounds.description as description,
        component_sums.points_as_of as raw_points,
        {{ bounded_points('component_sums.points_as_of', 'bounds', 'cap_waivers.waived_from is not null') }}
            as bounded_points
    from component_sums
    inner join bounds
        on component_sums.rulebook_id = bounds.rulebook_id
        and component_sums.component = bounds.component
    left join cap_waivers
        on component_sums.person_id = cap_waivers.person_id
        and component_sums.rulebook_id = cap_waivers.rulebook_id
        and component_sums.component = cap_waivers.component
),

bounded_components as (
    select
        person_id,
        rulebook_id,
        case when bounded_points < raw_points then 'CAP-' else 'FLOOR-' end || upper(component) as rule_id,
        component,
        'bound' as category,
        description,
        'bound' as source_type,
        bounded_points - raw_points as points_as_of
    from component_bound_rows
    where bounded_points <> raw_points
),

total_sums as (
    select person_id, rulebook_id, sum(points_as_of) as points_as_of
    from (
        select person_id, rulebook_id, points_as_of from scored_rows
        union all
        select person_id, rulebook_id, points_as_of from bounded_components
    ) as all_rows
    group by person_id, rulebook_id
),

total_bound_rows as (
    select
        total_sums.person_id as person_id,
        total_sums.rulebook_id as rulebook_id,
        'total' as component,
        bounds.description as description,
        total_sums.points_as_of as raw_points,
        {{ bounded_points('total_sums.points_as_of', 'bounds') }} as bounded_points
    from total_sums
    inner join bounds
        on total_sums.rulebook_id = bounds.rulebook_id
        and bounds.component = 'total'
),

bound_rows as (
    select * from bounded_components
    union all
    select
        person_id,
        rulebook_id,
        case when bounded_points < raw_points then 'CAP-TOTAL' else 'FLOOR-TOTAL' end,
        component,
        'bound',
        description,
        'bound',
        bounded_points - raw_points
    from total_bound_rows
    where bounded_points <> raw_points
),

ledger as (
    select
        person_id, rulebook_id, rule_id, component, category, description, source_type,
        activity_id, activity_type, product_line, event_at, points, points_after_cap, decay_factor,
        weight, points_as_of
    from scored_rows
    union all
    select
        person_id, rulebook_id, rule_id, component, category, description, source_type,
        cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}), cast(null as timestamp), cast(0 as {{ type_double() }}),
        cast(0 as {{ type_double() }}), cast(1 as {{ type_double() }}), cast(1 as {{ type_double() }}),
        cast(points_as_of as {{ points_type() }})
    from bound_rows
),

final as (
    select
        {{ dbt.hash(dbt.concat(["person_id", "'|'", "rulebook_id", "'|'", "rule_id", "'|'",
            "coalesce(activity_id, '')"])) }} as ledger_row_id,
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
        (select as_of from as_of) as _computed_as_of,
        run_values.upstream_built_at as _upstream_built_at,
        run_values.fingerprint as _settings_fingerprint
    from ledger
    {{ run_values(fingerprint, upstream='all_events') }}
)

select * from final
{{ tombstone_rows('scope', 'event_keys', ['person_id', 'rulebook_id']) }}
