{#- Each person's conversion: the outcome every scorer is measured against (the predictive
    score's label, the backtests, rule effectiveness). One row per converted master person.

    - By default (outcome_field null), a person converts when their first opportunity is
      created, whichever of their records it is linked to.
    - With outcome_field, a person converts when a field of one of their CRM records (an
      int_people column, or custom_fields.<Name> for a column the mapping does not name) holds
      one of outcome_true_values (case and surrounding spaces ignored); converted_at is the
      earliest outcome_time_field of those records, null when there is no time field (a snapshot
      export: see snapshot_mode). -#}

-- The same dependencies whatever the vars, so the lineage Dagster loaded holds for every run:
-- depends_on: {{ ref('int_people') }}
-- depends_on: {{ ref('int_person_opportunities') }}
{%- set field = var('outcome_field') %}
{%- set time_field = var('outcome_time_field') %}

{%- if field %}

with

records as (
    select
        people.person_id,
        {{ person_field_text('people', field) }} as outcome_value,
        {%- if time_field %}
        {{ dbt.safe_cast(person_field_text("people", time_field), dbt.type_timestamp()) }} as outcome_time
        {%- else %}
        cast(null as timestamp) as outcome_time
        {%- endif %}
    from {{ ref('int_people') }} as people
),

final as (
    select
        person_id,
        min(outcome_time) as converted_at,
        '{{ field }}' as conversion_source
    from records
    where lower(trim(outcome_value)) in {{ lower_literals(var('outcome_true_values')) }}
    group by person_id
)

{%- else %}

with

final as (
    select
        person_id,
        min(created_at) as converted_at,
        'opportunity' as conversion_source
    from {{ ref('int_person_opportunities') }}
    group by person_id
)

{%- endif %}

select * from final
