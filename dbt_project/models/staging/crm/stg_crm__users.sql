with

source as (
    select * from {{ source('crm', 'users') }}
),

-- A record appears once per export that contains it: keep its latest version.
latest as (
    {{ latest_version('source', 'user_id', 'last_modified_at') }}
),

renamed as (
    select
        user_id as user_id,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ normalize_email('email') }} as email,
        {{ email_domain(normalize_email('email')) }} as email_domain,
        {{ clean_text('title') }} as title,
        {{ clean_text('department') }} as department,
        manager_id as manager_id,
        {{ to_boolean('is_active') }} as is_active,
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('last_modified_at') }} as last_modified_at,
        custom_fields as custom_fields,
        {{ load_metadata() }}
    from latest
)

select * from renamed
