{#- The CTEs `reachable` (DuckDB only) and `components`: each identity of the CTE `identities`
    (identity_key) with component_key, the smallest identity_key it reaches through the links of
    the CTE `identity_links` (from_key, to_key, both directions listed). Call it inside a
    `with recursive` clause; no trailing comma. -#}
{% macro identity_components_ctes() -%}
    {{ return(adapter.dispatch('identity_components_ctes')()) }}
{%- endmacro %}

{#- A recursive walk: UNION (not UNION ALL) stops at the fixpoint even though links go both ways. -#}
{% macro duckdb__identity_components_ctes() -%}
reachable as (
    select distinct
        identity_key,
        identity_key as reached_key
    from identities
    union
    select
        reachable.identity_key,
        identity_links.to_key as reached_key
    from reachable
    inner join identity_links
        on reachable.reached_key = identity_links.from_key
),

components as (
    select
        identity_key,
        min(reached_key) as component_key
    from reachable
    group by identity_key
)
{%- endmacro %}

{#- Spark runs no recursive UNION and Trino's recursion needs UNION ALL, which never ends on links
    that go both ways. Instead each round gives an identity the smallest key among itself and its
    neighbours; after N rounds every identity holds the smallest key within N links, which is
    the component's when no two identities are more than N links apart
    (var identity_max_link_steps, 16: identities chain through a few conversions and names). -#}
{% macro spark__identity_components_ctes() -%}
component_links as (
    select from_key, to_key from identity_links
    union
    select identity_key as from_key, identity_key as to_key from identities
),

component_round_0 as (
    select distinct
        identity_key,
        identity_key as component_key
    from identities
),
{% for step in range(1, var('identity_max_link_steps', 16) + 1) %}
component_round_{{ step }} as (
    select
        component_links.from_key as identity_key,
        min(previous_round.component_key) as component_key
    from component_links
    inner join component_round_{{ step - 1 }} as previous_round
        on component_links.to_key = previous_round.identity_key
    group by component_links.from_key
),
{% endfor %}
components as (
    select identity_key, component_key
    from component_round_{{ var('identity_max_link_steps', 16) }}
)
{%- endmacro %}

{% macro trino__identity_components_ctes() -%}
    {{ return(spark__identity_components_ctes()) }}
{%- endmacro %}
