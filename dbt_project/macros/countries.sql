{#- The country lookup every model with a free-text country column joins to: one row per
    country_key with its ISO 3166-1 alpha-2 code. Keys come from, in order of precedence, the
    analysts' aliases (seed country_aliases), the ISO alpha-2 and alpha-3 codes and the English
    names (seed countries), so an alias can correct any of them. -#}
{% macro country_lookup() -%}
    with

    spellings as (
        select {{ country_key('alias') }} as country_key, upper(trim(iso2)) as country_code, 1 as precedence
        from {{ ref('country_aliases') }}
        union all
        select {{ country_key('iso2') }}, upper(trim(iso2)), 2 from {{ ref('countries') }}
        union all
        select {{ country_key('iso3') }}, upper(trim(iso2)), 3 from {{ ref('countries') }}
        union all
        select {{ country_key('country_name') }}, upper(trim(iso2)), 4 from {{ ref('countries') }}
    ),

    ranked_spellings as (
        select
            country_key,
            country_code,
            row_number() over (partition by country_key order by precedence) as key_rank
        from spellings
        where country_key is not null
    )

    select
        country_key,
        country_code
    from ranked_spellings
    where key_rank = 1
{%- endmacro %}
