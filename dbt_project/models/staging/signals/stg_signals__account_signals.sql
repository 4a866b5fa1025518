with

source as (
    select * from {{ source('signals', 'account_signals') }}
),

-- Providers re-send signals in later files: keep the latest delivery.
latest as (
    {{ latest_version('source', 'signal_id') }}
),

renamed as (
    select
        signal_id as signal_id,
        {{ to_utc_timestamp('observed_at') }} as observed_at,
        {{ clean_text('company_name') }} as company_name,
        {{ normalize_domain('company_domain') }} as company_domain,
        {{ clean_text('company_domain') }} as company_domain_raw,
        lower(trim(signal_type)) as signal_type,
        {{ clean_text('topic') }} as topic,
        {{ to_double('strength') }} as strength,
        {{ to_double('amount_usd') }} as amount_usd,
        lower(trim(provider)) as provider,
        custom_fields as custom_fields,
        {{ load_metadata() }}
    from latest
)

select * from renamed
