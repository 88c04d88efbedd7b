{{ config(materialized=account_bucketed_materialization()) }}

-- Product activity over trailing windows, at every window end the metrics need
-- (metric_windows: every score date, and the window before it for trends), for
-- all events ('*') and for each event of an event-aggregation metric: events,
-- distinct active users, distinct active days and the last activity date in the
-- window_days days ending on window_end_date.
-- No date is joined to a window: each active day adds its events and its day on
-- that day and takes them away window_days days later; a user adds 1 on an
-- active day unless still counted from an earlier one, and takes it away
-- window_days after its last active day. The changes are summed per day first,
-- then a running sum per account reads the counts at each window end.
-- A day before the first window end minus window_days changes no count at any
-- window end (it enters and leaves before), so a daily run, scoring a few
-- dates, reads only the days its windows cover. A change dated before the first
-- window end is read only through the sums at that end, so it is dated on that
-- end: a daily run's running sums then go over a few rows per account instead of
-- one per day of the longest window.

with

account_user_days as (
    select * from {{ ref('int_account_user_days_aggregated') }}
    where {{ in_account_bucket('account_id') }}
),

-- the same rows for the per-event counts: an import read by both halves of user_days
-- would be buffered whole before the date filter (DuckDB materializes a CTE that two
-- steps read), where a daily run needs a few weeks of it (an M daily run, the
-- query alone: 2.4 -> 2.1 s)
account_user_days_per_event as (
    select * from {{ ref('int_account_user_days_aggregated') }}
    where {{ in_account_bucket('account_id') }}
),

metric_windows as (
    select * from {{ ref('int_metric_windows_dated') }}
),

metric_catalog as (
    select * from {{ ref('int_metric_catalog_prepared') }}
),

