with

source as (
    select * from {{ source('crm', 'leads') }}
),

-- A record appears once per export that contains it: keep its latest version.
latest as (
    {{ latest_version('source', 'lead_id', 'last_modified_at') }}
),

countries as (
    {{ country_lookup() }}
),

renamed as (
    select
        latest.lead_id as lead_id,
        {{ clean_text('latest.first_name') }} as first_name,
        {{ clean_text('latest.last_name') }} as last_name,
        {{ normalize_email('latest.email') }} as email,
        {{ email_domain(normalize_email('latest.email')) }} as email_domain,
        {{ clean_text('latest.phone') }} as phone,
        {{ clean_text('latest.title') }} as title,
        {{ clean_text('latest.company') }} as company_name,
        {{ clean_text('latest.website') }} as website,
        {{ normalize_domain('latest.website') }} as website_domain,
        {{ clean_text('latest.industry') }} as industry,
        {{ to_double('latest.annual_revenue') }} as annual_revenue,
        {{ to_integer('latest.number_of_employees') }} as number_of_employees,
        {{ clean_text('latest.street') }} as street,
        {{ clean_text('latest.city') }} as city,
        {{ clean_text('latest.state') }} as state,
        {{ clean_text('latest.postal_code') }} as postal_code,
        countries.country_code as country_code,
        {{ clean_text('latest.country') }} as country_raw,
        {{ clean_text('latest.lead_source') }} as lead_source,
        {{ clean_text('latest.status') }} as lead_status,
        {{ clean_text('latest.rating') }} as rating,
        {{ clean_text('latest.unqualified_reason') }} as unqualified_reason,
        latest.owner_id as owner_id,
        {{ to_boolean('latest.is_converted') }} as is_converted,
        {{ to_date('latest.converted_date') }} as converted_date,
        latest.converted_account_id as converted_account_id,
        latest.converted_contact_id as converted_contact_id,
        latest.converted_opportunity_id as converted_opportunity_id,
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
