{#- The median of a numeric expression, as an aggregate (use with group by). -#}
{% macro median_value(expression) %}
    {{- return(adapter.dispatch('median_value', 'customer_health')(expression)) -}}
{% endmacro %}

{#- The median is the 0.5 percentile (continuous, interpolated). -#}
{% macro default__median_value(expression) %}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__median_value(expression) %}
    median({{ expression }})
{%- endmacro %}

{% macro spark__median_value(expression) %}
    percentile({{ expression }}, 0.5)
{%- endmacro %}
