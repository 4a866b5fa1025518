{#- The average of a floating-point expression, rounded to `digits` decimals. DuckDB sums doubles
    in parallel, in an order that changes from run to run, so the last bits of a plain avg() vary:
    rounding them away keeps rebuilds of the same data identical. -#}
{% macro stable_avg(expression, digits=6) -%}
    round(avg({{ expression }}), {{ digits }})
{%- endmacro %}

{#- The sum of a floating-point expression, rounded the same way (money amounts, say). -#}
{% macro stable_sum(expression, digits=6) -%}
    round(sum({{ expression }}), {{ digits }})
{%- endmacro %}
