{#- What the last build moved, per rule: for each rulebook and rule, how many people's points from
    it changed against the previous build (ops.rule_points_before_build), by how much in total,
    and how many of those people gained or lost MQL in the same build (rpt_score_changes). Empty
    after a first build. -#}

with

before as (
    select person_id, rulebook_id, rule_id, points
    from {{ source('previous_build', 'rule_points_before_build') }}
),

after as (
    select person_id, rulebook_id, rule_id, min(description) as description, sum(points_as_of) as points
    from {{ ref('fct_score_ledger') }}
    group by person_id, rulebook_id, rule_id
),

per_person as (
    select
        coalesce(after.person_id, before.person_id) as person_id,
        coalesce(after.rulebook_id, before.rulebook_id) as rulebook_id,
        coalesce(after.rule_id, before.rule_id) as rule_id,
        coalesce(after.points, 0) - coalesce(before.points, 0) as points_change
    from after
    -- The lint takes the `exists (select 1 from before)` below for a second alias of it.
    full outer join before  -- noqa: AL04
        on after.person_id = before.person_id
        and after.rulebook_id = before.rulebook_id
        and after.rule_id = before.rule_id
    where exists (select 1 from before)
),

moved as (
    select * from per_person where points_change <> 0
),

-- Read from this build's ledger sums: the ledger is the largest table, read once.
rule_names as (
    select rulebook_id, rule_id, min(description) as rule_description
    from after
    group by rulebook_id, rule_id
)

select
    moved.rulebook_id,
    moved.rule_id,
    rule_names.rule_description,
    coalesce(rulebooks.rulebook_changed, true) as rulebook_changed,
    count(*) as people_moved,
    sum(moved.points_change) as points_change,
    sum(case when moved.points_change > 0 then 1 else 0 end) as people_up,
    sum(case when moved.points_change < 0 then 1 else 0 end) as people_down,
    sum(case when changes.mql_change = 'gained' then 1 else 0 end) as mqls_gained,
    sum(case when changes.mql_change = 'lost' then 1 else 0 end) as mqls_lost
from moved
left join rule_names
    on moved.rulebook_id = rule_names.rulebook_id
    and moved.rule_id = rule_names.rule_id
left join {{ ref('int_rulebook_changes') }} as rulebooks
    on moved.rulebook_id = rulebooks.rulebook_id
left join {{ ref('rpt_score_changes') }} as changes
    on moved.person_id = changes.person_id
    and moved.rulebook_id = changes.rulebook_id
group by moved.rulebook_id, moved.rule_id, rule_names.rule_description, rulebooks.rulebook_changed
