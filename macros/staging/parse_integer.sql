{#- Parses text as a whole number, or returns null: a value that is not a number,
    has a fractional part ('4.5') or does not fit a 32-bit integer gives null, where a
    plain cast would round on some engines ('4.5' -> 5 on DuckDB), truncate on others,
    or abort the query. Goes through the project's try_cast to a decimal, so one bad
    value never fails the build. -#}
{% macro parse_integer(expression) %}
    {%- set as_number = try_cast(expression, dbt.type_numeric()) | trim -%}
    case
        when {{ as_number }} = floor({{ as_number }})
            and {{ as_number }} between -2147483648 and 2147483647
            then cast({{ as_number }} as {{ dbt.type_int() }})
    end
{%- endmacro %}
