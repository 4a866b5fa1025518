{#- One row per job title as people type it (normalised: lower case, no accents or punctuation)
    with its seniority and job role from the job_title_rules seed. Seniority is that of the
    matching rule with the lowest priority that sets one, and the same for the role, so a title
    like "Vice President, Marketing" takes its seniority from one rule and its role from
    another. A chief officer whose title names no function leads the company (executive). -#}

with

titles as (
    select distinct title_normalized
    from {{ ref('int_people_unioned') }}
    where title_normalized is not null
),

-- A blank cell means the rule does not set that attribute.
rules as (
    select
        priority,
        pattern,
        nullif(trim(seniority), '') as seniority,
        nullif(trim(job_role), '') as job_role
    from {{ ref('job_title_rules') }}
),

matches as (
    select
        titles.title_normalized,
        rules.priority,
        rules.seniority,
        rules.job_role
    from titles
    inner join rules
        on {{ regex_matches('titles.title_normalized', 'rules.pattern', case_insensitive=true) }}
),

seniority_matches as (
    select
        title_normalized,
        seniority,
        priority,
        row_number() over (partition by title_normalized order by priority) as match_rank
    from matches
    where seniority is not null
),

job_role_matches as (
    select
        title_normalized,
        job_role,
        priority,
        row_number() over (partition by title_normalized order by priority) as match_rank
    from matches
    where job_role is not null
),

final as (
    select
        titles.title_normalized,
        coalesce(seniority_matches.seniority, 'unknown') as seniority,
        coalesce(
            job_role_matches.job_role,
            case when seniority_matches.seniority = 'c_level' then 'executive' end,
            'other'
        ) as job_role,
        seniority_matches.priority as seniority_rule_priority,
        job_role_matches.priority as job_role_rule_priority
    from titles
    left join seniority_matches
        on titles.title_normalized = seniority_matches.title_normalized
        and seniority_matches.match_rank = 1
    left join job_role_matches
        on titles.title_normalized = job_role_matches.title_normalized
        and job_role_matches.match_rank = 1
)

select * from final
