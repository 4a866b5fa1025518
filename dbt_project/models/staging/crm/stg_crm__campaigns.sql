with

source as (
    select * from {{ source('crm', 'campaigns') }}
),

-- A record appears once per export that contains it: keep its latest version.
latest as (
    {{ latest_version('source', 'campaign_id', 'last_modified_at') }}
),

renamed as (
    select
        campaign_id as campaign_id,
        {{ clean_text('campaign_name') }} as campaign_name,
        {{ clean_text('campaign_type') }} as campaign_type,
        {{ clean_text('status') }} as campaign_status,
        parent_campaign_id as parent_campaign_id,
        {{ to_date('start_date') }} as start_date,
        {{ to_date('end_date') }} as end_date,
        {{ to_boolean('is_active') }} as is_active,
        {{ clean_text('product_line') }} as product_line,
        owner_id as owner_id,
        {{ to_boolean('is_deleted') }} as is_deleted,
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('last_modified_at') }} as last_modified_at,
        custom_fields as custom_fields,
        {{ load_metadata() }}
    from latest
)

select * from renamed
