{#- A 64-bit hash of a row's grain columns, for uniqueness tests on tables of tens of
    millions of rows: grouping by one integer is cheaper than by several strings. Equal
    values always hash equal, so a hash seen once proves its rows unique; the test
    then groups the few rows whose hash repeats by the columns themselves, so a
    collision can never fail a test. Returns none where no such hash is known; the
    test then groups by the columns. -#}
{% macro grain_hash(columns) %}
    {{- return(adapter.dispatch('grain_hash', 'customer_health')(columns)) -}}
{% endmacro %}

{% macro default__grain_hash(columns) %}
    {{- return(none) -}}
{% endmacro %}

{% macro duckdb__grain_hash(columns) %}
    {{- return('hash(' ~ columns | join(', ') ~ ')') -}}
{% endmacro %}

{% macro spark__grain_hash(columns) %}
    {{- return('xxhash64(' ~ columns | join(', ') ~ ')') -}}
{% endmacro %}
