{#- Every CRM person record, leads and contacts, in one shape: the text people type normalised
    for matching (email key, title, company key), the company typed on a lead checked against
    placeholders and internet providers, and the self-reported qualification fields read from
    the custom fields. The custom field names are Salesforce's by default; another CRM sets
    the dbt vars below. -#}

{%- set purchase_timeline_field = var('crm_field_purchase_timeline', 'Purchase_Timeline__c') -%}
{%- set decision_maker_field = var('crm_field_decision_maker', 'Decision_Maker__c') -%}
{%- set budget_confirmed_field = var('crm_field_budget_confirmed', 'Budget_Confirmed__c') -%}
{%- set current_solution_field = var('crm_field_current_solution', 'Current_Solution__c') -%}
{%- set product_interest_field = var('crm_field_product_interest', 'Product_Interest__c') %}

with

leads as (
    select * from {{ ref('stg_crm__leads') }}
),

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

placeholders as (
    {{ placeholder_words() }}
),

internet_providers as (
    select
        {{ company_name_key('company_name') }} as company_key,
        min(provider_name) as provider_name
    from {{ ref('isp_company_names') }}
    group by 1
),

lead_records as (
    select
        lead_id as crm_id,
        'lead' as person_type,
        email as email,
        email_domain as email_domain,
        first_name as first_name,
        last_name as last_name,
        title as title,
        company_name as company_name_entered,
        website_domain as website_domain,
        phone as phone,
        city as city,
        country_code as country_code,
        industry as industry,
        annual_revenue as annual_revenue,
        number_of_employees as number_of_employees,
        lead_source as lead_source,
        lead_status as lead_status,
        unqualified_reason as unqualified_reason,
        owner_id as owner_id,
        has_opted_out_of_email as has_opted_out_of_email,
        do_not_call as do_not_call,
        is_converted as is_converted,
        converted_account_id as converted_account_id,
        converted_contact_id as converted_contact_id,
        cast(null as {{ dbt.type_string() }}) as crm_account_id,
        custom_fields as custom_fields,
        created_at as created_at,
        is_deleted as is_deleted
    from leads
),

contact_records as (
    select
        contact_id as crm_id,
        'contact' as person_type,
        email as email,
        email_domain as email_domain,
        first_name as first_name,
        last_name as last_name,
        title as title,
        cast(null as {{ dbt.type_string() }}) as company_name_entered,
        cast(null as {{ dbt.type_string() }}) as website_domain,
        phone as phone,
        city as city,
        country_code as country_code,
        cast(null as {{ dbt.type_string() }}) as industry,
        cast(null as {{ type_double() }}) as annual_revenue,
        cast(null as {{ dbt.type_bigint() }}) as number_of_employees,
        lead_source as lead_source,
        cast(null as {{ dbt.type_string() }}) as lead_status,
        cast(null as {{ dbt.type_string() }}) as unqualified_reason,
        owner_id as owner_id,
        has_opted_out_of_email as has_opted_out_of_email,
        do_not_call as do_not_call,
        false as is_converted,
        cast(null as {{ dbt.type_string() }}) as converted_account_id,
        cast(null as {{ dbt.type_string() }}) as converted_contact_id,
        account_id as crm_account_id,
        custom_fields as custom_fields,
        created_at as created_at,
        is_deleted as is_deleted
    from contacts
),

records as (
    select * from lead_records
    union all
    select * from contact_records
),

-- CRMs require a company on leads, so forms fill in "[not provided]", "N/A" or "Self-employed":
-- those name no company.
with_companies as (
    select
        records.*,
        case
            when placeholders.value is null then records.company_name_entered
        end as company_name,
        {{ custom_field_text('records.custom_fields', purchase_timeline_field) }} as purchase_timeline
    from records
    left join placeholders
        on {{ normalize_words('records.company_name_entered') }} = placeholders.value
),

with_keys as (
    select
        with_companies.*,
        {{ company_name_key('with_companies.company_name') }} as company_key
    from with_companies
),

final as (
    select
        with_keys.crm_id,
        with_keys.person_type,
        with_keys.email,
        with_keys.email_domain,
        -- Plus addressing (jane+webinar@acme.com) reaches the same mailbox.
        {{ regex_replace('with_keys.email', "'\\+[^@]*@'", "'@'") }} as email_key,
        with_keys.first_name,
        with_keys.last_name,
        with_keys.title,
        {{ normalize_words('with_keys.title') }} as title_normalized,
        with_keys.company_name_entered,
        with_keys.company_name,
        with_keys.company_key,
        internet_providers.provider_name as isp_provider_name,
        -- IP enrichment names the visitor's internet provider, not their employer, unless
        -- the address is at the provider itself (jane@verizon.com at Verizon).
        case
            when internet_providers.provider_name is null then false
            when with_keys.email_domain like replace(with_keys.company_key, ' ', '') || '.%'
                or with_keys.email_domain like '%.' || replace(with_keys.company_key, ' ', '') || '.%'
                then false
            else true
        end as is_isp_company,
        with_keys.website_domain,
        with_keys.phone,
        with_keys.city,
        with_keys.country_code,
        with_keys.industry,
        with_keys.annual_revenue,
        with_keys.number_of_employees,
        with_keys.lead_source,
        with_keys.lead_status,
        with_keys.unqualified_reason,
        with_keys.owner_id,
        with_keys.has_opted_out_of_email,
        with_keys.do_not_call,
        with_keys.is_converted,
        with_keys.converted_account_id,
        with_keys.converted_contact_id,
        with_keys.crm_account_id,
        with_keys.purchase_timeline,
        {{ purchase_timeline_months('with_keys.purchase_timeline') }} as purchase_timeline_months,
        {{ to_boolean(custom_field_text('with_keys.custom_fields', decision_maker_field)) }} as is_decision_maker,
        {{ to_boolean(custom_field_text('with_keys.custom_fields', budget_confirmed_field)) }} as budget_confirmed,
        {{ custom_field_text('with_keys.custom_fields', current_solution_field) }} as current_solution,
        {{ custom_field_text('with_keys.custom_fields', product_interest_field) }} as product_interest,
        with_keys.custom_fields,
        with_keys.created_at,
        with_keys.is_deleted
    from with_keys
    left join internet_providers
        on with_keys.company_key = internet_providers.company_key
)

select * from final