-- Event '*' (all events) only at the windows of the metrics that read it
-- (reads_account_activity). Summed over every catalog window (60, 180 and 365
-- days too, for onboarding, invoices and CSM contact), the model wrote 35.5M
-- rows at M instead of 24.6M and took 51 s instead of 30 s, and the 365-day
-- window made a daily run read the whole year of user-days.
window_ends as (
    select distinct
        '*' as event_name,
        metric_windows.window_days,
        metric_windows.window_end_date
    from metric_windows
    inner join metric_catalog
        on metric_windows.metric_id = metric_catalog.metric_id
    where metric_catalog.reads_account_activity
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

-- the first day that can count at a window end of each length
window_lengths as (
    select
        window_ends.event_name,
        window_ends.window_days,
        cast({{ dbt.dateadd(
            'day', '1 - window_ends.window_days', 'min(window_ends.window_end_date)'
        ) }} as date) as first_counted_date,
        min(window_ends.window_end_date) as first_window_end_date,
        max(window_ends.window_end_date) as last_window_end_date
    from window_ends
    group by 1, 2
),

event_reach as (
    select
        window_lengths.event_name,
        min(window_lengths.first_counted_date) as first_counted_date,
        min(window_lengths.first_window_end_date) as first_window_end_date
    from window_lengths
    group by 1
),

user_days as (
    select
        account_user_days.account_id,
        '*' as event_name,
        account_user_days.user_id,
        account_user_days.activity_date,
        sum(account_user_days.event_count) as event_count
    from account_user_days
    inner join event_reach
        on
            event_reach.event_name = '*'
            and account_user_days.activity_date >= event_reach.first_counted_date
    group by 1, 2, 3, 4
    union all
    select
        account_user_days_per_event.account_id,
        account_user_days_per_event.event_name,
        account_user_days_per_event.user_id,
        account_user_days_per_event.activity_date,
        account_user_days_per_event.event_count
    from account_user_days_per_event
    inner join event_reach
        on
            account_user_days_per_event.event_name = event_reach.event_name
            and account_user_days_per_event.activity_date >= event_reach.first_counted_date
),

-- A user's days up to its event's first window end matter only through the
-- latest of them: a window ending there or later holds one of them only if it
-- holds the latest, and the latest is the previous active day of the user's next
-- one. One row per user is enough, and a daily run sorts a few days of users
-- instead of the longest window's.
user_days_to_sequence as (
    select
        user_days.account_id,
        user_days.event_name,
        user_days.user_id,
        max(user_days.activity_date) as activity_date
    from user_days
    inner join event_reach
        on user_days.event_name = event_reach.event_name
    where user_days.activity_date <= event_reach.first_window_end_date
    group by 1, 2, 3
    union all
    select
        user_days.account_id,
        user_days.event_name,
        user_days.user_id,
        user_days.activity_date
    from user_days
    inner join event_reach
        on user_days.event_name = event_reach.event_name
    where user_days.activity_date > event_reach.first_window_end_date
),

user_days_sequenced as (
    select
        user_days_to_sequence.account_id,
        user_days_to_sequence.event_name,
        user_days_to_sequence.activity_date,
        lag(user_days_to_sequence.activity_date) over (
            partition by
                user_days_to_sequence.account_id,
                user_days_to_sequence.event_name,
                user_days_to_sequence.user_id
            order by user_days_to_sequence.activity_date
        ) as previous_activity_date,
        lead(user_days_to_sequence.activity_date) over (
            partition by
                user_days_to_sequence.account_id,
                user_days_to_sequence.event_name,
                user_days_to_sequence.user_id
            order by user_days_to_sequence.activity_date
        ) as next_activity_date
    from user_days_to_sequence
),

user_days_windowed as (
    select
        user_days_sequenced.account_id,
        user_days_sequenced.event_name,
        window_lengths.window_days,
        user_days_sequenced.activity_date,
        cast({{ dbt.dateadd(
            'day', 'window_lengths.window_days', 'user_days_sequenced.activity_date'
        ) }} as date) as window_exit_date,
        -- not counted yet: no earlier day still in the window (or none read)
        coalesce(
            user_days_sequenced.previous_activity_date < window_lengths.first_counted_date
            or user_days_sequenced.activity_date >= cast(
                {{ dbt.dateadd(
                    'day', 'window_lengths.window_days', 'user_days_sequenced.previous_activity_date'
                ) }} as date
            ),
            true
        ) as is_user_entry,
        window_lengths.first_window_end_date,
        window_lengths.last_window_end_date,
        user_days_sequenced.next_activity_date
    from user_days_sequenced
    inner join window_lengths
        on
            user_days_sequenced.event_name = window_lengths.event_name
            and user_days_sequenced.activity_date >= window_lengths.first_counted_date
),

-- the account's events per day, summed before the fan-out to window lengths
account_day_events as (
    select
        user_days.account_id,
        user_days.event_name,
        user_days.activity_date,
        sum(user_days.event_count) as event_count
    from user_days
    group by 1, 2, 3
),

account_days as (
    select
        account_day_events.account_id,
        account_day_events.event_name,
        window_lengths.window_days,
        account_day_events.activity_date,
        cast(
            {{ dbt.dateadd(
                'day', 'window_lengths.window_days', 'account_day_events.activity_date'
            ) }} as date
        ) as window_exit_date,
        window_lengths.first_window_end_date,
        account_day_events.event_count
    from account_day_events
    inner join window_lengths
        on
            account_day_events.event_name = window_lengths.event_name
            and account_day_events.activity_date >= window_lengths.first_counted_date
),

accounts_active as (
    select distinct
        user_days.account_id,
        user_days.event_name
    from user_days
),

-- one row per change of a count, and one per window end to read; a change
-- before the first window end is dated on it (see the top)
changes as (
    select
        user_days_windowed.account_id,
        user_days_windowed.event_name,
        user_days_windowed.window_days,
        greatest(
            user_days_windowed.activity_date, user_days_windowed.first_window_end_date
        ) as change_date,
        1 as user_change,
        0 as event_change,
        0 as day_change,
        cast(null as date) as activity_date,
        0 as is_window_end
    from user_days_windowed
    where user_days_windowed.is_user_entry
    union all
    -- a user leaves window_days after its last active day before a gap that long
    select
        user_days_windowed.account_id,
        user_days_windowed.event_name,
        user_days_windowed.window_days,
        greatest(
            user_days_windowed.window_exit_date, user_days_windowed.first_window_end_date
        ) as change_date,
        -1 as user_change,
        0 as event_change,
        0 as day_change,
        cast(null as date) as activity_date,
        0 as is_window_end
    from user_days_windowed
    where
        coalesce(
            user_days_windowed.next_activity_date >= user_days_windowed.window_exit_date, true
        )
        and user_days_windowed.window_exit_date <= user_days_windowed.last_window_end_date
    union all
    select
        account_days.account_id,
        account_days.event_name,
        account_days.window_days,
        greatest(account_days.activity_date, account_days.first_window_end_date)
            as change_date,
        0 as user_change,
        account_days.event_count as event_change,
        1 as day_change,
        account_days.activity_date,
        0 as is_window_end
    from account_days
    union all
    select
        account_days.account_id,
        account_days.event_name,
        account_days.window_days,
        greatest(account_days.window_exit_date, account_days.first_window_end_date)
            as change_date,
        0 as user_change,
        -1 * account_days.event_count as event_change,
        -1 as day_change,
        cast(null as date) as activity_date,
        0 as is_window_end
    from account_days
    inner join window_lengths
        on
            account_days.event_name = window_lengths.event_name
            and account_days.window_days = window_lengths.window_days
    where account_days.window_exit_date <= window_lengths.last_window_end_date
    union all
    select
        accounts_active.account_id,
        window_ends.event_name,
        window_ends.window_days,
        window_ends.window_end_date as change_date,
        0 as user_change,
        0 as event_change,
        0 as day_change,
        cast(null as date) as activity_date,
        1 as is_window_end
    from window_ends
    inner join accounts_active
        on window_ends.event_name = accounts_active.event_name
),

-- a day's changes all apply before a window end on that day
daily_changes as (
    select
        changes.account_id,
        changes.event_name,
        changes.window_days,
        changes.change_date,
        sum(changes.user_change) as user_change,
        sum(changes.event_change) as event_change,
        sum(changes.day_change) as day_change,
        max(changes.activity_date) as activity_date,
        max(changes.is_window_end) as is_window_end
    from changes
    group by 1, 2, 3, 4
),

accumulated as (
    select
        daily_changes.account_id,
        daily_changes.event_name,
        daily_changes.window_days,
        daily_changes.change_date,
        daily_changes.is_window_end,
        {%- for measure, change in [
            ('active_users', 'user_change'),
            ('event_count', 'event_change'),
            ('active_day_count', 'day_change'),
        ] %}
        sum(daily_changes.{{ change }}) over (
            partition by
                daily_changes.account_id, daily_changes.event_name, daily_changes.window_days
            order by daily_changes.change_date
            rows between unbounded preceding and current row
        ) as {{ measure }},
        {%- endfor %}
        max(daily_changes.activity_date) over (
            partition by
                daily_changes.account_id, daily_changes.event_name, daily_changes.window_days
            order by daily_changes.change_date
            rows between unbounded preceding and current row
        ) as latest_activity_date
    from daily_changes
),

final as (
    select
        accumulated.account_id,
        accumulated.event_name,
        accumulated.window_days,
        accumulated.change_date as window_end_date,
        accumulated.event_count,
        accumulated.active_users,
        accumulated.active_day_count,
        case
            when accumulated.latest_activity_date > cast({{ dbt.dateadd(
                'day', '-1 * accumulated.window_days', 'accumulated.change_date'
            ) }} as date)
                then accumulated.latest_activity_date
        end as last_activity_date
    from accumulated
    where accumulated.is_window_end = 1
)

select * from final
