{#- Parses text as a whole number, or returns null: a value that is not a number,
    has a fractional part ('4.5', '4.0000001') or does not fit a 32-bit integer gives
    null, where a plain cast would round on some engines ('4.5' -> 5 on DuckDB),
    truncate on others, or abort the query. Goes through the project's try_cast to a
    double, not dbt's numeric type: that has 6 decimals on DuckDB, so it rounded
    '4.0000001' to 4 and '4.9999999' to 5 before the check could see a fraction. A
    double sees any fraction down to its precision (about 15 significant digits);
    'nan' and 'inf' fail the range check. -#}
{% macro parse_integer(expression) %}
    {%- set as_number = try_cast(expression, type_double()) | trim -%}
    case
        when {{ as_number }} = floor({{ as_number }})
            and {{ as_number }} between -2147483648 and 2147483647
            then cast({{ as_number }} as {{ dbt.type_int() }})
    end
{%- endmacro %}
