with

source as (
    select * from {{ source('forms', 'submissions') }}
),

-- A submission re-delivered in a later file keeps its latest delivery.
latest as (
    {{ latest_version('source', 'submission_id') }}
),

countries as (
    {{ country_lookup() }}
),

renamed as (
    select
        latest.submission_id as submission_id,
        {{ to_utc_timestamp('latest.submitted_at') }} as submitted_at,
        {{ clean_text('latest.form_name') }} as form_name,
        {{ clean_text('latest.page_url') }} as page_url,
        {{ url_path('latest.page_url') }} as page_path,
        nullif(nullif(trim(latest.visitor_id), '-'), '') as visitor_id,
        {{ normalize_email('latest.email') }} as email,
        {{ email_domain(normalize_email('latest.email')) }} as email_domain,
        {{ clean_text('latest.first_name') }} as first_name,
        {{ clean_text('latest.last_name') }} as last_name,
        {{ clean_text('latest.company') }} as company_name,
        {{ clean_text('latest.job_title') }} as job_title,
        countries.country_code as country_code,
        {{ clean_text('latest.country') }} as country_raw,
        {{ clean_text('latest.phone') }} as phone,
        latest.custom_fields as custom_fields,
        {{ load_metadata('latest') }}
    from latest
    left join countries
        on {{ country_key('latest.country') }} = countries.country_key
)

select * from renamed
