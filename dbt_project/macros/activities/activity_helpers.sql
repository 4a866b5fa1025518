{#- Helpers of the activity models: time arithmetic and page categorisation. -#}

{#- Seconds since 1970-01-01 of a UTC timestamp, fractions included: differences of two of them
    are durations in seconds, and window frames can range over them in any engine. -#}
{% macro seconds_since_epoch(expr) -%}
    {{ return(adapter.dispatch('seconds_since_epoch')(expr)) }}
{%- endmacro %}

{% macro duckdb__seconds_since_epoch(expr) -%}
    epoch({{ expr }})
{%- endmacro %}

{% macro spark__seconds_since_epoch(expr) -%}
    (cast(unix_micros({{ expr }}) as double) / 1000000)
{%- endmacro %}

{% macro trino__seconds_since_epoch(expr) -%}
    to_unixtime(with_timezone({{ expr }}, 'UTC'))
{%- endmacro %}

{% macro default__seconds_since_epoch(expr) -%}
    {{ dbt.datediff("cast('1970-01-01 00:00:00' as " ~ dbt.type_timestamp() ~ ")", expr, 'second') }}
{%- endmacro %}


{#- The form of a request path that page categories are matched on: lower case, without a
    leading language segment (`/en/`, `/fr-fr/`, `/de_DE/`), without trailing slashes;
    `/` for the home page (`/EN-us/Pricing/` -> `/pricing`, `/fr/` -> `/`). -#}
{% macro page_path_key(expr) -%}
    coalesce(
        nullif(
            {{ regex_replace(
                regex_replace(
                    "lower(" ~ expr ~ ")",
                    "'^/(en|fr|de|es|it|nl|pt|ja|zh|ko|sv|da|nb|no|fi|pl|cs|tr|ru)([-_][a-z]{2,4})?(/|$)'",
                    "'/'"
                ),
                "'/+$'", "''"
            ) }},
            ''
        ),
        '/'
    )
{%- endmacro %}


{#- CTEs that give each distinct `url_path` of the CTE `paths_cte` its page_category and
    product_line from the seed web_page_categories: the matching pattern with the lowest
    priority that sets a category gives the category (`other` when none does), the one with
    the lowest priority that sets a product line gives the product line (null when none does).
    Call it inside a `with` clause; the last CTE is named `name` (one row per url_path), the
    others `<name>__*`. No trailing comma. -#}
{% macro categorized_pages_ctes(paths_cte, name='categorized_pages') -%}
    {{ name }}__paths as (
        select distinct url_path
        from {{ paths_cte }}
        where url_path is not null
    ),

    {{ name }}__matches as (
        select
            {{ name }}__paths.url_path as url_path,
            web_page_categories.priority as priority,
            web_page_categories.page_category as page_category,
            web_page_categories.product_line as product_line
        from {{ name }}__paths
        inner join {{ ref('web_page_categories') }} as web_page_categories
            on {{ regex_matches(page_path_key(name ~ '__paths.url_path'), 'web_page_categories.pattern', true) }}
    ),

    {{ name }}__ranked as (
        select
            url_path,
            page_category,
            product_line,
            row_number() over (
                partition by url_path
                order by case when page_category is null then 1 else 0 end, priority
            ) as category_rank,
            row_number() over (
                partition by url_path
                order by case when product_line is null then 1 else 0 end, priority
            ) as product_line_rank
        from {{ name }}__matches
    ),

    {{ name }} as (
        select
            {{ name }}__paths.url_path as url_path,
            coalesce(
                max(case when {{ name }}__ranked.category_rank = 1 then {{ name }}__ranked.page_category end),
                'other'
            ) as page_category,
            max(case when {{ name }}__ranked.product_line_rank = 1 then {{ name }}__ranked.product_line end)
                as product_line
        from {{ name }}__paths
        left join {{ name }}__ranked
            on {{ name }}__paths.url_path = {{ name }}__ranked.url_path
        group by {{ name }}__paths.url_path
    )
{%- endmacro %}

{#- The select list of one branch of int_activities: the columns in their contract order, each
    taken from `values` (column -> SQL expression) when the branch has it, else a typed null, so
    the branches of the union line up without repeating every null column. -#}
{% macro activity_columns(values) -%}
    {%- set text = dbt.type_string() -%}
    {%- set column_types = [
        ('activity_type', text), ('person_id', text), ('company_domain', text),
        ('activity_at', dbt.type_timestamp()), ('product_line', text), ('url_path', text),
        ('page_category', text), ('page_views', dbt.type_bigint()), ('email_event_type', text),
        ('email_campaign_id', text), ('clicked_url', text), ('campaign_id', text), ('campaign_type', text),
        ('member_status_category', text), ('task_activity_type', text),
        ('call_duration_seconds', dbt.type_bigint()), ('form_name', text), ('signal_type', text),
        ('signal_topic', text), ('signal_strength', type_double()), ('source_model', text), ('source_id', text),
    ] -%}
    {%- for column, column_type in column_types %}
        {% if column in values %}{{ values[column] }}{% else %}cast(null as {{ column_type }}){% endif %} as {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
