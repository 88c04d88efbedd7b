{#- One-way hash of a personal value (an email), so that staging can keep a stable
    pseudonymous key for it and nothing after staging ever sees the value itself.
    The value is trimmed and lower-cased first: ' Ann@X.com' and 'ann@x.com' hash
    alike. Returns a 64-character hex SHA-256, or null for a null value. -#}
{% macro hash_pii(expression) %}
    {{ return(adapter.dispatch('hash_pii', 'customer_health')(expression)) }}
{% endmacro %}

{# Spark, Databricks and Snowflake name it sha2(value, bits). #}
{% macro default__hash_pii(expression) %}
    sha2(lower(trim({{ expression }})), 256)
{% endmacro %}

{% macro duckdb__hash_pii(expression) %}
    sha256(lower(trim({{ expression }})))
{% endmacro %}

{% macro postgres__hash_pii(expression) %}
    encode(sha256(convert_to(lower(trim({{ expression }})), 'UTF8')), 'hex')
{% endmacro %}

{% macro bigquery__hash_pii(expression) %}
    to_hex(sha256(lower(trim({{ expression }}))))
{% endmacro %}
