{% macro history_incremental_strategy() -%}
    {{ return(adapter.dispatch('history_incremental_strategy', 'customer_health')()) }}
{%- endmacro %}

{% macro default__history_incremental_strategy() -%}
    {#- DuckDB, Postgres...: delete the rescored score dates, insert them again
        (unique_key score_date: one key, not a composite one). -#}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro spark__history_incremental_strategy() -%}
    {#- Spark has no delete+insert: overwrite the score_date partitions. -#}
    {{ return('insert_overwrite') }}
{%- endmacro %}

{% macro history_partition_by(date_column='score_date') -%}
    {{ return(adapter.dispatch('history_partition_by', 'customer_health')(date_column)) }}
{%- endmacro %}

{% macro default__history_partition_by(date_column) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro spark__history_partition_by(date_column) -%}
    {#- insert_overwrite replaces whole partitions: one per date (score_date, alert_date). -#}
    {{ return([date_column]) }}
{%- endmacro %}
