{#- The per-metric score of domain.md: piecewise-linear on the raw-value axis
    through worst_value (score 0), red_threshold (the yellow cutoff),
    green_threshold (the green cutoff) and best_value (score 100), clamped to
    [0, 100]. For lower_is_better every value is mirrored (multiplied by -1),
    so one formula serves both directions. The branches run from best to worst,
    so a value on a point shared by two segments gets the better score, and a
    value exactly at a threshold gets the cutoff. Null value -> null score. -#}
{% macro score_against_thresholds(
    value,
    direction,
    worst_value,
    red_threshold,
    green_threshold,
    best_value,
    yellow_cutoff,
    green_cutoff
) %}
    {%- set v = _oriented_value(value, direction) -%}
    {%- set worst = _oriented_value(worst_value, direction) -%}
    {%- set red = _oriented_value(red_threshold, direction) -%}
    {%- set green = _oriented_value(green_threshold, direction) -%}
    {%- set best = _oriented_value(best_value, direction) -%}
    {%- set yellow_at = 'cast(' ~ yellow_cutoff ~ ' as ' ~ type_double() ~ ')' -%}
    {%- set green_at = 'cast(' ~ green_cutoff ~ ' as ' ~ type_double() ~ ')' -%}
    {#- 100 is the top of the 0-100 score scale, not a setting. -#}
    case
        when {{ v }} is null then null
        when {{ v }} >= {{ best }} then cast(100 as {{ type_double() }})
        when {{ v }} >= {{ green }}
            then {{ green_at }} + (100 - {{ green_at }})
                * ({{ v }} - {{ green }}) / nullif({{ best }} - {{ green }}, 0)
        when {{ v }} >= {{ red }}
            then {{ yellow_at }} + ({{ green_at }} - {{ yellow_at }})
                * ({{ v }} - {{ red }}) / nullif({{ green }} - {{ red }}, 0)
        when {{ v }} > {{ worst }}
            then {{ yellow_at }}
                * ({{ v }} - {{ worst }}) / nullif({{ red }} - {{ worst }}, 0)
        else cast(0 as {{ type_double() }})
    end
{%- endmacro %}


{#- The metric's traffic-light band from its raw value: at least green (in the
    metric's direction) -> green, at least red -> yellow, else red; null -> null.
    Agrees with the band of the score of score_against_thresholds by construction. -#}
{% macro band_from_thresholds(value, direction, red_threshold, green_threshold) %}
    {%- set v = _oriented_value(value, direction) -%}
    {%- set red = _oriented_value(red_threshold, direction) -%}
    {%- set green = _oriented_value(green_threshold, direction) -%}
    case
        when {{ v }} is null then null
        when {{ v }} >= {{ green }} then 'green'
        when {{ v }} >= {{ red }} then 'yellow'
        else 'red'
    end
{%- endmacro %}


{#- A value as a double, negated for lower_is_better so that larger is always better. -#}
{% macro _oriented_value(value, direction) %}
    {{- return(
        '(case when ' ~ direction ~ " = 'lower_is_better' then -1 else 1 end * cast("
        ~ value ~ ' as ' ~ type_double() ~ '))'
    ) -}}
{% endmacro %}
