{% macro sorted_text_agg(expression) -%}
    {{ return(adapter.dispatch('sorted_text_agg', 'customer_health')(expression)) }}
{%- endmacro %}

{% macro default__sorted_text_agg(expression) -%}
    {#- The values of expression, sorted, joined by new lines (an aggregate). -#}
    {{ dbt.listagg(expression, "'\n'", 'order by ' ~ expression) }}
{%- endmacro %}
