{#- The rulebook's labels (score_bands) of each row of `scored` (a CTE with rulebook_id,
    fit_score, engagement_score and total_score): fit_grade, engagement_level, segment and
    temperature, one row per `keys`. A band holds from its min_score up to the next band's. -#}
{% macro score_labels(scored, keys) -%}
    select
        {%- for key in keys %}
        banded.{{ key }},
        {%- endfor %}
        max(case when banded.band_type = 'fit_grade' then banded.label end) as fit_grade,
        max(case when banded.band_type = 'engagement_level' then banded.label end) as engagement_level,
        max(case when banded.band_type = 'segment' then banded.label end) as segment,
        max(case when banded.band_type = 'temperature' then banded.label end) as temperature
    from (
        select
            {%- for key in keys %}
            {{ scored }}.{{ key }},
            {%- endfor %}
            bands.band_type,
            bands.label,
            row_number() over (
                partition by {% for key in keys %}{{ scored }}.{{ key }}, {% endfor %}bands.band_type
                order by coalesce(bands.min_score, -1e18) desc
            ) as band_rank
        from {{ scored }}
        inner join {{ ref('score_bands') }} as bands
            on {{ scored }}.rulebook_id = bands.rulebook_id
            and coalesce(bands.min_score, -1e18) <= case bands.band_type
                when 'fit_grade' then {{ scored }}.fit_score
                when 'engagement_level' then {{ scored }}.engagement_score
                when 'temperature' then {{ scored }}.engagement_score
                else {{ scored }}.total_score
            end
    ) as banded
    where banded.band_rank = 1
    group by {% for key in keys %}banded.{{ key }}{{ ", " if not loop.last }}{% endfor %}
{%- endmacro %}
