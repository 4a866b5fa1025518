with

source as (
    select * from {{ source('crm', 'lead_history') }}
),

-- A record appears once per export that contains it: keep its latest version.
latest as (
    {{ latest_version('source', 'lead_history_id', 'created_at') }}
),

renamed as (
    select
        lead_history_id as lead_history_id,
        lead_id as lead_id,
        {{ clean_text('field_name') }} as field_name,
        old_value as old_value,
        new_value as new_value,
        created_by_id as changed_by_user_id,
        {{ to_boolean('is_deleted') }} as is_deleted,
        {{ to_utc_timestamp('created_at') }} as changed_at,
        custom_fields as custom_fields,
        {{ load_metadata() }}
    from latest
)

select * from renamed
