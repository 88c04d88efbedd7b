{#- Cast that yields null instead of failing the whole query on one bad value.
    Raw CSV values arrive as text: a single unparseable value must quarantine
    its row, not abort the build. dbt.safe_cast is a plain cast on DuckDB. -#}
{% macro try_cast(expression, data_type) %}
    {{ return(adapter.dispatch('try_cast', 'customer_health')(expression, data_type)) }}
{% endmacro %}

{% macro default__try_cast(expression, data_type) %}
    cast({{ expression }} as {{ data_type }})
{% endmacro %}

{#- DuckDB's cast of text to timestamp ignores a UTC offset or zone name
    ('2026-10-30 23:30:00-05:00' gives 23:30, Spark 04:30 the next day): text
    that is not a plain date or 'YYYY-MM-DD HH:MM:SS' is read as a timestamptz
    and brought to UTC (the profile's TimeZone). The plain forms keep the
    cheaper cast: timestamptz parsing costs about 4x as much. -#}
{% macro duckdb__try_cast(expression, data_type) %}
    {%- if data_type | lower == 'timestamp' -%}
    case
        when {{ expression }} like '____-__-__ __:__:__' or length({{ expression }}) = 10
            then try_cast({{ expression }} as timestamp)
        else try_cast(try_cast({{ expression }} as timestamptz) as timestamp)
    end
    {%- else -%}
    try_cast({{ expression }} as {{ data_type }})
    {%- endif -%}
{% endmacro %}

{# Spark 3.2+ has try_cast; it returns null on failure even without ANSI mode. #}
{% macro spark__try_cast(expression, data_type) %}
    try_cast({{ expression }} as {{ data_type }})
{% endmacro %}
