{% macro events_staging_materialization() -%}
    {{ return(adapter.dispatch('events_staging_materialization', 'customer_health')()) }}
{%- endmacro %}

{% macro default__events_staging_materialization() -%}
    {#- DuckDB: a daily run decides again only the key buckets that changed -#}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__events_staging_materialization() -%}
    {#- Spark's parquet tables cannot delete rows (replace_key_buckets): rebuilt each run -#}
    {{ return('table') }}
{%- endmacro %}

{% macro get_incremental_replace_key_buckets_sql(arg_dict) -%}
    {#- Incremental strategy replace_key_buckets: every row of the target whose
        unique_key (the key bucket) is among the new rows' is deleted, then the new
        rows are inserted, except tombstones (raw_copies = 0): the one row a model
        sends for a bucket that has no rows left, so that its old rows are deleted. -#}
    {%- set target_relation = arg_dict['target_relation'] -%}
    {%- set temp_relation = arg_dict['temp_relation'] -%}
    {%- set unique_key = arg_dict['unique_key'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- if unique_key is not string -%}
        {{ exceptions.raise_compiler_error(
            "replace_key_buckets in " ~ this ~ ": unique_key must be one column, the key "
            ~ "bucket (got " ~ unique_key ~ ")"
        ) }}
    {%- endif -%}
    delete from {{ target_relation }}
    where {{ unique_key }} in (select {{ unique_key }} from {{ temp_relation }});

    insert into {{ target_relation }} ({{ columns }})
    select {{ columns }}
    from {{ temp_relation }}
    where raw_copies > 0
{%- endmacro %}

{% macro require_recorded_column(column, full_refresh_selection) -%}
    {#- In an incremental run: fails, saying how to rebuild, when the recorded table
        ({{ this }}) lacks a column the incremental logic reads (a table built by an
        earlier version of the model). -#}
    {%- if execute and is_incremental() -%}
        {%- set recorded_columns = adapter.get_columns_in_relation(this)
            | map(attribute='name') | map('lower') | list -%}
        {%- if column not in recorded_columns -%}
            {{ exceptions.raise_compiler_error(
                this ~ " was built before it was incremental (it has no " ~ column
                ~ " column): rebuild it once with dbt build --full-refresh --select "
                ~ full_refresh_selection
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
