with

source as (
    select * from {{ source('crm', 'opportunity_contact_roles') }}
),

-- A record appears once per export that contains it: keep its latest version.
latest as (
    {{ latest_version('source', 'opportunity_contact_role_id', 'last_modified_at') }}
),

renamed as (
    select
        opportunity_contact_role_id as opportunity_contact_role_id,
        opportunity_id as opportunity_id,
        contact_id as contact_id,
        {{ clean_text('role') }} as contact_role,
        {{ to_boolean('is_primary') }} as is_primary,
        {{ to_boolean('is_deleted') }} as is_deleted,
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('last_modified_at') }} as last_modified_at,
        custom_fields as custom_fields,
        {{ load_metadata() }}
    from latest
)

select * from renamed
