{#- One row per account and rulebook: the buying committee's scores rolled up as the rulebook's
    account_rollups row says (sum, average, weighted average by fit, max, or top-N average), plus
    the account's own signal points (funding rounds, hiring, intent: account_signal rules, with
    their decay), the committee's breadth, and a grade. People are matched to accounts in
    int_people (CRM account, converted account, email domain, company name). -#}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

rollups as (
    select * from {{ ref('account_rollups') }}
),

accounts as (
    select account_id, account_name, website_domain from {{ ref('stg_crm__accounts') }}
),

people as (
    select person_id, job_role, seniority, account_match_method from {{ ref('int_people') }}
    where is_master
),

lead_scores as (
    select
        scores.*,
        people.job_role as job_role,
        people.seniority as seniority,
        row_number() over (
            partition by scores.account_id, scores.rulebook_id order by scores.total_score desc, scores.person_id asc
        ) as score_rank
    from {{ ref('fct_lead_scores') }} as scores
    inner join people
        on scores.person_id = people.person_id
    where scores.account_id is not null
),

committee as (
    select
        lead_scores.account_id as account_id,
        lead_scores.rulebook_id as rulebook_id,
        count(*) as people,
        sum(case when lead_scores.engagement_score >= rollups.engaged_min_score then 1 else 0 end)
            as engaged_people,
        count(distinct case when lead_scores.engagement_score >= rollups.engaged_min_score
            then lead_scores.job_role end) as engaged_roles,
        sum(lead_scores.total_score) as score_sum,
        avg(lead_scores.total_score) as score_average,
        max(lead_scores.total_score) as score_max,
        -- Divided in double precision: Spark divides decimals to 6 decimal places.
        {{ to_double('sum(lead_scores.total_score * greatest(lead_scores.fit_score, 0))') }}
            / nullif({{ to_double('sum(greatest(lead_scores.fit_score, 0))') }}, 0) as score_fit_weighted_average,
        avg(case when lead_scores.score_rank <= coalesce(rollups.top_n, 3) then lead_scores.total_score end)
            as score_top_n_average
    from lead_scores
    inner join rollups
        on lead_scores.rulebook_id = rollups.rulebook_id
    group by lead_scores.account_id, lead_scores.rulebook_id
),

{#- Account signals arrive keyed by company domain. -#}
signals as (
    select activities.*, accounts.account_id as matched_account_id
    from {{ ref('int_activities') }} as activities
    inner join accounts
        on activities.company_domain = accounts.website_domain
    where activities.activity_type = 'account_signal'
        and activities.activity_at <= (select as_of from as_of)
),

signal_rules as (
    select * from {{ ref('activity_rules') }}
    where activity_type = 'account_signal'
),

signal_hits as (
    select
        signals.matched_account_id as account_id,
        signal_rules.rulebook_id as rulebook_id,
        signal_rules.points as points,
        signals.activity_id || '|' || signal_rules.rule_id as signal_hit_id,
        signals.activity_at as event_at,
        signal_rules.decay_profile_id as decay_profile_id
    from signals
    inner join signal_rules
        on {{ rule_operator_matches('signal_rules',
            rule_attribute_text('signal_rules.attribute', 'signals',
                var('scoring_activity_attributes') | reject('equalto', 'days_without_web_activity') | list)) }}
),

-- The signals' points as of as_of, decayed as people's points are (int_score_events).
signal_terms as (
    {{ decay_profile_terms('signal_hits') }}
),

signal_points as (
    select
        signal_terms.account_id as account_id,
        signal_terms.rulebook_id as rulebook_id,
        sum(signal_terms.points * signal_terms.term_factor
            * {{ term_share_at('signal_terms', '(select as_of from as_of)') }}) as signal_points,
        count(distinct signal_terms.signal_hit_id) as signals
    from signal_terms
    group by signal_terms.account_id, signal_terms.rulebook_id
),

scored as (
    select
        committee.account_id as account_id,
        committee.rulebook_id as rulebook_id,
        rollups.rollup_method as rollup_method,
        committee.people as people,
        committee.engaged_people as engaged_people,
        committee.engaged_roles as engaged_roles,
        case rollups.rollup_method
            when 'sum' then committee.score_sum
            when 'average' then committee.score_average
            when 'weighted_average' then coalesce(committee.score_fit_weighted_average, committee.score_average)
            when 'max' then committee.score_max
            when 'top_n_average' then committee.score_top_n_average
        end as people_score,
        coalesce(signal_points.signal_points, 0) as signal_points,
        coalesce(signal_points.signals, 0) as signals
    from committee
    inner join rollups
        on committee.rulebook_id = rollups.rulebook_id
    left join signal_points
        on committee.account_id = signal_points.account_id
        and committee.rulebook_id = signal_points.rulebook_id
),

grades as (
    select
        scored.account_id as account_id,
        scored.rulebook_id as rulebook_id,
        bands.label as grade,
        row_number() over (
            partition by scored.account_id, scored.rulebook_id order by coalesce(bands.min_score, -1e18) desc
        ) as band_rank
    from scored
    inner join {{ ref('score_bands') }} as bands
        on scored.rulebook_id = bands.rulebook_id
        and bands.band_type = 'account_grade'
        and coalesce(bands.min_score, -1e18) <= scored.people_score + scored.signal_points
),

final as (
    select
        scored.account_id,
        accounts.account_name,
        scored.rulebook_id,
        scored.rulebook_id = '{{ var("champion_rulebook") }}' as is_champion,
        (select as_of from as_of) as as_of,
        scored.rollup_method,
        scored.people_score,
        scored.signal_points,
        scored.people_score + scored.signal_points as account_score,
        grades.grade,
        scored.people,
        scored.engaged_people,
        scored.engaged_roles,
        scored.signals
    from scored
    inner join accounts
        on scored.account_id = accounts.account_id
    left join grades
        on scored.account_id = grades.account_id
        and scored.rulebook_id = grades.rulebook_id
        and grades.band_rank = 1
)

select * from final
