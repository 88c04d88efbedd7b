{#- The raw tables that staging reads, as (source name, table name) pairs, in the
    order reports list them. The data-quality models loop over this list; a new
    raw table is added here once its base, stg and quarantine models exist. -#}
{% macro staged_raw_tables() %}
    {{ return([
        ('crm', 'accounts'),
        ('crm', 'csm_ratings'),
        ('product', 'users'),
        ('product', 'events'),
        ('billing', 'invoices'),
        ('support', 'tickets'),
    ]) }}
{% endmacro %}
