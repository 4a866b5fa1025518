{#- Manual score adjustments in effect at as_of, on the person (master record) they name, one row
    per adjustment and rulebook (an adjustment without a rulebook applies to every rulebook).
    Adjustments naming an unknown person or rulebook stay here with the problem, so none is
    silently lost; the ledger applies only the others. -#}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

adjustments as (
    select * from {{ ref('stg_adjustments__score_adjustments') }}
    where adjusted_at <= (select as_of from as_of)
),

people as (
    select crm_id, person_id from {{ ref('int_people') }}
),

rulebooks as (
    select rulebook_id from {{ ref('rulebooks') }}
),

final as (
    select
        adjustments.adjustment_id as adjustment_id,
        people.person_id as person_id,
        adjustments.crm_id as crm_id,
        coalesce(rulebooks.rulebook_id, adjustments.rulebook_id) as rulebook_id,
        adjustments.adjustment_type as adjustment_type,
        adjustments.points as points,
        adjustments.score as score,
        adjustments.reason as reason,
        adjustments.author as author,
        adjustments.adjusted_at as adjusted_at,
        case
            when people.person_id is null then 'unknown person ' || adjustments.crm_id
            when rulebooks.rulebook_id is null then 'unknown rulebook ' || adjustments.rulebook_id
        end as problem,
        adjustments._source_file as _source_file,
        adjustments._source_line as _source_line
    from adjustments
    left join people
        on adjustments.crm_id = people.crm_id
    left join rulebooks
        on adjustments.rulebook_id is null
        or adjustments.rulebook_id = rulebooks.rulebook_id
)

select * from final
