{{ config(materialized=account_bucketed_materialization()) }}

-- The raw and normalized value of every catalog metric for every account in
-- scope at every score date (as_of_date: int_score_dates_spined), over each
-- metric's trailing window ending on that date. Product activity over windows
-- comes from int_account_activity_windowed (running sums, no date x window
-- join), never from the raw events; invoices, tickets and ratings are joined to
-- the windows and aggregated per account and date.
-- Each metric row is the fan-out of its account's activity row in the metric's
-- window to the metrics of that window (a join to a few thousand slots), carrying
-- its value: built-in values are joined to the activity rows at the grain of
-- account x date, side by side, and event aggregations read their event's counts
-- in the same step. The rows used to be a skeleton left-joined to the union of
-- all values on account, date and metric: at M that one join held the 12 GB
-- memory limit and spilled 4 GB (DECISIONLOG, Performance).
-- A null value is missing data (scored per the metric's missing-data policy);
-- product usage and open tickets default to 0 (no use is data), the others are
-- missing when there is nothing to measure (no invoice, no resolved ticket...).

with

accounts as (
    select * from {{ ref('int_accounts_segmented') }}
    where {{ in_account_bucket('account_id') }}
),

metric_catalog as (
    select * from {{ ref('int_metric_catalog_prepared') }}
),

metric_windows as (
    select * from {{ ref('int_metric_windows_dated') }}
),

account_user_days as (
    select * from {{ ref('int_account_user_days_aggregated') }}
    where {{ in_account_bucket('account_id') }}
),

activity_windowed as (
    select * from {{ ref('int_account_activity_windowed') }}
    where {{ in_account_bucket('account_id') }}
),

users as (
    select * from {{ ref('stg_product__users') }}
    where {{ in_account_bucket('account_id') }}
),

invoices as (
    select * from {{ ref('stg_billing__invoices') }}
    where {{ in_account_bucket('account_id') }}
),

tickets as (
    select * from {{ ref('stg_support__tickets') }}
    where {{ in_account_bucket('account_id') }}
),

csm_ratings as (
    select * from {{ ref('stg_crm__csm_ratings') }}
    where {{ in_account_bucket('account_id') }}
),

accounts_in_scope as (
    select
        accounts.account_id,
        accounts.as_of_date,
        accounts.created_on,
        accounts.account_age_days,
        accounts.seats,
        accounts.segment,
        accounts.lifecycle_stage
    from accounts
    where accounts.is_in_scope
),

-- Product activity ------------------------------------------------------------

activity_periods as (
    select distinct
        metric_windows.as_of_date,
        metric_windows.period,
        metric_windows.window_days,
        metric_windows.window_start_date,
        metric_windows.window_end_date
    from metric_windows
),

activity_in_periods as (
    select
        activity_windowed.account_id,
        activity_periods.as_of_date,
        activity_periods.period,
        activity_periods.window_days,
        activity_windowed.event_count,
        activity_windowed.active_users,
        activity_windowed.last_activity_date
    from activity_windowed
    inner join activity_periods
        on
            activity_windowed.window_days = activity_periods.window_days
            and activity_windowed.window_end_date = activity_periods.window_end_date
    where activity_windowed.event_name = '*'
),

-- One row per account, date and window of any metric: the skeleton of the metric
-- rows. The activity counts are those of int_account_activity_windowed, which sums
-- all events only over windows whose metrics read them (reads_account_activity);
-- at other windows they are 0 here and read by no metric.
account_activity as (
    select
        accounts_in_scope.account_id,
        accounts_in_scope.as_of_date,
        accounts_in_scope.created_on,
        accounts_in_scope.seats,
        accounts_in_scope.segment,
        accounts_in_scope.lifecycle_stage,
        activity_periods.period,
        activity_periods.window_days,
        coalesce(activity_in_periods.event_count, 0) as event_count,
        coalesce(activity_in_periods.active_users, 0) as active_users,
        activity_in_periods.last_activity_date
    from accounts_in_scope
    inner join activity_periods
        on accounts_in_scope.as_of_date = activity_periods.as_of_date
    left join activity_in_periods
        on
            accounts_in_scope.account_id = activity_in_periods.account_id
            and activity_periods.as_of_date = activity_in_periods.as_of_date
            and activity_periods.period = activity_in_periods.period
            and activity_periods.window_days = activity_in_periods.window_days
),

current_windows as (
    select * from metric_windows
    where period = 'current'
),

usage_trend_values as (
    select
        accounts_in_scope.account_id,
        accounts_in_scope.as_of_date,
        current_windows.metric_id,
        -- % change; none for an account younger than both windows together
        case
            when accounts_in_scope.created_on <= previous_windows.window_start_date
                then 100 * cast(
                    current_activity.event_count - previous_activity.event_count
                    as {{ type_double() }}
                ) / nullif(cast(previous_activity.event_count as {{ type_double() }}), 0)
        end as raw_value
    from current_windows
    inner join metric_windows as previous_windows
        on
            current_windows.metric_id = previous_windows.metric_id
            and current_windows.as_of_date = previous_windows.as_of_date
            and previous_windows.period = 'previous'
    inner join accounts_in_scope
        on current_windows.as_of_date = accounts_in_scope.as_of_date
    inner join account_activity as current_activity
        on
            accounts_in_scope.account_id = current_activity.account_id
            and accounts_in_scope.as_of_date = current_activity.as_of_date
            and current_activity.period = 'current'
            and current_windows.window_days = current_activity.window_days
    inner join account_activity as previous_activity
        on
            accounts_in_scope.account_id = previous_activity.account_id
            and accounts_in_scope.as_of_date = previous_activity.as_of_date
            and previous_activity.period = 'previous'
            and current_windows.window_days = previous_activity.window_days
    where current_windows.metric_id = 'usage_trend'
),

-- a user is activated from its first day with any event on
account_users_seen as (
    select
        account_user_days.account_id,
        account_user_days.user_id,
        min(account_user_days.activity_date) as first_activity_date
    from account_user_days
    group by 1, 2
),

-- A user counts as activated from its first active day until the day it is
-- deactivated: +1 and -1 on those days, summed up to each score date (a running
-- sum, not a join of every user to every later date)
activation_changes as (
    select
        account_users_seen.account_id,
        account_users_seen.first_activity_date as change_date,
        1 as activated_change
    from account_users_seen
    left join users
        on account_users_seen.user_id = users.user_id
    where
        users.deactivated_at is null
        or cast(users.deactivated_at as date) > account_users_seen.first_activity_date
    union all
    select
        account_users_seen.account_id,
        cast(users.deactivated_at as date) as change_date,
        -1 as activated_change
    from account_users_seen
    inner join users
        on account_users_seen.user_id = users.user_id
    where cast(users.deactivated_at as date) > account_users_seen.first_activity_date
),

-- the changes and the score dates on one timeline per account
activation_timeline as (
    select
        activation_changes.account_id,
        activation_changes.change_date,
        activation_changes.activated_change,
        0 as is_score_date
    from activation_changes
    union all
    select
        accounts_in_scope.account_id,
        accounts_in_scope.as_of_date as change_date,
        0 as activated_change,
        1 as is_score_date
    from accounts_in_scope
),

-- a day's changes apply before the score date on that day
activation_daily as (
    select
        activation_timeline.account_id,
        activation_timeline.change_date,
        sum(activation_timeline.activated_change) as activated_change,
        max(activation_timeline.is_score_date) as is_score_date
    from activation_timeline
    group by 1, 2
),

activated_users as (
    select
        activation_daily.account_id,
        activation_daily.change_date as as_of_date,
        activation_daily.is_score_date,
        sum(activation_daily.activated_change) over (
            partition by activation_daily.account_id
            order by activation_daily.change_date
            rows between unbounded preceding and current row
        ) as activated_user_count
    from activation_daily
),

onboarding_goal_values as (
    select
        accounts_in_scope.account_id,
        accounts_in_scope.as_of_date,
        current_windows.metric_id,
        -- activated share of seats, in % of where the account should be by its
        -- age: goal_target by window_days, pro rata before that
        100 * (
            cast(coalesce(activated_users.activated_user_count, 0) as {{ type_double() }})
            / nullif(cast(accounts_in_scope.seats as {{ type_double() }}), 0)
        ) / nullif(
            metric_catalog.goal_target * case
                when accounts_in_scope.account_age_days >= current_windows.window_days
                    then 1
                else
                    cast(accounts_in_scope.account_age_days as {{ type_double() }})
                    / nullif(cast(current_windows.window_days as {{ type_double() }}), 0)
            end,
            0
        ) as raw_value
    from current_windows
    inner join metric_catalog
        on current_windows.metric_id = metric_catalog.metric_id
    inner join accounts_in_scope
        on current_windows.as_of_date = accounts_in_scope.as_of_date
    left join activated_users
        on
            accounts_in_scope.account_id = activated_users.account_id
            and accounts_in_scope.as_of_date = activated_users.as_of_date
            and activated_users.is_score_date = 1
    where current_windows.metric_id = 'onboarding_goal'
),

event_aggregation_windows as (
    select
        metric_windows.as_of_date,
        metric_windows.metric_id,
        metric_windows.period,
        metric_windows.window_days,
        metric_windows.window_start_date,
        metric_windows.window_end_date,
        metric_catalog.measure_type,
        metric_catalog.normalization,
        metric_catalog.event_name,
        metric_catalog.aggregation
    from metric_windows
    inner join metric_catalog
        on metric_windows.metric_id = metric_catalog.metric_id
    where metric_catalog.computation = 'event_aggregation'
),

{#- the catalog row's aggregation of its event in a window (0 when none) -#}
{%- set event_aggregated_value -%}
cast(
            case event_aggregation_windows.aggregation
                when 'count' then coalesce(activity_windowed.event_count, 0)
                when 'distinct_users' then coalesce(activity_windowed.active_users, 0)
                when 'distinct_active_days'
                    then coalesce(activity_windowed.active_day_count, 0)
            end as {{ type_double() }}
        )
{%- endset %}

-- One row per account in scope, date and event-aggregation metric in its current
-- window, from the account's activity row in that window (segment, stage and the
-- users active in it come along) and its event's own counts there.
event_aggregation_current as (
    select
        account_activity.account_id,
        account_activity.as_of_date,
        account_activity.created_on,
        account_activity.seats,
        account_activity.segment,
        account_activity.lifecycle_stage,
        account_activity.active_users,
        event_aggregation_windows.metric_id,
        event_aggregation_windows.measure_type,
        event_aggregation_windows.normalization,
        {{ event_aggregated_value }} as aggregated_value
    from account_activity
    inner join event_aggregation_windows
        on
            account_activity.as_of_date = event_aggregation_windows.as_of_date
            and account_activity.period = event_aggregation_windows.period
            and account_activity.window_days = event_aggregation_windows.window_days
    left join activity_windowed
        on
            account_activity.account_id = activity_windowed.account_id
            and event_aggregation_windows.event_name = activity_windowed.event_name
            and event_aggregation_windows.window_days = activity_windowed.window_days
            and event_aggregation_windows.window_end_date = activity_windowed.window_end_date
    where account_activity.period = 'current'
),

-- The window before, for trend metrics: only where the event happened in it. An
-- account without a row had none, and its trend is missing either way (no
-- division by 0). Most catalogs have no such metric: the join then reads the
-- activity rows against an empty window list instead of building them all.
event_aggregation_previous as (
    select
        activity_windowed.account_id,
        event_aggregation_windows.as_of_date,
        event_aggregation_windows.metric_id,
        event_aggregation_windows.window_start_date,
        {{ event_aggregated_value }} as aggregated_value
    from activity_windowed
    inner join event_aggregation_windows
        on
            activity_windowed.event_name = event_aggregation_windows.event_name
            and activity_windowed.window_days = event_aggregation_windows.window_days
            and activity_windowed.window_end_date = event_aggregation_windows.window_end_date
    where event_aggregation_windows.period = 'previous'
),

event_aggregation_metrics as (
    select
        current_periods.account_id,
        current_periods.as_of_date,
        current_periods.metric_id,
        current_periods.segment,
        current_periods.lifecycle_stage,
        current_periods.measure_type,
        current_periods.normalization,
        cast(
            case current_periods.normalization
                when 'per_active_user' then current_periods.active_users
                when 'per_seat' then current_periods.seats
            end as {{ type_double() }}
        ) as normalizer_value,
        case
            when current_periods.measure_type <> 'trend'
                then current_periods.aggregated_value
            -- % change, as for usage_trend
            when current_periods.created_on <= previous_periods.window_start_date
                then
                    100 * (current_periods.aggregated_value - previous_periods.aggregated_value)
                    / nullif(previous_periods.aggregated_value, 0)
        end as raw_value
    from event_aggregation_current as current_periods
    left join event_aggregation_previous as previous_periods
        on
            current_periods.account_id = previous_periods.account_id
            and current_periods.as_of_date = previous_periods.as_of_date
            and current_periods.metric_id = previous_periods.metric_id
),

-- Invoices --------------------------------------------------------------------

billable_invoices as (
    select * from invoices
    where status not in ('draft', 'void')
),

overdue_invoice_values as (
    select
        billable_invoices.account_id,
        current_windows.as_of_date,
        current_windows.metric_id,
        sum(
            case
                when cast(billable_invoices.due_at as date) >= current_windows.as_of_date
                    then 0
                when cast(billable_invoices.paid_at as date) <= current_windows.as_of_date
                    then 0
                else 1
            end
        ) as raw_value
    from billable_invoices
    inner join current_windows
        on
            cast(billable_invoices.issued_at as date) >= current_windows.window_start_date
            and cast(billable_invoices.issued_at as date) <= current_windows.window_end_date
    where current_windows.metric_id = 'overdue_invoices'
    group by 1, 2, 3
),

days_to_pay_values as (
    select
        billable_invoices.account_id,
        current_windows.as_of_date,
        current_windows.metric_id,
        avg(cast(
            {{ dbt.datediff('billable_invoices.issued_at', 'billable_invoices.paid_at', 'day') }}
            as {{ type_double() }}
        )) as raw_value
    from billable_invoices
    inner join current_windows
        on
            cast(billable_invoices.paid_at as date) >= current_windows.window_start_date
            and cast(billable_invoices.paid_at as date) <= current_windows.window_end_date
    where current_windows.metric_id = 'avg_days_to_pay'
    group by 1, 2, 3
),

-- Support tickets -------------------------------------------------------------

open_ticket_counts as (
    select
        tickets.account_id,
        current_windows.as_of_date,
        current_windows.metric_id,
        count(*) as open_ticket_count
    from tickets
    inner join current_windows
        on
            cast(tickets.opened_at as date) >= current_windows.window_start_date
            and cast(tickets.opened_at as date) <= current_windows.window_end_date
    where
        current_windows.metric_id = 'open_tickets_per_user'
        and (
            tickets.resolved_at is null
            or cast(tickets.resolved_at as date) > current_windows.as_of_date
        )
    group by 1, 2, 3
),

resolved_tickets as (
    select
        tickets.account_id,
        tickets.csat,
        current_windows.as_of_date,
        current_windows.metric_id,
        -- seconds, so that a ticket solved in 5 minutes is not an hour; engines count
        -- minute boundaries differently, but agree on seconds between whole-second times
        cast(
            {{ dbt.datediff('tickets.opened_at', 'tickets.resolved_at', 'second') }}
            as {{ type_double() }}
        ) / 3600 as resolution_hours
    from tickets
    inner join current_windows
        on
            cast(tickets.resolved_at as date) >= current_windows.window_start_date
            and cast(tickets.resolved_at as date) <= current_windows.window_end_date
    where current_windows.metric_id in ('median_resolution_hours', 'avg_csat')
),

-- The median from ranks, not a median aggregate: an aggregate holds every value of
-- every group in memory and cannot spill (at M with a 1.2 GB limit, as at L with
-- 12 GB, the model ran out of memory), while a window sorts and spills. The one
-- or two middle values of n have rank k with n <= 2k <= n + 2; their mean is the
-- interpolated median (percentile_cont 0.5).
resolution_hours_ranked as (
    select
        resolved_tickets.account_id,
        resolved_tickets.as_of_date,
        resolved_tickets.metric_id,
        resolved_tickets.resolution_hours,
        row_number() over (
            partition by resolved_tickets.account_id, resolved_tickets.as_of_date
            order by resolved_tickets.resolution_hours
        ) as hours_rank,
        count(*) over (
            partition by resolved_tickets.account_id, resolved_tickets.as_of_date
        ) as resolved_count
    from resolved_tickets
    where
        resolved_tickets.metric_id = 'median_resolution_hours'
        and resolved_tickets.resolution_hours is not null
),

resolution_values as (
    select
        resolution_hours_ranked.account_id,
        resolution_hours_ranked.as_of_date,
        resolution_hours_ranked.metric_id,
        avg(resolution_hours_ranked.resolution_hours) as raw_value
    from resolution_hours_ranked
    where
        2 * resolution_hours_ranked.hours_rank
        between resolution_hours_ranked.resolved_count
        and resolution_hours_ranked.resolved_count + 2
    group by 1, 2, 3
),

csat_values as (
    select
        resolved_tickets.account_id,
        resolved_tickets.as_of_date,
        resolved_tickets.metric_id,
        avg(cast(resolved_tickets.csat as {{ type_double() }})) as raw_value
    from resolved_tickets
    where
        resolved_tickets.metric_id = 'avg_csat'
        and resolved_tickets.csat is not null
    group by 1, 2, 3
),

-- CSM ratings -----------------------------------------------------------------

ratings_in_windows as (
    select
        csm_ratings.account_id,
        csm_ratings.csm_rating_id,
        csm_ratings.rated_at,
        csm_ratings.rating,
        csm_ratings.is_override,
        current_windows.metric_id,
        current_windows.as_of_date
    from csm_ratings
    inner join current_windows
        on
            cast(csm_ratings.rated_at as date) >= current_windows.window_start_date
            and cast(csm_ratings.rated_at as date) <= current_windows.window_end_date
    where current_windows.metric_id in ('days_since_csm_contact', 'csm_rating')
),

csm_contact_values as (
    select
        ratings_in_windows.account_id,
        ratings_in_windows.as_of_date,
        ratings_in_windows.metric_id,
        min({{ dbt.datediff(
            'cast(ratings_in_windows.rated_at as date)', 'ratings_in_windows.as_of_date', 'day'
        ) }}) as raw_value
    from ratings_in_windows
    where ratings_in_windows.metric_id = 'days_since_csm_contact'
    group by 1, 2, 3
),

csm_ratings_ordered as (
    select
        ratings_in_windows.account_id,
        ratings_in_windows.as_of_date,
        ratings_in_windows.metric_id,
        ratings_in_windows.rating,
        row_number() over (
            partition by ratings_in_windows.account_id, ratings_in_windows.as_of_date
            order by ratings_in_windows.rated_at desc, ratings_in_windows.csm_rating_id desc
        ) as recency_rank
    from ratings_in_windows
    where
        ratings_in_windows.metric_id = 'csm_rating'
        and not ratings_in_windows.is_override
),

csm_rating_values as (
    select
        csm_ratings_ordered.account_id,
        csm_ratings_ordered.as_of_date,
        csm_ratings_ordered.metric_id,
        csm_ratings_ordered.rating as raw_value
    from csm_ratings_ordered
    where csm_ratings_ordered.recency_rank = 1
),

-- Built-in metrics ------------------------------------------------------------

-- The built-in values that are not read off the account's activity row, side by
-- side: one row per account in scope and date, joined to the activity rows before
-- they fan out to one row per metric. A new built-in metric adds its value CTE
-- here (list and join) and its metric_id to macro builtin_metric_ids.
{%- set account_value_ctes = [
    ('usage_trend', 'usage_trend_values'),
    ('onboarding_goal', 'onboarding_goal_values'),
    ('overdue_invoices', 'overdue_invoice_values'),
    ('avg_days_to_pay', 'days_to_pay_values'),
    ('median_resolution_hours', 'resolution_values'),
    ('avg_csat', 'csat_values'),
    ('days_since_csm_contact', 'csm_contact_values'),
    ('csm_rating', 'csm_rating_values'),
] %}

account_values as (
    select
        accounts_in_scope.account_id,
        accounts_in_scope.as_of_date,
        {%- for metric_id, value_cte in account_value_ctes %}
        {{ value_cte }}.raw_value as {{ metric_id }},
        {%- endfor %}
        -- no open ticket is data: 0
        coalesce(open_ticket_counts.open_ticket_count, 0) as open_tickets_per_user
    from accounts_in_scope
    left join usage_trend_values
        on
            accounts_in_scope.account_id = usage_trend_values.account_id
            and accounts_in_scope.as_of_date = usage_trend_values.as_of_date
    left join onboarding_goal_values
        on
            accounts_in_scope.account_id = onboarding_goal_values.account_id
            and accounts_in_scope.as_of_date = onboarding_goal_values.as_of_date
    left join overdue_invoice_values
        on
            accounts_in_scope.account_id = overdue_invoice_values.account_id
            and accounts_in_scope.as_of_date = overdue_invoice_values.as_of_date
    left join days_to_pay_values
        on
            accounts_in_scope.account_id = days_to_pay_values.account_id
            and accounts_in_scope.as_of_date = days_to_pay_values.as_of_date
    left join resolution_values
        on
            accounts_in_scope.account_id = resolution_values.account_id
            and accounts_in_scope.as_of_date = resolution_values.as_of_date
    left join csat_values
        on
            accounts_in_scope.account_id = csat_values.account_id
            and accounts_in_scope.as_of_date = csat_values.as_of_date
    left join csm_contact_values
        on
            accounts_in_scope.account_id = csm_contact_values.account_id
            and accounts_in_scope.as_of_date = csm_contact_values.as_of_date
    left join csm_rating_values
        on
            accounts_in_scope.account_id = csm_rating_values.account_id
            and accounts_in_scope.as_of_date = csm_rating_values.as_of_date
    left join open_ticket_counts
        on
            accounts_in_scope.account_id = open_ticket_counts.account_id
            and accounts_in_scope.as_of_date = open_ticket_counts.as_of_date
),

-- the account's activity in each current window, with its other built-in values
account_windows as (
    select
        account_activity.account_id,
        account_activity.as_of_date,
        account_activity.window_days,
        account_activity.seats,
        account_activity.segment,
        account_activity.lifecycle_stage,
        account_activity.event_count,
        account_activity.active_users,
        account_activity.last_activity_date,
        {%- for metric_id, value_cte in account_value_ctes %}
        account_values.{{ metric_id }},
        {%- endfor %}
        account_values.open_tickets_per_user
    from account_activity
    inner join account_values
        on
            account_activity.account_id = account_values.account_id
            and account_activity.as_of_date = account_values.as_of_date
    where account_activity.period = 'current'
),

-- every built-in metric's current window at every date: a few thousand rows
builtin_metric_slots as (
    select
        current_windows.as_of_date,
        current_windows.window_days,
        metric_catalog.metric_id,
        metric_catalog.measure_type,
        metric_catalog.normalization
    from current_windows
    inner join metric_catalog
        on current_windows.metric_id = metric_catalog.metric_id
    where metric_catalog.computation = 'builtin'
),

-- one row per account in scope x date x built-in metric, from the account's
-- activity in the metric's window, so the users active in that window (the
-- per_active_user normalizer) come along
builtin_metrics as (
    select
        account_windows.account_id,
        account_windows.as_of_date,
        builtin_metric_slots.metric_id,
        account_windows.segment,
        account_windows.lifecycle_stage,
        builtin_metric_slots.measure_type,
        builtin_metric_slots.normalization,
        cast(
            case builtin_metric_slots.normalization
                when 'per_active_user' then account_windows.active_users
                when 'per_seat' then account_windows.seats
            end as {{ type_double() }}
        ) as normalizer_value,
        cast(
            case builtin_metric_slots.metric_id
                when 'active_users' then account_windows.active_users
                when 'events_per_active_user' then account_windows.event_count
                when 'days_since_last_activity'
                    then {{ dbt.datediff(
                        'account_windows.last_activity_date', 'account_windows.as_of_date', 'day'
                    ) }}
                {%- for metric_id, value_cte in account_value_ctes %}
                when '{{ metric_id }}' then account_windows.{{ metric_id }}
                {%- endfor %}
                when 'open_tickets_per_user' then account_windows.open_tickets_per_user
            end as {{ type_double() }}
        ) as raw_value
    from account_windows
    inner join builtin_metric_slots
        on
            account_windows.as_of_date = builtin_metric_slots.as_of_date
            and account_windows.window_days = builtin_metric_slots.window_days
),

