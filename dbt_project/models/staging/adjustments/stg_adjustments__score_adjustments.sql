with

source as (
    select * from {{ source('adjustments', 'score_adjustments') }}
),

-- A corrected adjustment is re-sent with the same id: keep the latest delivery.
latest as (
    {{ latest_version('source', 'adjustment_id') }}
),

renamed as (
    select
        adjustment_id as adjustment_id,
        trim(crm_id) as crm_id,
        nullif(trim(rulebook_id), '') as rulebook_id,
        case when points is not null then 'delta' else 'absolute' end as adjustment_type,
        {{ to_double('points') }} as points,
        {{ to_double('score') }} as score,
        {{ clean_text('reason') }} as reason,
        {{ clean_text('author') }} as author,
        {{ to_utc_timestamp('adjusted_at') }} as adjusted_at,
        custom_fields as custom_fields,
        {{ load_metadata() }}
    from latest
)

select * from renamed
