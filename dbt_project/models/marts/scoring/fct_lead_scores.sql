{#- One row per person (master CRM record) and rulebook: the scores as of as_of, summed from
    the ledger, with the guide's labels: grade (fit A-D x engagement 1-4), maturity segment,
    temperature, MQL flag, and the "demographic at most half of the total" check. -#}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

people as (
    select person_id, account_id from {{ ref('int_people') }}
    where is_master
        and person_created_at <= (select as_of from as_of)
),

rulebooks as (
    select * from {{ ref('rulebooks') }}
),

ledger as (
    select * from {{ ref('fct_score_ledger') }}
),

sums as (
    select
        ledger.person_id as person_id,
        ledger.rulebook_id as rulebook_id,
        sum(case when ledger.component = 'fit' then ledger.points_as_of else 0 end) as fit_score,
        sum(case when ledger.component = 'engagement' then ledger.points_as_of else 0 end) as engagement_score,
        sum(case when ledger.component = 'data_quality' then ledger.points_as_of else 0 end) as data_quality_score,
        sum(case when ledger.component = 'adjustment' then ledger.points_as_of else 0 end) as adjustment_score,
        sum(ledger.points_as_of) as total_score,
        sum(case when ledger.component = 'engagement' and ledger.source_type = 'activity'
            and ledger.event_at
                >= {{ dbt.dateadd('day', '-1 * rulebooks.recent_window_days', '(select as_of from as_of)') }}
            then ledger.points_as_of else 0 end) as recent_engagement_score,
        sum(case when ledger.component = 'engagement' and ledger.source_type = 'activity'
            then ledger.points_after_cap else 0 end)
            as lifetime_engagement_points,
        max(case when ledger.source_type = 'activity' then ledger.event_at end) as last_activity_at
    from ledger
    inner join rulebooks
        on ledger.rulebook_id = rulebooks.rulebook_id
    group by ledger.person_id, ledger.rulebook_id
),

scored as (
    select
        people.person_id as person_id,
        people.account_id as account_id,
        rulebooks.rulebook_id as rulebook_id,
        rulebooks.rulebook_id = '{{ var("champion_rulebook") }}' as is_champion,
        (select as_of from as_of) as as_of,
        coalesce(sums.fit_score, 0) as fit_score,
        coalesce(sums.engagement_score, 0) as engagement_score,
        coalesce(sums.data_quality_score, 0) as data_quality_score,
        coalesce(sums.adjustment_score, 0) as adjustment_score,
        coalesce(sums.total_score, 0) as total_score,
        coalesce(sums.recent_engagement_score, 0) as recent_engagement_score,
        coalesce(sums.lifetime_engagement_points, 0) as lifetime_engagement_points,
        sums.last_activity_at as last_activity_at,
        rulebooks.mql_threshold as mql_threshold,
        rulebooks.mql_min_fit as mql_min_fit
    from people
    cross join rulebooks
    left join sums
        on people.person_id = sums.person_id
        and rulebooks.rulebook_id = sums.rulebook_id
),

labels as (
    {{ score_labels('scored', ['person_id', 'rulebook_id']) }}
),

final as (
    select
        scored.person_id,
        scored.account_id,
        scored.rulebook_id,
        scored.is_champion,
        scored.as_of,
        scored.fit_score,
        scored.engagement_score,
        scored.data_quality_score,
        scored.adjustment_score,
        scored.total_score,
        scored.recent_engagement_score,
        scored.lifetime_engagement_points,
        scored.last_activity_at,
        labels.fit_grade || labels.engagement_level as grade,
        labels.fit_grade,
        labels.engagement_level,
        labels.segment,
        labels.temperature,
        {{ meets_mql('scored.total_score', 'scored.fit_score', 'scored') }} as is_mql,
        -- Divided in double precision: Spark divides decimals to 6 decimal places.
        case when scored.total_score > 0 then {{ to_double('scored.fit_score') }} / scored.total_score end as fit_share,
        labels.segment = 'ready_to_buy' and scored.total_score > 0
            and {{ to_double('scored.fit_score') }} / scored.total_score > 0.5 as is_fit_share_over_half
    from scored
    left join labels
        on scored.person_id = labels.person_id
        and scored.rulebook_id = labels.rulebook_id
)

select * from final
