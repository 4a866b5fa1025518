{#- Which CRM records are the same real person, and which record represents them.

    Records are one person when their email addresses are equal once normalised (staging
    lower-cases and removes spaces; a +tag is ignored here) or when a lead was converted into a
    contact, and so on transitively: a duplicate lead of a converted lead joins its contact too.
    Addresses at disposable or placeholder domains (mailinator.com, test.com: free_mail_domains
    seed) are shared by strangers and identify nobody.

    A record without an email address (a badge scan, a list upload) can only be recognised by
    name: it joins the person whose records carry the same first and last name when exactly
    one person with an email address has that name, and none of that person's records
    disagrees with it on the country or on the company. Company names disagree when both are
    real companies (not a placeholder, not an internet provider) and neither is the other one
    followed by more words ("Acme" agrees with "Acme Foods"). Names with digits or
    placeholders ("test") never match.

    All records sharing an address are first collapsed into one identity, so the transitive
    closure only walks the links between identities and stays small even when thousands of
    records share an address.

    The master record is a live record before a deleted one, then a contact before a lead (a
    converted lead lives on as its contact), then the earliest created, then the smallest id. -#}

with recursive

records as (
    select
        crm_id,
        person_type,
        email_key,
        email_domain,
        first_name,
        last_name,
        country_code,
        company_key,
        is_isp_company,
        converted_contact_id,
        created_at,
        is_deleted
    from {{ ref('int_people_unioned') }}
),

placeholders as (
    {{ placeholder_words('any') }}
),

shared_mail_domains as (
    select domain from {{ ref('free_mail_domains') }}
    where kind in ('disposable', 'placeholder')
),

identifying_emails as (
    select
        records.crm_id,
        case
            when shared_mail_domains.domain is null then records.email_key
        end as identifying_email
    from records
    left join shared_mail_domains
        on records.email_domain = shared_mail_domains.domain
),

identities as (
    select
        crm_id,
        identifying_email,
        coalesce('email:' || identifying_email, 'record:' || crm_id) as identity_key
    from identifying_emails
),

conversion_links as (
    select
        lead_identities.identity_key as from_key,
        contact_identities.identity_key as to_key
    from records as leads
    inner join identities as lead_identities
        on leads.crm_id = lead_identities.crm_id
    inner join identities as contact_identities
        on leads.converted_contact_id = contact_identities.crm_id
    where leads.person_type = 'lead'
),

named_records as (
    select
        records.crm_id,
        identities.identity_key,
        identities.identifying_email is null as has_no_email,
        {{ normalize_words('records.first_name') }} || ' ' || {{ normalize_words('records.last_name') }} as full_name_key,
        records.country_code,
        -- An internet provider is where the person connected from, not their employer.
        case when records.is_isp_company is not true then records.company_key end as employer_key
    from records
    inner join identities
        on records.crm_id = identities.crm_id
    where {{ normalize_words('records.first_name') }} not in (select value from placeholders)
        and {{ normalize_words('records.last_name') }} not in (select value from placeholders)
        and not {{ regex_matches("records.first_name || records.last_name", "'[0-9]'") }}
),

names_with_one_person as (
    select full_name_key
    from named_records
    where not has_no_email
    group by full_name_key
    having count(distinct identity_key) = 1
),

name_candidates as (
    select
        without_email.identity_key as from_key,
        with_email.identity_key as to_key,
        (without_email.country_code <> with_email.country_code)
        or (
            without_email.employer_key <> with_email.employer_key
            and without_email.employer_key not like with_email.employer_key || ' %'
            and with_email.employer_key not like without_email.employer_key || ' %'
        ) as disagrees
    from named_records as without_email
    inner join names_with_one_person
        on without_email.full_name_key = names_with_one_person.full_name_key
    inner join named_records as with_email
        on without_email.full_name_key = with_email.full_name_key
        and not with_email.has_no_email
    where without_email.has_no_email
),

name_links as (
    select
        from_key,
        to_key
    from name_candidates
    group by from_key, to_key
    having not {{ dbt.bool_or('coalesce(disagrees, false)') }}
),

links as (
    select from_key, to_key from conversion_links
    union
    select from_key, to_key from name_links
),

identity_links as (
    select from_key, to_key from links
    union
    select to_key as from_key, from_key as to_key from links
),

{{ identity_components_ctes() }},

ranked as (
    select
        records.crm_id,
        components.component_key,
        row_number() over (
            partition by components.component_key
            order by
                case when records.is_deleted then 1 else 0 end,
                case when records.person_type = 'contact' then 0 else 1 end,
                records.created_at nulls last,
                records.crm_id
        ) as master_rank,
        count(*) over (partition by components.component_key) as person_record_count
    from records
    inner join identities
        on records.crm_id = identities.crm_id
    inner join components
        on identities.identity_key = components.identity_key
),

final as (
    select
        crm_id,
        first_value(crm_id) over (
            partition by component_key
            order by master_rank
        ) as person_id,
        master_rank = 1 as is_master,
        person_record_count
    from ranked
)

select * from final
