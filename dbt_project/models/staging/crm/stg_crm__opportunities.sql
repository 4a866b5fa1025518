with

source as (
    select * from {{ source('crm', 'opportunities') }}
),

-- A record appears once per export that contains it: keep its latest version.
latest as (
    {{ latest_version('source', 'opportunity_id', 'last_modified_at') }}
),

renamed as (
    select
        opportunity_id as opportunity_id,
        account_id as account_id,
        {{ clean_text('opportunity_name') }} as opportunity_name,
        {{ clean_text('stage_name') }} as stage_name,
        {{ to_double('amount') }} as amount,
        {{ to_double('probability') }} as probability,
        {{ to_date('close_date') }} as close_date,
        {{ clean_text('opportunity_type') }} as opportunity_type,
        {{ clean_text('lead_source') }} as lead_source,
        {{ to_boolean('is_closed') }} as is_closed,
        {{ to_boolean('is_won') }} as is_won,
        campaign_id as campaign_id,
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
