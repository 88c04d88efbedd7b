{% macro sorted_text_agg(expression) -%}
    {{ return(adapter.dispatch('sorted_text_agg', 'customer_health')(expression)) }}
{%- endmacro %}

{% macro default__sorted_text_agg(expression) -%}
    {#- The values of expression, sorted, joined by new lines (an aggregate). -#}
    {{ dbt.listagg(expression, "'\n'", 'order by ' ~ expression) }}
{%- endmacro %}

{% macro spark__sorted_text_agg(expression) -%}
    {#- Spark's listagg cannot order: collect, sort, then join. The separator is one
        new-line character on both engines, so the hash of the result agrees: the
        default's "'\n'" is a Jinja string, whose \n Jinja turns into a new line; here
        '\n' is SQL text, and Spark's parser reads the escape as a new line. -#}
    array_join(array_sort(collect_list({{ expression }})), '\n')
{%- endmacro %}
