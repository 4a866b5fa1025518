{#- Loading seeds on Spark. dbt-spark's session connection pastes each value into the insert
    between quotes as it is: an empty cell becomes the text 'None' and an apostrophe ends the
    literal. Here each value is written as a literal Spark reads back exactly: null, a number, or
    text with its quotes and backslashes spelled as chr(39) and chr(92) (the target reads string
    literals as written, so no escape character is left). -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
            ({%- for col_name in agate_table.column_names -%}
                {%- set type = spark_seed_type(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) -%}
                cast({{ spark_seed_literal(row[loop.index0]) }} as {{ type }}){{ ',' if not loop.last }}
            {%- endfor -%}){{ ',' if not loop.last }}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first %}{% do statements.append(sql) %}{% endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}

{% macro spark_seed_literal(value) -%}
    {%- if value is none -%}
        null
    {%- elif value is number and value is not boolean -%}
        {{ value }}
    {%- else -%}
        {%- set text = value | string -%}
        {%- if "'" in text or "\\" in text -%}
            concat('{{ text | replace("\\", "<<backslash>>") | replace("'", "<<quote>>") | replace("<<backslash>>", "', chr(92), '") | replace("<<quote>>", "', chr(39), '") }}')
        {%- else -%}
            '{{ text }}'
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The seeds' column_types are written for DuckDB; Spark 4 refuses varchar without a length. -#}
{% macro spark_seed_type(type) -%}
    {{ return('string' if type | lower in ['varchar', 'text'] else type) }}
{%- endmacro %}

{% macro spark__create_csv_table(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set quote_seed_column = model['config'].get('quote_columns', None) -%}
    {%- set sql -%}
        create table {{ this.render() }} (
            {%- for col_name in agate_table.column_names -%}
                {%- set type = spark_seed_type(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) -%}
                {{ adapter.quote_seed_column(col_name | string, quote_seed_column) }} {{ type }}{{ ', ' if not loop.last }}
            {%- endfor -%}
        )
        {{ file_format_clause() }}
        {{ location_clause() }}
    {%- endset -%}
    {%- call statement('_') -%}
        {{ sql }}
    {%- endcall -%}
    {{ return(sql) }}
{% endmacro %}
