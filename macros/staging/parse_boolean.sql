{#- Parses text as a boolean, or returns null when it is not one of the spellings
    below (case-insensitive, surrounding blanks ignored). Written out rather than
    cast because engines accept different spellings ('yes' casts on DuckDB and Spark,
    not on others), and a cast of a bad value must never abort the build. -#}
{% macro parse_boolean(expression) %}
    case
        when lower({{ trim_blanks(expression) }}) in ('true', 't', 'yes', 'y', '1') then true
        when lower({{ trim_blanks(expression) }}) in ('false', 'f', 'no', 'n', '0') then false
    end
{%- endmacro %}
