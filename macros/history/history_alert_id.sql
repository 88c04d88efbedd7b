{% macro history_alert_id(rule_id, account_id, alert_date, metric_id) -%}
    {{ return(adapter.dispatch('history_alert_id', 'customer_health')(
        rule_id, account_id, alert_date, metric_id
    )) }}
{%- endmacro %}

{% macro default__history_alert_id(rule_id, account_id, alert_date, metric_id) -%}
    {#- md5 of rule, account, date and metric ('' when none), '|'-separated. -#}
    {{ dbt.hash(dbt.concat([
        rule_id, "'|'", account_id, "'|'",
        'cast(' ~ alert_date ~ ' as ' ~ dbt.type_string() ~ ')', "'|'",
        'coalesce(' ~ metric_id ~ ", '')",
    ])) }}
{%- endmacro %}
