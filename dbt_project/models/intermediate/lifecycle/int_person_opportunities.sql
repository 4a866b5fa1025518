{#- Each opportunity with the people it belongs to: its contacts (opportunity contact roles) and
    the lead converted into it. -#}

with

people as (
    select crm_id, person_id from {{ ref('int_people') }}
),

links as (
    select roles.opportunity_id, people.person_id
    from {{ ref('stg_crm__opportunity_contact_roles') }} as roles
    inner join people
        on roles.contact_id = people.crm_id
    where not roles.is_deleted
    union
    select leads.converted_opportunity_id, people.person_id
    from {{ ref('stg_crm__leads') }} as leads
    inner join people
        on leads.lead_id = people.crm_id
    where leads.converted_opportunity_id is not null
),

final as (
    select
        links.person_id as person_id,
        opportunities.opportunity_id as opportunity_id,
        opportunities.opportunity_name as opportunity_name,
        opportunities.owner_id as owner_id,
        opportunities.amount as amount,
        opportunities.created_at as created_at,
        opportunities.is_closed as is_closed,
        opportunities.is_won as is_won,
        -- Closed deals carry a close date only; a deal never closes before it was opened.
        case when opportunities.is_closed then greatest(
            cast(opportunities.close_date as timestamp), opportunities.created_at
        ) end as closed_at
    from links
    inner join {{ ref('stg_crm__opportunities') }} as opportunities
        on links.opportunity_id = opportunities.opportunity_id
    where not opportunities.is_deleted
)

select * from final
