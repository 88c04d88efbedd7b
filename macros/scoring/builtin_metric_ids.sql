{#- The metric ids whose computation is written in SQL
    (int_account_metrics_computed). Any other catalog row must name an event_name
    and an aggregation: a feature-adoption metric computed generically. -#}
{% macro builtin_metric_ids() %}
    {{- return([
        'active_users',
        'events_per_active_user',
        'days_since_last_activity',
        'usage_trend',
        'onboarding_goal',
        'overdue_invoices',
        'avg_days_to_pay',
        'open_tickets_per_user',
        'median_resolution_hours',
        'avg_csat',
        'days_since_csm_contact',
        'csm_rating',
    ]) -}}
{% endmacro %}

{#- The builtin metrics that read their account's activity over all events in the
    metric's window (int_account_activity_windowed, event '*'). -#}
{% macro account_activity_metric_ids() %}
    {{- return([
        'active_users',
        'events_per_active_user',
        'days_since_last_activity',
        'usage_trend',
    ]) -}}
{% endmacro %}
