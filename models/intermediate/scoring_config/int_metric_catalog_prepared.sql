-- The metric catalog with its defaults filled in: the measure group is the
-- signal category unless the row names another, and each metric is either
-- built in (computed by SQL in int_account_metrics_computed) or an event
-- aggregation declared by its event_name and aggregation.

with

metric_catalog as (
    select * from {{ ref('metric_catalog') }}
),

prepared as (
    select
        metric_catalog.metric_id,
        metric_catalog.label,
        metric_catalog.signal_category,
        coalesce(metric_catalog.measure_group, metric_catalog.signal_category)
            as measure_group,
        metric_catalog.measure_type,
        metric_catalog.direction,
        metric_catalog.window_days,
        metric_catalog.normalization,
        metric_catalog.missing_data_policy,
        metric_catalog.event_name,
        metric_catalog.aggregation,
        metric_catalog.goal_target,
        metric_catalog.description,
        case
            when metric_catalog.metric_id in (
                {%- for metric_id in builtin_metric_ids() %}
                '{{ metric_id }}'{{ ',' if not loop.last }}
                {%- endfor %}
            ) then 'builtin'
            when metric_catalog.event_name is not null then 'event_aggregation'
        end as computation,
        -- reads the account's activity over all events in its window (values or the
        -- per-active-user normalizer): only these windows are summed for event '*'
        coalesce(
            metric_catalog.metric_id in (
                {%- for metric_id in account_activity_metric_ids() %}
                '{{ metric_id }}'{{ ',' if not loop.last }}
                {%- endfor %}
            )
            or metric_catalog.normalization = 'per_active_user',
            false
        ) as reads_account_activity
    from metric_catalog
),

final as (
    select * from prepared
)

select * from final
