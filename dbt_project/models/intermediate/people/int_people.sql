{#- One row per CRM person record (every lead and every contact) with the person it belongs to,
    its account, and the normalised attributes scoring rules test: seniority and role from the
    title, industry, revenue and size bands, country flags, data-quality flags, a completeness
    share and the self-reported qualification fields. A lead's own firmographics win over its
    account's; the account fills the gaps. -#}

with

people as (
    select * from {{ ref('int_people_unioned') }}
),

stitched as (
    select * from {{ ref('int_people_stitched') }}
),

matched_accounts as (
    select * from {{ ref('int_people_accounts_matched') }}
),

titles as (
    select * from {{ ref('int_job_titles_classified') }}
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

countries as (
    select * from {{ ref('countries') }}
),

mail_domains as (
    select * from {{ ref('free_mail_domains') }}
),

placeholders as (
    {{ placeholder_words('any') }}
),

-- The firmographics of the person or, failing that, of their account.
enriched as (
    select
        people.*,
        stitched.person_id,
        stitched.is_master,
        stitched.person_record_count,
        matched_accounts.account_id,
        matched_accounts.account_match_method,
        accounts.account_name,
        accounts.account_type,
        coalesce(people.company_name, accounts.account_name) as company_name_or_account,
        coalesce(people.industry, accounts.industry) as industry_entered,
        coalesce(people.annual_revenue, accounts.annual_revenue) as annual_revenue_or_account,
        coalesce(people.number_of_employees, accounts.number_of_employees) as employees_or_account,
        coalesce(people.city, accounts.city) as city_or_account,
        coalesce(people.country_code, accounts.country_code) as country_code_or_account
    from people
    inner join stitched
        on people.crm_id = stitched.crm_id
    inner join matched_accounts
        on people.crm_id = matched_accounts.crm_id
    left join accounts
        on matched_accounts.account_id = accounts.account_id
),

industry_rules as (
    select * from {{ ref('industry_aliases') }}
),

industries as (
    select distinct
        industry_entered,
        {{ normalize_words('industry_entered') }} as industry_key
    from enriched
    where industry_entered is not null
),

industry_matches as (
    select
        industries.industry_entered,
        industry_rules.industry,
        row_number() over (
            partition by industries.industry_entered
            order by industry_rules.priority
        ) as match_rank
    from industries
    inner join industry_rules
        on {{ regex_matches('industries.industry_key', 'industry_rules.pattern', case_insensitive=true) }}
),

competitors as (
    select
        product_name,
        {{ normalize_words('product_name') }} as product_key
    from {{ ref('competitor_products') }}
),

solutions as (
    select distinct
        current_solution,
        {{ normalize_words('current_solution') }} as solution_key
    from enriched
    where current_solution is not null
),

-- A current solution names a competitor when the product's name appears in it as whole words
-- ("Tableau + Excel", "power bi").
competitor_solutions as (
    select
        solutions.current_solution,
        min(competitors.product_name) as competitor_product
    from solutions
    inner join competitors
        on ' ' || solutions.solution_key || ' ' like '% ' || competitors.product_key || ' %'
    group by solutions.current_solution
),

flagged as (
    select
        enriched.*,
        coalesce(titles.seniority, 'unknown') as seniority,
        coalesce(titles.job_role, 'other') as job_role,
        case
            when enriched.industry_entered is not null
                then coalesce(industry_matches.industry, 'other')
        end as industry_normalized,
        countries.is_served as is_served_country,
        countries.is_english_speaking as is_english_speaking_country,
        mail_domains.kind as email_domain_kind,
        competitor_solutions.competitor_product
    from enriched
    left join titles
        on enriched.title_normalized = titles.title_normalized
    left join industry_matches
        on enriched.industry_entered = industry_matches.industry_entered
        and industry_matches.match_rank = 1
    left join countries
        on enriched.country_code_or_account = countries.iso2
    left join mail_domains
        on enriched.email_domain = mail_domains.domain
    left join competitor_solutions
        on enriched.current_solution = competitor_solutions.current_solution
),

final as (
    select
        crm_id,
        person_type,
        person_id,
        is_master,
        person_record_count,
        account_id,
        account_match_method,
        account_name,
        email,
        email_domain,
        email_domain_kind,
        first_name,
        last_name,
        title,
        title_normalized,
        seniority,
        job_role,
        company_name_or_account as company_name,
        industry_normalized as industry,
        industry_entered as industry_raw,
        annual_revenue_or_account as annual_revenue,
        case
            when annual_revenue_or_account <= 0 then null
            when annual_revenue_or_account < 100000000 then 'under_100m'
            when annual_revenue_or_account < 500000000 then '100m_to_499m'
            when annual_revenue_or_account >= 500000000 then '500m_plus'
        end as revenue_band,
        employees_or_account as number_of_employees,
        case
            when employees_or_account < 1 then null
            when employees_or_account < 50 then '1-49'
            when employees_or_account < 200 then '50-199'
            when employees_or_account < 1000 then '200-999'
            when employees_or_account < 5000 then '1000-4999'
            when employees_or_account >= 5000 then '5000+'
        end as employee_band,
        phone,
        city_or_account as city,
        country_code_or_account as country_code,
        is_served_country,
        is_english_speaking_country,
        case when country_code_or_account is not null then country_code_or_account = 'US' end as is_us,
        lead_source,
        lead_status,
        unqualified_reason,
        owner_id,
        has_opted_out_of_email,
        do_not_call,
        is_converted,
        converted_contact_id,
        coalesce(lower(account_type) like 'customer%', false) as is_customer,
        email_domain_kind is not null as is_free_mail,
        coalesce({{ regex_matches("coalesce(first_name, '') || ' ' || coalesce(last_name, '')", "'[0-9]'") }}, false)
            as name_has_digits,
        is_isp_company,
        isp_provider_name,
        -- Twelve key fields; a placeholder ("n/a", "test", "x") does not count as filled in.
        round((
            case when email is not null then 1 else 0 end
            + case when {{ normalize_words('first_name') }} not in (select value from placeholders) then 1 else 0 end
            + case when {{ normalize_words('last_name') }} not in (select value from placeholders) then 1 else 0 end
            + case when title_normalized not in (select value from placeholders) then 1 else 0 end
            + case when company_name_or_account is not null then 1 else 0 end
            + case when phone is not null then 1 else 0 end
            + case when country_code_or_account is not null then 1 else 0 end
            + case when industry_normalized is not null then 1 else 0 end
            + case when coalesce(annual_revenue_or_account, employees_or_account) is not null then 1 else 0 end
            + case when city_or_account is not null then 1 else 0 end
            + case when lead_source is not null then 1 else 0 end
            + case when owner_id is not null then 1 else 0 end
        ) / 12.0, 4) as data_completeness,
        purchase_timeline,
        purchase_timeline_months,
        is_decision_maker,
        budget_confirmed,
        current_solution,
        competitor_product is not null as uses_competitor_product,
        competitor_product,
        product_interest,
        custom_fields,
        created_at,
        -- A person exists from their first record on (a lead converted later keeps its history).
        min(created_at) over (partition by person_id) as person_created_at,
        is_deleted
    from flagged
)

select * from final
