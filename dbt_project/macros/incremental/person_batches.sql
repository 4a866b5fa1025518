{#- Person batches: a model too big to compute in one query (the daily score history holds a row
    per person, rulebook and day) is computed for a slice of the people at a time, so its memory
    stays that of one slice whatever the number of people.

    The model marks where its inputs are read with person_batch(column); on DuckDB the
    `person_batched` materialization runs the model once per slice, with each marker replaced by
    a hash test on that column. Elsewhere the marker is a true condition and the model builds
    like any incremental model (Spark and Trino spread the work over a cluster instead). -#}

{#- The materialization for the target: `person_batched` on DuckDB, `incremental` elsewhere. -#}
{% macro person_batched_materialization() -%}
    {{ return('person_batched' if target.type == 'duckdb' else 'incremental') }}
{%- endmacro %}

{#- Marks a person id read by the model; true until the materialization picks a slice. -#}
{% macro person_batch(column) -%}
    (1 = 1) /* person batch: {{ column }} */
{%- endmacro %}

{#- is_incremental() for incremental and person_batched models: the table exists and is not
    being rebuilt. -#}
{% macro builds_incrementally() -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if model.config.materialized == 'person_batched' -%}
        {%- set relation = adapter.get_relation(this.database, this.schema, this.table) -%}
        {{ return(relation is not none and relation.type == 'table' and not should_full_refresh()) }}
    {%- endif -%}
    {{ return(is_incremental()) }}
{%- endmacro %}

{#- The model's SQL for slice `batch` of `batches`. -#}
{% macro person_batch_sql(sql, batch, batches) -%}
    {%- if batches <= 1 -%}
        {{ return(sql) }}
    {%- endif -%}
    {%- set marker = modules.re.compile('\\(1 = 1\\) /\\* person batch: ([^*]+?) \\*/') -%}
    {{ return(marker.sub('(hash(\\1) % ' ~ batches ~ ' = ' ~ batch ~ ')', sql)) }}
{%- endmacro %}

{#- How many slices: the people of `people_model` (the config `batch_people_model`) in slices of
    at most `people_per_batch`. -#}
{% macro person_batch_count() -%}
    {%- set per_batch = config.get('people_per_batch', 4000) | int -%}
    {%- set counted = run_query('select count(*) from ' ~ ref(config.require('batch_people_model'))) -%}
    {%- set people = counted.columns[0].values()[0] | int -%}
    {{ return([1, ((people + per_batch - 1) // per_batch)] | max) }}
{%- endmacro %}

{#- Like dbt-duckdb's incremental materialization with the delete+insert strategy, one slice of
    people at a time. A rebuild (no table yet, or a full refresh) fills a new table that replaces
    the old one only once every slice is in; an incremental run replaces, slice by slice, the
    rows whose unique key the slice's query returns. Everything happens in one transaction, so
    readers see the old table or the new one. -#}
{% materialization person_batched, adapter='duckdb' -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set rebuild = existing_relation is none or should_full_refresh() -%}
    {%- set new_relation = make_intermediate_relation(target_relation) -%}
    {%- set old_relation = make_backup_relation(target_relation, 'table') -%}
    {%- set slice_relation = make_intermediate_relation(target_relation, suffix='__dbt_slice') -%}
    {%- set unique_key = config.require('unique_key') -%}
    {%- set on_schema_change = incremental_validate_on_schema_change(config.get('on_schema_change'), default='ignore') -%}

    {{ drop_relation_if_exists(load_cached_relation(new_relation)) }}
    {{ drop_relation_if_exists(load_cached_relation(old_relation)) }}
    {{ drop_relation_if_exists(load_cached_relation(slice_relation)) }}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- set batches = person_batch_count() -%}
    {%- set dest_columns = [] -%}
    {%- for batch in range(batches) -%}
        {%- set batch_sql = person_batch_sql(compiled_code, batch, batches) -%}
        {%- if rebuild and loop.first -%}
            {%- call statement('main' if batches == 1 else 'batch') -%}
                {{ create_table_as(False, new_relation, batch_sql) }}
            {%- endcall -%}
        {%- elif rebuild -%}
            {%- call statement('main' if loop.last else 'batch') -%}
                insert into {{ new_relation }} select * from ({{ batch_sql }})
            {%- endcall -%}
        {%- else -%}
            {%- do run_query(create_table_as(False, slice_relation, batch_sql)) -%}
            {%- if loop.first -%}
                {%- do adapter.expand_target_column_types(from_relation=slice_relation, to_relation=target_relation) -%}
                {%- set changed = process_schema_changes(on_schema_change, slice_relation, existing_relation) -%}
                {%- do dest_columns.extend(changed or adapter.get_columns_in_relation(existing_relation)) -%}
            {%- endif -%}
            {%- call statement('main' if loop.last else 'batch') -%}
                {{ get_delete_insert_merge_sql(target_relation, slice_relation, unique_key, dest_columns, none) }}
            {%- endcall -%}
            {%- do run_query('drop table ' ~ slice_relation) -%}
        {%- endif -%}
    {%- endfor -%}

    {%- if rebuild -%}
        {%- if existing_relation is not none -%}
            {%- do adapter.rename_relation(existing_relation, old_relation) -%}
        {%- endif -%}
        {%- do adapter.rename_relation(new_relation, target_relation) -%}
    {%- endif -%}

    {%- do persist_docs(target_relation, model) -%}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {%- do adapter.commit() -%}
    {%- if rebuild and existing_relation is not none -%}
        {{ drop_relation_if_exists(old_relation) }}
    {%- endif -%}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target_relation]}) }}
{%- endmaterialization %}
