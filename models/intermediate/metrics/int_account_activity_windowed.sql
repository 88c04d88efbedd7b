{{ config(materialized='table') }}

-- Product activity over trailing windows, at every window end the metrics need
-- (metric_windows: every score date, and the window before it for trends), for
-- all events ('*') and for each event of an event-aggregation metric: events,
-- distinct active users, distinct active days and the last activity date in the
-- window_days days ending on window_end_date. Computed without joining dates to
-- windows: every day adds its events and active day, and takes them away
-- window_days days later; every user-day covers [day, day + window_days - 1],
-- cut at the user's next active day so that a user counts once; a running sum
-- over a timeline of these changes and the window ends gives the counts.
-- Days before the earliest window start change no count at any window end
-- (they enter and leave before it), so an incremental run, scoring a few
-- dates, reads only the days of its windows.

with

account_user_days as (
    select * from {{ ref('int_account_user_days_aggregated') }}
),

metric_windows as (
    select * from {{ ref('int_metric_windows_dated') }}
),

metric_catalog as (
    select * from {{ ref('int_metric_catalog_prepared') }}
),

window_ends as (
    select distinct
        '*' as event_name,
        metric_windows.window_days,
        metric_windows.window_end_date
    from metric_windows
    union
    select distinct
        metric_catalog.event_name,
        metric_windows.window_days,
        metric_windows.window_end_date
    from metric_windows
    inner join metric_catalog
        on metric_windows.metric_id = metric_catalog.metric_id
    where metric_catalog.computation = 'event_aggregation'
),

window_bounds as (
    select min(metric_windows.window_start_date) as first_window_start_date
    from metric_windows
),

window_lengths as (
    select distinct
        window_ends.event_name,
        window_ends.window_days
    from window_ends
),

event_names as (
    select distinct window_lengths.event_name
    from window_lengths
    where window_lengths.event_name <> '*'
),

user_days as (
    select
        account_user_days.account_id,
        '*' as event_name,
        account_user_days.user_id,
        account_user_days.activity_date,
        sum(account_user_days.event_count) as event_count
    from account_user_days
    group by 1, 2, 3, 4
    union all
    select
        account_user_days.account_id,
        account_user_days.event_name,
        account_user_days.user_id,
        account_user_days.activity_date,
        sum(account_user_days.event_count) as event_count
    from account_user_days
    inner join event_names
        on account_user_days.event_name = event_names.event_name
    group by 1, 2, 3, 4
),

user_coverage as (
    select
        user_days.account_id,
        user_days.event_name,
        window_lengths.window_days,
        user_days.activity_date,
        cast(
            {{ dbt.dateadd('day', 'window_lengths.window_days', 'user_days.activity_date') }}
            as date
        ) as window_exit_date,
        lead(user_days.activity_date) over (
            partition by
                user_days.account_id,
                user_days.event_name,
                window_lengths.window_days,
                user_days.user_id
            order by user_days.activity_date
        ) as next_activity_date
    from user_days
    inner join window_lengths
        on user_days.event_name = window_lengths.event_name
),

account_days as (
    select
        user_days.account_id,
        user_days.event_name,
        window_lengths.window_days,
        user_days.activity_date,
        cast(
            {{ dbt.dateadd('day', 'window_lengths.window_days', 'user_days.activity_date') }}
            as date
        ) as window_exit_date,
        sum(user_days.event_count) as event_count
    from user_days
    inner join window_lengths
        on user_days.event_name = window_lengths.event_name
    group by 1, 2, 3, 4, 5
),

accounts_active as (
    select distinct
        user_days.account_id,
        user_days.event_name
    from user_days
),

-- one row per change of a running count, and one per window end to read
timeline as (
    select
        user_coverage.account_id,
        user_coverage.event_name,
        user_coverage.window_days,
        user_coverage.activity_date as timeline_date,
        0 as is_window_end,
        1 as user_change,
        0 as event_change,
        0 as day_change,
        cast(null as date) as activity_date
    from user_coverage
    inner join window_bounds
        on user_coverage.activity_date >= window_bounds.first_window_start_date
    union all
    select
        user_coverage.account_id,
        user_coverage.event_name,
        user_coverage.window_days,
        case
            when user_coverage.next_activity_date < user_coverage.window_exit_date
                then user_coverage.next_activity_date
            else user_coverage.window_exit_date
        end as timeline_date,
        0 as is_window_end,
        -1 as user_change,
        0 as event_change,
        0 as day_change,
        cast(null as date) as activity_date
    from user_coverage
    inner join window_bounds
        on user_coverage.activity_date >= window_bounds.first_window_start_date
    union all
    select
        account_days.account_id,
        account_days.event_name,
        account_days.window_days,
        account_days.activity_date as timeline_date,
        0 as is_window_end,
        0 as user_change,
        account_days.event_count as event_change,
        1 as day_change,
        account_days.activity_date
    from account_days
    inner join window_bounds
        on account_days.activity_date >= window_bounds.first_window_start_date
    union all
    select
        account_days.account_id,
        account_days.event_name,
        account_days.window_days,
        account_days.window_exit_date as timeline_date,
        0 as is_window_end,
        0 as user_change,
        -1 * account_days.event_count as event_change,
        -1 as day_change,
        cast(null as date) as activity_date
    from account_days
    inner join window_bounds
        on account_days.activity_date >= window_bounds.first_window_start_date
    union all
    select
        accounts_active.account_id,
        window_ends.event_name,
        window_ends.window_days,
        window_ends.window_end_date as timeline_date,
        1 as is_window_end,
        0 as user_change,
        0 as event_change,
        0 as day_change,
        cast(null as date) as activity_date
    from window_ends
    inner join accounts_active
        on window_ends.event_name = accounts_active.event_name
),

-- the changes of a day come before a window end on that day
accumulated as (
    select
        timeline.account_id,
        timeline.event_name,
        timeline.window_days,
        timeline.timeline_date,
        timeline.is_window_end,
        {%- for measure, change in [
            ('active_users', 'user_change'),
            ('event_count', 'event_change'),
            ('active_day_count', 'day_change'),
        ] %}
        sum(timeline.{{ change }}) over (
            partition by timeline.account_id, timeline.event_name, timeline.window_days
            order by timeline.timeline_date, timeline.is_window_end
            rows between unbounded preceding and current row
        ) as {{ measure }},
        {%- endfor %}
        max(timeline.activity_date) over (
            partition by timeline.account_id, timeline.event_name, timeline.window_days
            order by timeline.timeline_date, timeline.is_window_end
            rows between unbounded preceding and current row
        ) as latest_activity_date
    from timeline
),

final as (
    select
        accumulated.account_id,
        accumulated.event_name,
        accumulated.window_days,
        accumulated.timeline_date as window_end_date,
        accumulated.event_count,
        accumulated.active_users,
        accumulated.active_day_count,
        case
            when accumulated.latest_activity_date > cast({{ dbt.dateadd(
                'day', '-1 * accumulated.window_days', 'accumulated.timeline_date'
            ) }} as date)
                then accumulated.latest_activity_date
        end as last_activity_date
    from accumulated
    where accumulated.is_window_end = 1
)

select * from final
