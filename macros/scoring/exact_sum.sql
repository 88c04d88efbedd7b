{#- The sum of a floating-point expression that does not depend on the order the
    engine adds the rows in: each value is cast to decimal(18, 9) (the same
    rounding on every run) and decimals add up exactly. A float sum varies in its
    last bits with threads and partitions, and a score on a band cutoff then
    changes band from one build to the next. Returns a double. Each value must be
    below 1e9 in magnitude; 9 decimals are the scores' own (var score_decimals).
    decimal(18, 9) fits in 8 bytes: at M it sums as fast as doubles, where
    decimal(38, 18) took 50% longer. -#}
{% macro exact_sum(expression) %}
    {%- set decimals = var('score_decimals') -%}
    {%- if execute and (decimals is not number or decimals != decimals | int
        or decimals < 0 or decimals > 9) -%}
        {{ exceptions.raise_compiler_error(
            "var score_decimals must be a whole number from 0 to 9 (the scores are summed at "
            ~ "9 decimals by exact_sum, so more would only add noise), got '" ~ decimals ~ "'"
        ) }}
    {%- endif -%}
    {{- return(adapter.dispatch('exact_sum', 'customer_health')(expression)) -}}
{% endmacro %}

{% macro default__exact_sum(expression) %}
    {{- return(
        'cast(sum(cast(' ~ expression ~ ' as decimal(18, 9))) as ' ~ type_double() ~ ')'
    ) -}}
{% endmacro %}

{#- BigQuery's NUMERIC is decimal(38, 9). -#}
{% macro bigquery__exact_sum(expression) %}
    {{- return(
        'cast(sum(cast(' ~ expression ~ ' as numeric)) as ' ~ type_double() ~ ')'
    ) -}}
{% endmacro %}
