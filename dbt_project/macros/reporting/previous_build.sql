{#- What the previous successful build scored, so the reports can say what a build moved
    (marts.rpt_score_changes, marts.rpt_rule_changes): each person's score and MQL flag per
    rulebook, their points per rule, and each rulebook's fingerprint, in schema ops.

    on-run-start makes sure the tables exist (empty before a first build); on-run-end replaces
    them with this build's results once `dbt build` or `dbt run` succeeded. A build that fails or
    is killed leaves them as the last successful build left them, so the next build compares
    with that one. Written with dbt's adapter macros, so every engine runs it the same. -#}

{% macro previous_build_tables() %}
    {%- set text, flag, number, instant = dbt.type_string(), dbt.type_boolean(), dbt.type_numeric(), dbt.type_timestamp() -%}
    {%- do return({
        'scores_before_build': {
            'from_marts': "select person_id, rulebook_id, is_champion, total_score, is_mql, as_of from "
                ~ relation_in('marts', 'fct_lead_scores'),
            'empty': "select cast(null as " ~ text ~ ") as person_id, cast(null as " ~ text ~ ") as rulebook_id, "
                ~ "cast(null as " ~ flag ~ ") as is_champion, cast(null as " ~ number ~ ") as total_score, "
                ~ "cast(null as " ~ flag ~ ") as is_mql, cast(null as " ~ instant ~ ") as as_of",
        },
        'rule_points_before_build': {
            'from_marts': "select person_id, rulebook_id, rule_id, sum(points_as_of) as points from "
                ~ relation_in('marts', 'fct_score_ledger') ~ " group by person_id, rulebook_id, rule_id",
            'empty': "select cast(null as " ~ text ~ ") as person_id, cast(null as " ~ text ~ ") as rulebook_id, "
                ~ "cast(null as " ~ text ~ ") as rule_id, cast(null as " ~ number ~ ") as points",
        },
        'rulebook_fingerprints_before_build': {
            'from_marts': "select rulebook_id, fingerprint from " ~ relation_in('intermediate', 'int_rulebook_fingerprints'),
            'empty': "select cast(null as " ~ text ~ ") as rulebook_id, cast(null as " ~ text ~ ") as fingerprint",
        },
    }) -%}
{% endmacro %}

{#- Spark's targets have no database: the relation is then schema.identifier. -#}
{% macro relation_in(schema, identifier) %}
    {%- do return(api.Relation.create(database=(target.database if target.database is defined else none),
        schema=schema, identifier=identifier)) -%}
{% endmacro %}

{% macro previous_build_relation(identifier) %}
    {%- do return(api.Relation.create(database=(target.database if target.database is defined else none),
        schema='ops', identifier=identifier, type='table')) -%}
{% endmacro %}

{% macro ensure_previous_build_tables() %}
    {%- if execute and flags.WHICH in ('build', 'run') -%}
        {%- for identifier, sql in previous_build_tables().items() -%}
            {%- set relation = previous_build_relation(identifier) -%}
            {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
                {%- do adapter.create_schema(relation) -%}
                {%- do run_query(create_table_as(False, relation, sql['empty'] ~ " where 1 = 0")) -%}
            {%- else -%}
                {%- do rename_person_key_of_earlier_version(relation) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}

{#- Kept by a version that named the person crm_id: the same rows, the column renamed, so the
    first build after an upgrade still compares with the one before it. dbt rolls the hook's
    transaction back when it ends, so the rename is committed here. DuckDB's only: the other
    engines' warehouses never held the old name. -#}
{% macro rename_person_key_of_earlier_version(relation) %}
    {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {%- if target.type == 'duckdb' and 'crm_id' in columns and 'person_id' not in columns -%}
        {%- do run_query('alter table ' ~ relation ~ ' rename column crm_id to person_id') -%}
        {%- do run_query('commit') -%}
        {%- do run_query('begin') -%}
    {%- endif -%}
{% endmacro %}

{% macro keep_scores_of_this_build(results) %}
    {%- if execute and flags.WHICH in ('build', 'run') -%}
        {%- set failed = results | selectattr('status', 'in', ['error', 'fail']) | list -%}
        {%- set found = namespace(all=true) -%}
        {%- for relation in [relation_in('marts', 'fct_lead_scores'), relation_in('marts', 'fct_score_ledger'),
                             relation_in('intermediate', 'int_rulebook_fingerprints')] -%}
            {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
                {%- set found.all = false -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if not failed and found.all -%}
            {%- for identifier, sql in previous_build_tables().items() -%}
                {%- set relation = previous_build_relation(identifier) -%}
                {%- do adapter.drop_relation(relation) -%}
                {%- do run_query(create_table_as(False, relation, sql['from_marts'])) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
