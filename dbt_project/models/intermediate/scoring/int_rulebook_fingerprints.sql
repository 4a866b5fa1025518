{#- A fingerprint per rulebook of every seed row that changes its scores (the rulebook, its rules,
    its bounds, and the shared decay profiles). The score history rebuilds a rulebook's whole
    history when its fingerprint changes. -#}

with

seed_rows as (
    select r.rulebook_id, 'rulebooks ' || {{ row_text('r', ref('rulebooks')) }} as row_text from {{ ref('rulebooks') }} as r
    union all
    select r.rulebook_id, 'profile_rules ' || {{ row_text('r', ref('profile_rules')) }} from {{ ref('profile_rules') }} as r
    union all
    select r.rulebook_id, 'activity_rules ' || {{ row_text('r', ref('activity_rules')) }} from {{ ref('activity_rules') }} as r
    union all
    select r.rulebook_id, 'score_bounds ' || {{ row_text('r', ref('score_bounds')) }} from {{ ref('score_bounds') }} as r
    union all
    select rulebooks.rulebook_id, 'decay_profiles ' || {{ row_text('r', ref('decay_profiles')) }}
    from {{ ref('decay_profiles') }} as r
    cross join {{ ref('rulebooks') }} as rulebooks
    union all
    select rulebooks.rulebook_id, 'decay_steps ' || {{ row_text('r', ref('decay_steps')) }}
    from {{ ref('decay_steps') }} as r
    cross join {{ ref('rulebooks') }} as rulebooks
),

final as (
    select
        rulebook_id,
        md5({{ sorted_text_agg('row_text', "'\\n'") }}) as fingerprint
    from seed_rows
    group by rulebook_id
)

select * from final
