-- The trailing window of every catalog metric at every score date
-- (as_of_date: int_score_dates_spined) as dates: window_days days ending
-- on as_of_date (both bounds inclusive). Trend metrics also get the window
-- before it, of the same length, to compare with.

with

metric_catalog as (
    select * from {{ ref('int_metric_catalog_prepared') }}
),

as_of as (
    select * from {{ ref('int_score_dates_spined') }}
),

current_windows as (
    select
        metric_catalog.metric_id,
        'current' as period,
        metric_catalog.window_days,
        as_of.as_of_date,
        cast(
            {{ dbt.dateadd('day', '1 - metric_catalog.window_days', 'as_of.as_of_date') }}
            as date
        ) as window_start_date,
        as_of.as_of_date as window_end_date
    from metric_catalog
    cross join as_of
),

previous_windows as (
    select
        metric_catalog.metric_id,
        'previous' as period,
        metric_catalog.window_days,
        as_of.as_of_date,
        cast(
            {{ dbt.dateadd('day', '1 - 2 * metric_catalog.window_days', 'as_of.as_of_date') }}
            as date
        ) as window_start_date,
        cast(
            {{ dbt.dateadd('day', '-1 * metric_catalog.window_days', 'as_of.as_of_date') }}
            as date
        ) as window_end_date
    from metric_catalog
    cross join as_of
    where metric_catalog.measure_type = 'trend'
),

final as (
    select * from current_windows
    union all
    select * from previous_windows
)

select * from final
