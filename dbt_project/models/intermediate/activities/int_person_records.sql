{#- One row per CRM person record (lead or contact) and the real person it belongs to (int_people
    resolves duplicates and conversions), so CRM activities that name a record (task who_id,
    campaign member lead or contact) land on the person. -#}

with

people as (
    select crm_id, person_id, email from {{ ref('int_people') }}
),

final as (
    select
        crm_id,
        person_id,
        email
    from people
)

select * from final
