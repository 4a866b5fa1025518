{#- One row per person, rulebook and product line: the person's fit plus the engagement earned
    on activities of that product line (product pages, product webinars...), so sales can see
    which product a person is ready for. From the ledger, so it traces to rules and events. -#}

with

ledger as (
    select * from {{ ref('fct_score_ledger') }}
),

fit as (
    select person_id, rulebook_id, sum(points_as_of) as fit_points
    from ledger
    where component in ('fit', 'data_quality')
    group by person_id, rulebook_id
),

product_engagement as (
    select
        person_id,
        rulebook_id,
        product_line,
        sum(points_as_of) as engagement_points,
        count(*) as scored_activities,
        max(event_at) as last_activity_at
    from ledger
    where component = 'engagement'
        and product_line is not null
    group by person_id, rulebook_id, product_line
),

final as (
    select
        product_engagement.person_id as person_id,
        product_engagement.rulebook_id as rulebook_id,
        product_engagement.rulebook_id = '{{ var("champion_rulebook") }}' as is_champion,
        product_engagement.product_line as product_line,
        coalesce(fit.fit_points, 0) as fit_points,
        product_engagement.engagement_points as engagement_points,
        coalesce(fit.fit_points, 0) + product_engagement.engagement_points as score,
        product_engagement.scored_activities as scored_activities,
        product_engagement.last_activity_at as last_activity_at
    from product_engagement
    left join fit
        on product_engagement.person_id = fit.person_id
        and product_engagement.rulebook_id = fit.rulebook_id
)

select * from final
