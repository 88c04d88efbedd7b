{#- A surrogate key for a composite grain: the md5 of the columns' text values
    joined with '|', a null written as '<null>' so that (null, 'x') and ('x', null)
    differ. Built from dbt's cross-database hash, concat and type_string. -#}
{% macro surrogate_key(columns) %}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- if not loop.first -%}
            {%- do parts.append("'|'") -%}
        {%- endif -%}
        {%- do parts.append(
            "coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '<null>')"
        ) -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{% endmacro %}
