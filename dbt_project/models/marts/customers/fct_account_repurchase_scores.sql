{#- Each customer account's repurchase score per rulebook at as_of (repurchase_scores_at): the
    points of its purchase cycle and of its people's signals, whether it is
    repurchase-qualified and since when (its latest crossing up), where it is in its cycle
    (fct_account_purchase_cycles), its owner, and the reasons in words (the three rules with the
    most points in fct_account_repurchase_ledger). -#}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

cycles as (
    select * from {{ ref('fct_account_purchase_cycles') }}
),

instants as (
    select cycles.account_id, rulebooks.rulebook_id, (select as_of from as_of) as scored_at
    from cycles
    cross join {{ ref('rulebooks') }} as rulebooks
),

scores as (
    {{ repurchase_scores_at('instants') }}
),

qualified_since as (
    select account_id, rulebook_id, max(crossed_at) as qualified_since
    from {{ ref('int_repurchase_crossings') }}
    where direction = 'qualified'
    group by account_id, rulebook_id
),

rule_points as (
    select account_id, rulebook_id, rule_id, min(description) as description, sum(points) as points,
        min(explanation) as explanation, count(*) as sources
    from {{ ref('fct_account_repurchase_ledger') }}
    group by account_id, rulebook_id, rule_id
),

-- "<rule> +<points> (<how>)", the purchase cycle's position or the number of hits; written like
-- a person's reasons (fct_score_reasons).
ranked_reasons as (
    select
        account_id,
        rulebook_id,
        {{ dbt.concat([
            "coalesce(description, rule_id)",
            "case when points > 0 then ' +' else ' ' end",
            "cast(cast(round(points) as " ~ dbt.type_int() ~ ") as " ~ dbt.type_string() ~ ")",
            "' ('",
            "case when sources = 1 then explanation else cast(sources as " ~ dbt.type_string() ~ ") || ' times' end",
            "')'"
        ]) }} as reason,
        row_number() over (partition by account_id, rulebook_id order by abs(points) desc, rule_id) as reason_rank
    from rule_points
    where abs(points) >= 0.5
),

reasons as (
    select
        account_id,
        rulebook_id,
        concat_ws(
            ' · '
            {%- for rank in range(1, 4) %},
            max(case when reason_rank = {{ rank }} then reason end)
            {%- endfor %}
        ) as top_reasons
    from ranked_reasons
    where reason_rank <= 3
    group by account_id, rulebook_id
),

final as (
    select
        scores.account_id,
        scores.rulebook_id,
        scores.rulebook_id = '{{ var("champion_rulebook") }}' as is_champion,
        cycles.account_name,
        cycles.owner_id,
        cycles.owner_name,
        cast(scores.repurchase_score as {{ type_double() }}) as repurchase_score,
        cast(scores.cycle_points as {{ type_double() }}) as cycle_points,
        cast(scores.signal_points as {{ type_double() }}) as signal_points,
        scores.repurchase_threshold,
        scores.is_repurchase_qualified,
        case when scores.is_repurchase_qualified then qualified_since.qualified_since end as qualified_since,
        reasons.top_reasons,
        cycles.purchases,
        cycles.last_purchase_at,
        cycles.cycle_months,
        cycles.cycle_source,
        cycles.months_since_last_purchase,
        cycles.cycle_position,
        cycles.next_purchase_due_at,
        cycles.cycle_status,
        cycles.open_opportunity_id
    from scores
    inner join cycles
        on scores.account_id = cycles.account_id
    left join qualified_since
        on scores.account_id = qualified_since.account_id
        and scores.rulebook_id = qualified_since.rulebook_id
    left join reasons
        on scores.account_id = reasons.account_id
        and scores.rulebook_id = reasons.rulebook_id
)

select * from final
