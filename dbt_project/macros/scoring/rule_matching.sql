{#- How a rule row (from seeds/scoring) is tested against a person or an activity. Rules are
    data: one SQL statement evaluates every rule of a kind through these expressions, so adding
    a rule in the CSV needs no SQL. Rules with operator `sql` are the exception: their condition
    is inlined by sql_rule_hits() after src/leadscore/scoring/rulebooks.py validated it. -#}

{#- The value of the attribute a rule names, as text. `attributes` is the allow-list declared in
    dbt_project.yml; CRM custom fields are read as custom_fields.<Field__c>. -#}
{% macro rule_attribute_text(attribute_expr, row_alias, attributes, with_custom_fields=false) -%}
    case {{ attribute_expr }}
    {%- for attribute in attributes %}
        when '{{ attribute }}' then cast({{ row_alias }}.{{ attribute }} as {{ dbt.type_string() }})
    {%- endfor %}
    {%- if with_custom_fields %}
        else {{ json_text_field(row_alias ~ '.custom_fields', "substr(" ~ attribute_expr ~ ", 15)") }}
    {%- endif %}
    end
{%- endmacro %}

{#- One JSON object field as text, the key given as a SQL expression. -#}
{% macro json_text_field(json_expr, key_expr) -%}
    {{ return(adapter.dispatch('json_text_field')(json_expr, key_expr)) }}
{%- endmacro %}

{% macro duckdb__json_text_field(json_expr, key_expr) -%}
    json_extract_string({{ json_expr }}, '$."' || {{ key_expr }} || '"')
{%- endmacro %}

{% macro spark__json_text_field(json_expr, key_expr) -%}
    get_json_object({{ json_expr }}, concat('$.', {{ key_expr }}))
{%- endmacro %}

{% macro trino__json_text_field(json_expr, key_expr) -%}
    json_extract_scalar({{ json_expr }}, concat('$["', {{ key_expr }}, '"]'))
{%- endmacro %}

{% macro default__json_text_field(json_expr, key_expr) -%}
    {{ exceptions.raise_compiler_error("json_text_field: no implementation for adapter " ~ adapter.type()) }}
{%- endmacro %}

{#- True when `value_text` satisfies the rule's operator. Booleans compare as 'true'/'false';
    ranges are inclusive and open where min_value or max_value is empty; lists are pipe-separated;
    text comparisons ignore case. -#}
{% macro rule_operator_matches(rule_alias, value_text) -%}
    case {{ rule_alias }}.operator
        when 'equals' then lower({{ value_text }}) = lower({{ rule_alias }}.value)
        when 'in_list' then
            '|' || lower({{ rule_alias }}.value) || '|' like '%|' || lower({{ value_text }}) || '|%'
        when 'contains' then lower({{ value_text }}) like '%' || lower({{ rule_alias }}.value) || '%'
        when 'regex' then {{ regex_matches(value_text, rule_alias ~ '.value', true) }}
        when 'is_missing' then {{ value_text }} is null or trim({{ value_text }}) = ''
        when 'range' then
            {{ safe_double(value_text) }} is not null
            and ({{ rule_alias }}.min_value is null or {{ safe_double(value_text) }} >= {{ rule_alias }}.min_value)
            and ({{ rule_alias }}.max_value is null or {{ safe_double(value_text) }} <= {{ rule_alias }}.max_value)
        else false
    end
{%- endmacro %}

{#- The (rulebook_id, rule_id, attribute_value) rows of `candidates` whose value satisfies the
    rule. Each rule is tested once per distinct value, not once per candidate row: values repeat
    (page paths, countries, roles), and a LIKE or regex pattern read from a column is compiled
    again for every row it is tested on. Join the result back with `same_rule_value`. -#}
{% macro matching_rule_values(candidates) -%}
    select rulebook_id, rule_id, attribute_value
    from (
        select distinct rulebook_id, rule_id, operator, value, min_value, max_value, attribute_value
        from {{ candidates }}
    ) as rule_values
    where {{ rule_operator_matches('rule_values', 'rule_values.attribute_value') }}
{%- endmacro %}

{#- Same rule and same attribute value, a missing value included (is_missing matches it). -#}
{% macro same_rule_value(left, right) -%}
    {{ left }}.rulebook_id = {{ right }}.rulebook_id
        and {{ left }}.rule_id = {{ right }}.rule_id
        and {{ same_attribute_value(left ~ '.attribute_value', right ~ '.attribute_value') }}
{%- endmacro %}

{#- Two attribute values equal, or both missing. Two equalities rather than a null-safe
    comparison, so every engine can hash-join on them. -#}
{% macro same_attribute_value(left_value, right_value) -%}
    coalesce({{ left_value }}, '') = coalesce({{ right_value }}, '')
        and ({{ left_value }} is null) = ({{ right_value }} is null)
{%- endmacro %}

{% macro safe_double(expr) -%}
    {{ dbt.safe_cast(expr, type_double()) }}
{%- endmacro %}

{#- Rows (entity key, rulebook_id, rule_id) for every rule of `rules_relation` whose operator is
    `sql`, each condition inlined as written in the seed. The conditions were validated before
    the run (only allowed columns and functions, one expression, no subquery or table). -#}
{% macro sql_rule_hits(rules_relation, entities_cte, key_column) -%}
    {%- set rules = [] -%}
    {%- if execute -%}
        {%- set result = run_query(
            "select rulebook_id, rule_id, value from " ~ rules_relation
            ~ " where operator = 'sql' order by rulebook_id, rule_id") -%}
        {%- set rules = result.rows -%}
    {%- endif -%}
    {%- for rule in rules %}
    select {{ key_column }}, '{{ rule[0] }}' as rulebook_id, '{{ rule[1] }}' as rule_id
    from {{ entities_cte }}
    where coalesce(({{ rule[2] }}), false)
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
    {%- if rules | length == 0 %}
    select {{ key_column }}, cast(null as {{ dbt.type_string() }}) as rulebook_id,
        cast(null as {{ dbt.type_string() }}) as rule_id
    from {{ entities_cte }}
    where 1 = 0
    {%- endif %}
{%- endmacro %}
