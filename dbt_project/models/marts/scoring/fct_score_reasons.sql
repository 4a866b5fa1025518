{#- Why each person has their champion score, in words: the `top_reasons` (3) rules that weigh
    most in the score at as_of, written "<rule description> +<whole points>" (or "-<points>")
    and joined with " · ", largest absolute points first, ties by rule id. One text for every
    place a person's score is explained to people: the CRM sync export and the sales call list.

    A rule's points are the sum of its ledger rows at as_of (fct_score_ledger) per description:
    a rule has one description, but manual adjustments and recycles name the event in theirs,
    and each stays a reason of its own. Rules whose points round to zero, and the rows of caps
    and floors, are left out; a person with no reason has no row. -#}

{%- set top_reasons = 3 %}

with

rule_points as (
    select
        person_id,
        rule_id,
        description,
        sum(points_as_of) as points
    from {{ ref('fct_score_ledger') }}
    -- Caps and floors explain the total, not why the person scores.
    where is_champion
        and source_type <> 'bound'
    group by person_id, rule_id, description
),

ranked_reasons as (
    select
        person_id,
        {{ dbt.concat([
            "coalesce(description, rule_id)",
            "case when points > 0 then ' +' else ' ' end",
            "cast(cast(round(points) as " ~ dbt.type_int() ~ ") as " ~ dbt.type_string() ~ ")"
        ]) }} as reason,
        row_number() over (partition by person_id order by abs(points) desc, rule_id, description asc) as reason_rank
    from rule_points
    -- Rules that move the score by at least a whole point once rounded.
    where abs(points) >= 0.5
)

-- One column per rank, joined in rank order.
select
    person_id,
    concat_ws(
        ' · '
        {%- for rank in range(1, top_reasons + 1) %},
        max(case when reason_rank = {{ rank }} then reason end)
        {%- endfor %}
    ) as top_reasons
from ranked_reasons
where reason_rank <= {{ top_reasons }}
group by person_id
