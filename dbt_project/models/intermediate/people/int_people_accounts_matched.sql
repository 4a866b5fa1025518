{#- The account (company) each CRM person record belongs to, and how it was found, first
    method that finds one wins:

    1. crm_account: the contact's own account;
    2. converted_account: the account a lead was converted into;
    3. email_domain: the live account whose domain is the email's domain, or its parent domain
       (jane@eu.acme.com -> acme.com); an account's domains are its website's and, as the
       website is often left empty, the email domains of its contacts. Never for free-mail,
       disposable or placeholder domains (free_mail_domains seed), which say nothing about the
       employer;
    4. company_name: for leads, the live account whose name has the same key as the company
       typed on the lead (company_name_key: case, accents, punctuation and legal forms such
       as Inc, GmbH or S.A. ignored), unless that company is an internet provider filled in
       from the visitor's IP address.

    When several accounts qualify, an exact domain beats a parent domain, a website beats a
    contact's address, then a top-level account beats a child account, then the earliest
    created, then the smallest id. -#}

with

people as (
    select
        crm_id,
        person_type,
        email_domain,
        -- jane@eu.acme.com: eu.acme.com's parent domain is acme.com.
        {{ regex_extract('email_domain', "'^[^.]+\\.(.+\\..+)$'") }} as email_parent_domain,
        company_key,
        is_isp_company,
        crm_account_id,
        converted_account_id
    from {{ ref('int_people_unioned') }}
),

free_mail_domains as (
    select domain from {{ ref('free_mail_domains') }}
),

accounts as (
    select
        account_id,
        website_domain,
        {{ company_name_key('account_name') }} as account_name_key,
        case when parent_account_id is null then 0 else 1 end as child_rank,
        created_at
    from {{ ref('stg_crm__accounts') }}
    where not is_deleted
),

corporate_domains as (
    select
        people.crm_id,
        people.person_type,
        people.crm_account_id,
        people.email_domain,
        people.email_parent_domain
    from people
    left join free_mail_domains
        on people.email_domain = free_mail_domains.domain
    where people.email_domain is not null
        and free_mail_domains.domain is null
),

account_domains as (
    select
        account_id,
        website_domain as domain,
        0 as source_rank
    from accounts
    where website_domain is not null
    union
    select
        corporate_domains.crm_account_id as account_id,
        corporate_domains.email_domain as domain,
        1 as source_rank
    from corporate_domains
    inner join accounts
        on corporate_domains.crm_account_id = accounts.account_id
),

domain_candidates as (
    select
        corporate_domains.crm_id,
        account_domains.account_id,
        0 as domain_rank,
        account_domains.source_rank
    from corporate_domains
    inner join account_domains
        on corporate_domains.email_domain = account_domains.domain
    union all
    select
        corporate_domains.crm_id,
        account_domains.account_id,
        1 as domain_rank,
        account_domains.source_rank
    from corporate_domains
    inner join account_domains
        on corporate_domains.email_parent_domain = account_domains.domain
),

domain_matches as (
    select
        domain_candidates.crm_id,
        domain_candidates.account_id,
        row_number() over (
            partition by domain_candidates.crm_id
            order by
                domain_candidates.domain_rank,
                domain_candidates.source_rank,
                accounts.child_rank,
                accounts.created_at nulls last,
                domain_candidates.account_id
        ) as match_rank
    from domain_candidates
    inner join accounts
        on domain_candidates.account_id = accounts.account_id
),

company_name_matches as (
    select
        people.crm_id,
        accounts.account_id,
        row_number() over (
            partition by people.crm_id
            order by accounts.child_rank, accounts.created_at nulls last, accounts.account_id
        ) as match_rank
    from people
    inner join accounts
        on people.company_key = accounts.account_name_key
    where people.person_type = 'lead'
        and people.is_isp_company is not true
),

final as (
    select
        people.crm_id,
        coalesce(
            people.crm_account_id,
            people.converted_account_id,
            domain_matches.account_id,
            company_name_matches.account_id
        ) as account_id,
        case
            when people.crm_account_id is not null then 'crm_account'
            when people.converted_account_id is not null then 'converted_account'
            when domain_matches.account_id is not null then 'email_domain'
            when company_name_matches.account_id is not null then 'company_name'
        end as account_match_method
    from people
    left join domain_matches
        on people.crm_id = domain_matches.crm_id
        and domain_matches.match_rank = 1
    left join company_name_matches
        on people.crm_id = company_name_matches.crm_id
        and company_name_matches.match_rank = 1
)

select * from final
