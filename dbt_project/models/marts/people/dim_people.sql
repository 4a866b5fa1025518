{#- One row per person (master CRM record) for BI tools: who they are, their company and owner,
    and the champion rulebook's score, grade and current lifecycle stage as of as_of. Name,
    email and phone are tagged as personal data, which publishing can hash or drop. -#}

with

people as (
    select * from {{ ref('int_people') }}
    where is_master
),

champion_scores as (
    select person_id, total_score, grade, is_mql
    from {{ ref('fct_lead_scores') }}
    where is_champion
),

-- Names as people read them: concat_ws skips a missing part, and no name at all is null, not ''.
owners as (
    select user_id, {{ full_name('first_name', 'last_name') }} as owner_name
    from {{ ref('stg_crm__users') }}
),

current_stages as (
    select person_id, stage, entered_at
    from {{ ref('fct_lead_stage_history') }}
    where is_current
),

final as (
    select
        people.person_id,
        people.person_type,
        people.first_name,
        people.last_name,
        {{ full_name('people.first_name', 'people.last_name') }} as person_name,
        people.email,
        people.phone,
        people.title,
        people.seniority,
        people.job_role,
        people.account_id,
        people.company_name,
        people.industry,
        people.employee_band,
        people.country_code,
        people.lead_source,
        people.lead_status,
        people.owner_id,
        owners.owner_name,
        people.has_opted_out_of_email,
        people.do_not_call,
        people.is_customer,
        people.person_created_at,
        champion_scores.total_score,
        champion_scores.grade,
        champion_scores.is_mql,
        current_stages.stage as current_stage,
        current_stages.entered_at as current_stage_entered_at
    from people
    left join champion_scores
        on people.person_id = champion_scores.person_id
    left join current_stages
        on people.person_id = current_stages.person_id
    left join owners
        on people.owner_id = owners.user_id
)

select * from final
