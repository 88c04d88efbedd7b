{% macro history_complete_through() -%}
    {#- Var history_complete_through as a date literal, or none when unset. -#}
    {%- set through = var('history_complete_through', none) -%}
    {%- if through is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if execute and not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', through | string) -%}
        {{ exceptions.raise_compiler_error(
            "var history_complete_through must be a date (YYYY-MM-DD) or null, got '"
            ~ through ~ "'"
        ) }}
    {%- endif -%}
    {{ return("cast('" ~ through ~ "' as date)") }}
{%- endmacro %}
