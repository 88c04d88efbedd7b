{#- Registers the raw input files as tables in the schema `raw`, where the staging
    sources read them on engines that cannot read files in a query (Spark). Run
    it once per raw directory, before a build:
        dbt run-operation create_raw_tables --target spark
    The tables are external: they point at the files, nothing is copied, and
    dropping them leaves the files alone. A Spark session keeps its Hive
    metastore in an embedded Derby database that one process at a time can open,
    so this runs inside dbt's own session rather than in a loader of its own. -#}
{% macro create_raw_tables(raw_path=none, raw_format=none) %}
    {%- set raw_path = raw_path or var(
        'raw_path', env_var('CUSTOMER_HEALTH_RAW_DIR', 'data/raw')
    ) -%}
    {%- set raw_format = raw_format or var(
        'raw_format', env_var('CUSTOMER_HEALTH_RAW_FORMAT', 'parquet')
    ) -%}
    {%- if raw_format not in ('parquet', 'csv') -%}
        {{ exceptions.raise_compiler_error(
            "create_raw_tables: raw_format must be 'parquet' or 'csv', got '"
            ~ raw_format ~ "'"
        ) }}
    {%- endif -%}
    {{ return(adapter.dispatch('create_raw_tables', 'customer_health')(
        raw_path | string, raw_format
    )) }}
{% endmacro %}

{#- The raw table names, from the staging sources' list. -#}
{% macro raw_table_names() %}
    {%- set names = [] -%}
    {%- for source_name, table_name in staged_raw_tables() -%}
        {%- do names.append(table_name) -%}
    {%- endfor -%}
    {{ return(names) }}
{% endmacro %}

{#- DuckDB reads the files directly (the sources' external_location): nothing to do. -#}
{% macro duckdb__create_raw_tables(raw_path, raw_format) %}
    {{ log(
        "create_raw_tables: DuckDB reads " ~ raw_path ~ "/<table>." ~ raw_format
        ~ " directly; no raw tables to create.",
        info=true
    ) }}
{% endmacro %}

{% macro default__create_raw_tables(raw_path, raw_format) %}
    {{ exceptions.raise_compiler_error(
        "create_raw_tables is not implemented for " ~ target.type
        ~ ": load the raw tables (" ~ raw_table_names() | join(', ')
        ~ ") into the schema `raw` with your usual loader, all columns as text."
    ) }}
{% endmacro %}

{#- Spark: one external table per file, every column as text. The CSV options
    follow RFC 4180 (a quote inside a quoted value is doubled) like DuckDB's
    read_csv; Spark reads an empty value as null, as DuckDB does. FAILFAST: by
    default (PERMISSIVE) Spark cuts a record's extra fields and pads a short one
    with nulls, without a word; a query reading such a file now fails with
    MALFORMED_CSV_RECORD, as DuckDB refuses it. -#}
{% macro spark__create_raw_tables(raw_path, raw_format) %}
    {%- set raw_path = raw_path.rstrip('/') -%}
    {% do run_query('create schema if not exists raw') %}
    {%- for table_name in raw_table_names() %}
        {%- set location = raw_path ~ '/' ~ table_name ~ '.' ~ raw_format -%}
        {%- set quoted_location = location.replace("\\", "\\\\").replace("'", "\\'") -%}
        {% do run_query('drop table if exists raw.' ~ table_name) %}
        {%- if raw_format == 'csv' %}
            {% set create_sql %}
                create table raw.{{ table_name }}
                using csv
                options (header 'true', escape '"', multiLine 'true', mode 'FAILFAST')
                location '{{ quoted_location }}'
            {% endset %}
        {%- else %}
            {% set create_sql %}
                create table raw.{{ table_name }}
                using parquet
                location '{{ quoted_location }}'
            {% endset %}
        {%- endif %}
        {% do run_query(create_sql) %}
        {{ log("create_raw_tables: raw." ~ table_name ~ " -> " ~ location, info=true) }}
    {%- endfor %}
{% endmacro %}
