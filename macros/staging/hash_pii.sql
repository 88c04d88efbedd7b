{#- One-way hash of a personal value (an email), so that staging can keep a stable
    pseudonymous key for it and nothing after staging ever sees the value itself.
    The value is trimmed (trim_blanks) and lower-cased first: ' Ann@X.com' and
    'ann@x.com' hash alike. Returns a 64-character hex SHA-256, or null for a null
    value. -#}
{% macro hash_pii(expression) %}
    {{ return(adapter.dispatch('hash_pii', 'customer_health')(expression)) }}
{% endmacro %}

{# Spark, Databricks and Snowflake name it sha2(value, bits). #}
{% macro default__hash_pii(expression) %}
    sha2(lower({{ trim_blanks(expression) }}), 256)
{% endmacro %}

{% macro duckdb__hash_pii(expression) %}
    sha256(lower({{ trim_blanks(expression) }}))
{% endmacro %}

{% macro postgres__hash_pii(expression) %}
    encode(sha256(convert_to(lower({{ trim_blanks(expression) }}), 'UTF8')), 'hex')
{% endmacro %}

{% macro bigquery__hash_pii(expression) %}
    to_hex(sha256(lower({{ trim_blanks(expression) }})))
{% endmacro %}

{#- A raw column as staging keeps a personal value: hash_pii of its text, null when
    blank. The users' base model and pii_hashed_rows both use it, so that the
    reconciliation compares raw rows exactly as staging collapses them. -#}
{% macro hash_pii_column(column) %}
    {%- set text = "nullif(" ~ trim_blanks("cast(" ~ column ~ " as " ~ dbt.type_string() ~ ")")
        ~ ", '')" -%}
    {{- return(hash_pii(text) | trim) -}}
{% endmacro %}

{#- The rows of `relation` with each of `pii_columns` replaced by hash_pii of its
    trimmed value (null when blank), as staging keeps it: a subquery, or the relation
    itself at parse time. The columns are read from a query, since the raw table may
    be a file reader (a DuckDB external source) that the catalog does not describe. -#}
{% macro pii_hashed_rows(relation, pii_columns) %}
    {%- if not execute -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set pii_names = pii_columns | map('lower') | list -%}
    {%- set columns = run_query('select * from ' ~ relation ~ ' where 1 = 0').column_names -%}
    {%- set projections = [] -%}
    {%- for column in columns -%}
        {%- if column | lower in pii_names -%}
            {%- do projections.append(hash_pii_column(column) ~ " as " ~ column) -%}
        {%- else -%}
            {%- do projections.append(column) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return('(select ' ~ projections | join(', ') ~ ' from ' ~ relation ~ ')') }}
{% endmacro %}