-- All metrics -----------------------------------------------------------------

account_metrics as (
    {%- for metric_cte in ['builtin_metrics', 'event_aggregation_metrics'] %}
    select
        {{ metric_cte }}.account_id,
        {{ metric_cte }}.as_of_date,
        {{ metric_cte }}.metric_id,
        {{ metric_cte }}.segment,
        {{ metric_cte }}.lifecycle_stage,
        {{ metric_cte }}.normalization,
        {{ metric_cte }}.normalizer_value,
        case
            when {{ metric_cte }}.measure_type = 'boolean' and {{ metric_cte }}.raw_value > 0
                then 1
            when {{ metric_cte }}.measure_type = 'boolean' and {{ metric_cte }}.raw_value <= 0
                then 0
            else {{ metric_cte }}.raw_value
        end as raw_value
    from {{ metric_cte }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        account_metrics.account_id,
        account_metrics.as_of_date,
        account_metrics.metric_id,
        account_metrics.segment,
        account_metrics.lifecycle_stage,
        cast(account_metrics.raw_value as {{ type_double() }}) as raw_value,
        account_metrics.normalizer_value,
        case
            when account_metrics.normalization = 'none'
                then cast(account_metrics.raw_value as {{ type_double() }})
            else account_metrics.raw_value / nullif(account_metrics.normalizer_value, 0)
        end as normalized_value
    from account_metrics
)

select * from final
