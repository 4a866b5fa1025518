{#- Whether deal `deal` (a row of int_account_opportunities) is open at instant `at_ts`: opened
    by then and not closed by then. A closed deal whose close time is unknown counts as closed. -#}
{% macro deal_open_at(deal, at_ts) -%}
    ({{ deal }}.created_at <= {{ at_ts }}
        and not ({{ deal }}.is_closed and ({{ deal }}.closed_at is null or {{ deal }}.closed_at <= {{ at_ts }})))
{%- endmacro %}
