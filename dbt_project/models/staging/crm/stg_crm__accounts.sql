with

source as (
    select * from {{ source('crm', 'accounts') }}
),

-- A record appears once per export that contains it: keep its latest version.
latest as (
    {{ latest_version('source', 'account_id', 'last_modified_at') }}
),

countries as (
    {{ country_lookup() }}
),

renamed as (
    select
        latest.account_id as account_id,
        {{ clean_text('latest.account_name') }} as account_name,
        {{ clean_text('latest.account_type') }} as account_type,
        latest.parent_account_id as parent_account_id,
        {{ clean_text('latest.website') }} as website,
        {{ normalize_domain('latest.website') }} as website_domain,
        {{ clean_text('latest.industry') }} as industry,
        {{ to_double('latest.annual_revenue') }} as annual_revenue,
        {{ to_integer('latest.number_of_employees') }} as number_of_employees,
        {{ clean_text('latest.city') }} as city,
        {{ clean_text('latest.state') }} as state,
        {{ clean_text('latest.postal_code') }} as postal_code,
        countries.country_code as country_code,
        {{ clean_text('latest.country') }} as country_raw,
        latest.owner_id as owner_id,
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
