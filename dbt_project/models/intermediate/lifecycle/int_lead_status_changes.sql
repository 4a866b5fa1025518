{#- Every change of a lead's CRM status, on the person the lead belongs to, with what the old and
    new statuses mean for the lifecycle (seed crm_lead_statuses). A change into a recycled status
    from any other is a recycle: the person goes back to nurturing. -#}

with

history as (
    select * from {{ ref('stg_crm__lead_history') }}
    where not is_deleted
        and lower(field_name) in {{ lower_literals(var('crm_lead_status_fields')) }}
),

people as (
    select crm_id, person_id from {{ ref('int_people') }}
),

{#- Statuses match whatever their case and separators: IN_PROGRESS is "In Progress". -#}
statuses as (
    select
        {{ status_key('crm_status') }} as status_key,
        status_category
    from {{ ref('crm_lead_statuses') }}
),

changes as (
    select
        history.lead_history_id as status_change_id,
        people.person_id as person_id,
        history.lead_id as crm_id,
        history.changed_at as changed_at,
        history.changed_by_user_id as changed_by_user_id,
        history.old_value as old_status,
        history.new_value as new_status,
        old_statuses.status_category as old_status_category,
        new_statuses.status_category as new_status_category
    from history
    inner join people
        on history.lead_id = people.crm_id
    left join statuses as old_statuses
        on {{ status_key('history.old_value') }} = old_statuses.status_key
    left join statuses as new_statuses
        on {{ status_key('history.new_value') }} = new_statuses.status_key
),

final as (
    select
        *,
        new_status_category = 'recycled' and coalesce(old_status_category, '') <> 'recycled' as is_recycle
    from changes
)

select * from final
