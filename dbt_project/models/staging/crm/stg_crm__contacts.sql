with

source as (
    select * from {{ source('crm', 'contacts') }}
),

-- A record appears once per export that contains it: keep its latest version.
latest as (
    {{ latest_version('source', 'contact_id', 'last_modified_at') }}
),

countries as (
    {{ country_lookup() }}
),

renamed as (
    select
        latest.contact_id as contact_id,
        latest.account_id as account_id,
        {{ clean_text('latest.first_name') }} as first_name,
        {{ clean_text('latest.last_name') }} as last_name,
        {{ normalize_email('latest.email') }} as email,
        {{ email_domain(normalize_email('latest.email')) }} as email_domain,
        {{ clean_text('latest.phone') }} as phone,
        {{ clean_text('latest.title') }} as title,
        {{ clean_text('latest.department') }} as department,
        {{ clean_text('latest.street') }} as street,
        {{ clean_text('latest.city') }} as city,
        {{ clean_text('latest.state') }} as state,
        {{ clean_text('latest.postal_code') }} as postal_code,
        countries.country_code as country_code,
        {{ clean_text('latest.country') }} as country_raw,
        {{ clean_text('latest.lead_source') }} as lead_source,
        latest.owner_id as owner_id,
        {{ to_boolean('latest.has_opted_out_of_email') }} as has_opted_out_of_email,
        {{ to_boolean('latest.do_not_call') }} as do_not_call,
        {{ to_boolean('latest.is_deleted') }} as is_deleted,
        {{ to_utc_timestamp('latest.created_at') }} as created_at,
        {{ to_utc_timestamp('latest.last_modified_at') }} as last_modified_at,
        latest.custom_fields as custom_fields,
        {{ load_metadata('latest') }}
    from latest
    left join countries
        on {{ country_key('latest.country') }} = countries.country_key
)

select * from renamed
