{#- The rows a data test reads: its `where` config, and for a test of a keyed-rewrite model (one
    whose rows carry `_built_at` stamps) that already passed on every row the model then held,
    only what was rewritten since.

    The pipeline names those tests in LEADSCORE_TESTED_THROUGH (a JSON object: test name -> the
    model's latest `_built_at` when the test last passed; src/leadscore/passed_tests.py). A row
    test (not null, accepted values) then reads the rows stamped later; a uniqueness test reads
    every row whose whole key is the key of one of them, since a duplicate key always involves a
    rewritten row. (Matching on the first key column alone read every row of a table that gets a
    row per person each day.) The rows kept from earlier builds passed then and are unchanged;
    the rows of a build whose tests failed are stamped after the last pass, so they are read
    again. A forced build, a test edited or warning since, and plain `dbt build` or `dbt test`
    leave the test out of the variable: the whole table is read. -#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- if config.get('where') -%}
        {%- do conditions.append(config.get('where')) -%}
    {%- endif -%}
    {%- set rewritten = rewritten_rows_condition(relation) -%}
    {%- if rewritten -%}
        {%- do conditions.append(rewritten) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ (conditions | join(' and ')) ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}


{% macro rewritten_rows_condition(relation) -%}
    {#- Read only when the test runs: at parse time no variable is recorded. -#}
    {%- if not execute -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- set tested_through = fromjson(env_var('LEADSCORE_TESTED_THROUGH', '{}')) -%}
    {%- set stamp = tested_through.get(model.name) -%}
    {%- if not stamp -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- set rewritten = "_built_at > cast('" ~ stamp ~ "' as " ~ dbt.type_timestamp() ~ ")" -%}
    {%- set test = model.test_metadata -%}
    {%- if test.name == 'unique' -%}
        {%- set key = test.kwargs.column_name -%}
    {%- elif test.name == 'unique_combination' -%}
        {%- set key = test.kwargs.columns | join(', ') -%}
    {%- else -%}
        {%- do return(rewritten) -%}
    {%- endif -%}
    {%- do return('(' ~ key ~ ') in (select ' ~ key ~ ' from ' ~ relation ~ ' where ' ~ rewritten ~ ')') -%}
{%- endmacro %}
