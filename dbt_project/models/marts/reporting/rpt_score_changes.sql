{#- What the last build moved: each person and rulebook whose score or MQL flag differs from the
    previous successful build's (ops.*_before_build, kept by the dbt hooks), people scored for the
    first time and people no longer scored. Empty after a first build, which has nothing to
    compare with. A change comes from the rules (rulebook_changed), new data, or a later as_of. -#}

with

before as (
    select person_id, rulebook_id, is_champion, total_score, is_mql, as_of
    from {{ source('previous_build', 'scores_before_build') }}
),

after as (
    select person_id, rulebook_id, is_champion, total_score, is_mql, as_of
    from {{ ref('fct_lead_scores') }}
),

compared as (
    select
        coalesce(after.person_id, before.person_id) as person_id,
        coalesce(after.rulebook_id, before.rulebook_id) as rulebook_id,
        coalesce(after.is_champion, before.is_champion) as is_champion,
        case
            when before.person_id is null then 'new'
            when after.person_id is null then 'gone'
            else 'changed'
        end as change_kind,
        -- fct_lead_scores' type: before a first build the ops table is empty, of dbt's default numeric
        cast(before.total_score as decimal(38, 12)) as score_before,
        after.total_score as score_after,
        coalesce(after.total_score, 0) - coalesce(before.total_score, 0) as score_change,
        coalesce(before.is_mql, false) as was_mql,
        coalesce(after.is_mql, false) as is_mql,
        before.as_of as as_of_before,
        after.as_of as as_of_after
    from after
    full outer join before
        on after.person_id = before.person_id
        and after.rulebook_id = before.rulebook_id
)

select
    compared.person_id,
    compared.rulebook_id,
    compared.is_champion,
    compared.change_kind,
    compared.score_before,
    compared.score_after,
    compared.score_change,
    compared.was_mql,
    compared.is_mql,
    case
        when compared.is_mql and not compared.was_mql then 'gained'
        when compared.was_mql and not compared.is_mql then 'lost'
    end as mql_change,
    coalesce(rulebooks.rulebook_changed, true) as rulebook_changed,
    compared.as_of_before,
    compared.as_of_after
from compared
left join {{ ref('int_rulebook_changes') }} as rulebooks
    on compared.rulebook_id = rulebooks.rulebook_id
where exists (select 1 from before)
    and (
        compared.change_kind <> 'changed'
        or compared.score_before <> compared.score_after
        or compared.was_mql <> compared.is_mql
    )
