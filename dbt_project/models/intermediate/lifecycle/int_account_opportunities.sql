{#- Every CRM opportunity (deleted ones left out) with the account it is with and whether a person
    is linked to it (int_person_opportunities: its contacts or the lead converted into it). Deals
    reach the people-based reports only through a person; this model keeps every deal, so deals
    of accounts without contacts, and deals without an account, still count at account level.

    The account is the opportunity's own account_id, named from the loaded accounts when found.
    closed_at is the close date of a closed deal, never before it was opened (as in
    int_person_opportunities); null while open or when the CRM gave no close date. The cycle is
    the days from creation to close, for closed deals with both dates. -#}

with

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
    where not is_deleted
),

accounts as (
    select account_id, account_name from {{ ref('stg_crm__accounts') }}
),

linked_people as (
    select opportunity_id, count(distinct person_id) as people
    from {{ ref('int_person_opportunities') }}
    group by opportunity_id
),

closed as (
    select
        opportunities.*,
        case when opportunities.is_closed and opportunities.close_date is not null then greatest(
            cast(opportunities.close_date as {{ dbt.type_timestamp() }}),
            coalesce(opportunities.created_at, cast(opportunities.close_date as {{ dbt.type_timestamp() }}))
        ) end as closed_at
    from opportunities
),

final as (
    select
        closed.opportunity_id as opportunity_id,
        closed.account_id as account_id,
        accounts.account_name as account_name,
        closed.account_id is not null as has_account,
        accounts.account_id is not null as is_account_loaded,
        closed.opportunity_name as opportunity_name,
        closed.stage_name as stage_name,
        closed.opportunity_type as opportunity_type,
        closed.product_line as product_line,
        closed.owner_id as owner_id,
        closed.amount as amount,
        closed.created_at as created_at,
        closed.close_date as close_date,
        closed.is_closed as is_closed,
        closed.is_won as is_won,
        closed.closed_at as closed_at,
        case when closed.closed_at is not null and closed.created_at is not null
            then {{ days_between('closed.created_at', 'closed.closed_at') }} end as cycle_days,
        coalesce(linked_people.people, 0) as linked_people,
        linked_people.people is not null as has_person
    from closed
    left join accounts
        on closed.account_id = accounts.account_id
    left join linked_people
        on closed.opportunity_id = linked_people.opportunity_id
)

select * from final
