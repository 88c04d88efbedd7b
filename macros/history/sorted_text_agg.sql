{% macro sorted_text_agg(expression) -%}
    {{ return(adapter.dispatch('sorted_text_agg', 'customer_health')(expression)) }}
{%- endmacro %}

{% macro default__sorted_text_agg(expression) -%}
    {#- The values of expression, sorted, joined by new lines (an aggregate). -#}
    {{ dbt.listagg(expression, "'\n'", 'order by ' ~ expression) }}
{%- endmacro %}

{% macro spark__sorted_text_agg(expression) -%}
    {#- Spark's listagg cannot order: collect, sort, then join. DuckDB reads '\n' as the two
        characters backslash and n, Spark as a new line unless escaped: '\\n' gives the
        same separator, so the same hash, on both engines. -#}
    array_join(array_sort(collect_list({{ expression }})), '\\n')
{%- endmacro %}
