{#- An 8-byte floating-point type. dbt.type_float() is `float` on DuckDB, a 4-byte
    REAL there, too coarse for scores and shares. -#}
{% macro type_double() %}
    {{- return(adapter.dispatch('type_double', 'customer_health')()) -}}
{% endmacro %}

{% macro default__type_double() %}
    {{- return('double precision') -}}
{% endmacro %}

{% macro duckdb__type_double() %}
    {{- return('double') -}}
{% endmacro %}

{% macro spark__type_double() %}
    {{- return('double') -}}
{% endmacro %}

{% macro bigquery__type_double() %}
    {{- return('float64') -}}
{% endmacro %}
