{% macro trend_label(change_7d, change_30d) -%}
    {#- improving / declining when the health score moved by at least var
        trend_min_change_points over var trend_window_days (7 or 30) days, else
        stable; unknown without a score then and now. -#}
    {%- set windows = {7: change_7d, 30: change_30d} -%}
    {%- set window_days = var('trend_window_days') | int -%}
    {%- if execute and window_days not in windows -%}
        {{ exceptions.raise_compiler_error(
            'var trend_window_days must be 7 or 30, got ' ~ window_days
        ) }}
    {%- endif -%}
    {%- set change = windows.get(window_days, change_7d) -%}
    case
        when {{ change }} is null then 'unknown'
        when {{ change }} >= {{ var('trend_min_change_points') }} then 'improving'
        when {{ change }} <= -1 * {{ var('trend_min_change_points') }} then 'declining'
        else 'stable'
    end
{%- endmacro %}
