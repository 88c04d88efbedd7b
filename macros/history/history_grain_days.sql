{% macro history_grain_days() -%}
    {#- Days between two score dates of the history: var history_grain, day or week. -#}
    {%- set grains = {'day': 1, 'week': 7} -%}
    {%- set grain = var('history_grain') -%}
    {%- if execute and grain not in grains -%}
        {{ exceptions.raise_compiler_error(
            "var history_grain must be 'day' or 'week', got '" ~ grain ~ "'"
        ) }}
    {%- endif -%}
    {{ return(grains.get(grain, 1)) }}
{%- endmacro %}
