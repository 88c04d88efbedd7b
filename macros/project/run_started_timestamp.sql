{% macro run_started_timestamp() -%}
    {#- When this dbt invocation started (run_started_at, UTC), as a SQL timestamp: the
        same value in every row and every model a run writes, so that a stamp column
        tells which rows the latest run wrote. -#}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
