{#- A customer account's repurchase score at given instants, the one way it is computed
    (int_repurchase_crossings, fct_account_repurchase_scores, fct_account_repurchase_snapshots):
    `instants` is a relation of distinct (account_id, rulebook_id, scored_at); each gets the
    terms of int_repurchase_score_events live at scored_at, read by term_share_at, as
    cycle_points (purchase_cycle rules) and signal_points (activity and new_person rules), and
    repurchase_score, their sum within the rulebook's repurchase bounds (seed score_bounds),
    with is_repurchase_qualified against the rulebook's repurchase_threshold. -#}
{% macro repurchase_scores_at(instants) -%}
    select
        points.account_id,
        points.rulebook_id,
        points.scored_at,
        points.cycle_points,
        points.signal_points,
        {{ bounded_points('points.cycle_points + points.signal_points', 'repurchase_bounds') }} as repurchase_score,
        rulebooks.repurchase_threshold,
        coalesce({{ bounded_points('points.cycle_points + points.signal_points', 'repurchase_bounds') }}
            >= rulebooks.repurchase_threshold, false) as is_repurchase_qualified
    from (
        select
            instants.account_id,
            instants.rulebook_id,
            instants.scored_at,
            -- Exact decimals, so the sums do not depend on row order (as in the ledger).
            coalesce(sum(case when terms.source_type = 'purchase_cycle' then cast(
                terms.term_points * {{ term_share_at('terms', 'instants.scored_at') }} as {{ points_type() }}) end), 0)
                as cycle_points,
            coalesce(sum(case when terms.source_type <> 'purchase_cycle' then cast(
                terms.term_points * {{ term_share_at('terms', 'instants.scored_at') }} as {{ points_type() }}) end), 0)
                as signal_points
        from {{ instants }} as instants
        left join {{ ref('int_repurchase_score_events') }} as terms
            on instants.account_id = terms.account_id
            and instants.rulebook_id = terms.rulebook_id
            and terms.starts_at <= instants.scored_at
            and (terms.ends_at is null or terms.ends_at > instants.scored_at)
        group by instants.account_id, instants.rulebook_id, instants.scored_at
    ) as points
    inner join {{ ref('rulebooks') }} as rulebooks
        on points.rulebook_id = rulebooks.rulebook_id
    left join {{ ref('score_bounds') }} as repurchase_bounds
        on points.rulebook_id = repurchase_bounds.rulebook_id
        and repurchase_bounds.component = 'repurchase'
{%- endmacro %}
