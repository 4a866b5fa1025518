{#- People per rulebook and score anomaly (negative score, high or low outlier, never decaying),
    over every rule held responsible in rpt_score_distribution. -#}

select
    rulebook_id,
    is_champion,
    group_value as anomaly,
    cast(sum(people) as {{ dbt.type_bigint() }}) as people
from {{ ref('rpt_score_distribution') }}
where section = 'anomaly'
group by rulebook_id, is_champion, group_value
