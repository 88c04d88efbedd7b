{#- Cast that yields null instead of failing the whole query on one bad value.
    Raw CSV values arrive as text: a single unparseable value must quarantine
    its row, not abort the build. dbt.safe_cast is a plain cast on DuckDB. -#}
{% macro try_cast(expression, data_type) %}
    {{ return(adapter.dispatch('try_cast', 'customer_health')(expression, data_type)) }}
{% endmacro %}

{% macro default__try_cast(expression, data_type) %}
    cast({{ expression }} as {{ data_type }})
{% endmacro %}

{% macro duckdb__try_cast(expression, data_type) %}
    try_cast({{ expression }} as {{ data_type }})
{% endmacro %}

{# Spark 3.2+ has try_cast; it returns null on failure even without ANSI mode. #}
{% macro spark__try_cast(expression, data_type) %}
    try_cast({{ expression }} as {{ data_type }})
{% endmacro %}
