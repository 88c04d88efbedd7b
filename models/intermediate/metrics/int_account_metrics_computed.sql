{{ config(materialized='table') }}

-- The raw and normalized value of every catalog metric for every account in
-- scope at every score date (as_of_date: int_score_dates_spined), over each
-- metric's trailing window ending on that date. Product activity over windows
-- comes from int_account_activity_windowed (running sums, no date x window
-- join); invoices, tickets and ratings, a few thousand rows, are joined to the
-- windows. Product metrics come
-- from the account x user x day x event table, never from the raw events.
-- A null value is missing data (scored per the metric's missing-data policy);
-- product usage and open tickets default to 0 (no use is data), the others are
-- missing when there is nothing to measure (no invoice, no resolved ticket...).

with

accounts as (
    select * from {{ ref('int_accounts_segmented') }}
),

metric_catalog as (
    select * from {{ ref('int_metric_catalog_prepared') }}
),

metric_windows as (
    select * from {{ ref('int_metric_windows_dated') }}
),

account_user_days as (
    select * from {{ ref('int_account_user_days_aggregated') }}
),

activity_windowed as (
    select * from {{ ref('int_account_activity_windowed') }}
),

users as (
    select * from {{ ref('stg_product__users') }}
),

invoices as (
    select * from {{ ref('stg_billing__invoices') }}
),

tickets as (
    select * from {{ ref('stg_support__tickets') }}
),

csm_ratings as (
    select * from {{ ref('stg_crm__csm_ratings') }}
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

activity_values as (
    select
        account_activity.account_id,
        account_activity.as_of_date,
        current_windows.metric_id,
        case current_windows.metric_id
            when 'active_users' then account_activity.active_users
            when 'events_per_active_user' then account_activity.event_count
            when 'days_since_last_activity'
                then {{ dbt.datediff(
                    'account_activity.last_activity_date', 'current_windows.as_of_date', 'day'
                ) }}
        end as raw_value
    from current_windows
    inner join account_activity
        on
            current_windows.as_of_date = account_activity.as_of_date
            and current_windows.period = account_activity.period
            and current_windows.window_days = account_activity.window_days
    where current_windows.metric_id in (
        'active_users', 'events_per_active_user', 'days_since_last_activity'
    )
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
        metric_catalog.event_name,
        metric_catalog.aggregation
    from metric_windows
    inner join metric_catalog
        on metric_windows.metric_id = metric_catalog.metric_id
    where metric_catalog.computation = 'event_aggregation'
),

event_aggregations as (
    select
        activity_windowed.account_id,
        event_aggregation_windows.as_of_date,
        event_aggregation_windows.metric_id,
        event_aggregation_windows.period,
        activity_windowed.event_count,
        activity_windowed.active_users as user_count,
        activity_windowed.active_day_count
    from activity_windowed
    inner join event_aggregation_windows
        on
            activity_windowed.event_name = event_aggregation_windows.event_name
            and activity_windowed.window_days = event_aggregation_windows.window_days
            and activity_windowed.window_end_date = event_aggregation_windows.window_end_date
),

event_aggregation_periods as (
    select
        accounts_in_scope.account_id,
        accounts_in_scope.as_of_date,
        accounts_in_scope.created_on,
        event_aggregation_windows.metric_id,
        event_aggregation_windows.period,
        event_aggregation_windows.window_start_date,
        event_aggregation_windows.measure_type,
        cast(
            case event_aggregation_windows.aggregation
                when 'count' then coalesce(event_aggregations.event_count, 0)
                when 'distinct_users' then coalesce(event_aggregations.user_count, 0)
                when 'distinct_active_days'
                    then coalesce(event_aggregations.active_day_count, 0)
            end as {{ type_double() }}
        ) as aggregated_value
    from event_aggregation_windows
    inner join accounts_in_scope
        on event_aggregation_windows.as_of_date = accounts_in_scope.as_of_date
    left join event_aggregations
        on
            accounts_in_scope.account_id = event_aggregations.account_id
            and accounts_in_scope.as_of_date = event_aggregations.as_of_date
            and event_aggregation_windows.metric_id = event_aggregations.metric_id
            and event_aggregation_windows.period = event_aggregations.period
),

event_aggregation_values as (
    select
        current_periods.account_id,
        current_periods.as_of_date,
        current_periods.metric_id,
        case
            when current_periods.measure_type <> 'trend'
                then current_periods.aggregated_value
            -- % change, as for usage_trend
            when current_periods.created_on <= previous_periods.window_start_date
                then
                    100 * (current_periods.aggregated_value - previous_periods.aggregated_value)
                    / nullif(previous_periods.aggregated_value, 0)
        end as raw_value
    from event_aggregation_periods as current_periods
    left join event_aggregation_periods as previous_periods
        on
            current_periods.account_id = previous_periods.account_id
            and current_periods.as_of_date = previous_periods.as_of_date
            and current_periods.metric_id = previous_periods.metric_id
            and previous_periods.period = 'previous'
    where current_periods.period = 'current'
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

open_ticket_values as (
    select
        accounts_in_scope.account_id,
        accounts_in_scope.as_of_date,
        current_windows.metric_id,
        coalesce(open_ticket_counts.open_ticket_count, 0) as raw_value
    from current_windows
    inner join accounts_in_scope
        on current_windows.as_of_date = accounts_in_scope.as_of_date
    left join open_ticket_counts
        on
            accounts_in_scope.account_id = open_ticket_counts.account_id
            and accounts_in_scope.as_of_date = open_ticket_counts.as_of_date
            and current_windows.metric_id = open_ticket_counts.metric_id
    where current_windows.metric_id = 'open_tickets_per_user'
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

resolution_values as (
    select
        resolved_tickets.account_id,
        resolved_tickets.as_of_date,
        resolved_tickets.metric_id,
        {{ median_value('resolved_tickets.resolution_hours') }} as raw_value
    from resolved_tickets
    where resolved_tickets.metric_id = 'median_resolution_hours'
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

-- All metrics -----------------------------------------------------------------

{%- set value_ctes = [
    'activity_values', 'usage_trend_values', 'onboarding_goal_values',
    'event_aggregation_values', 'overdue_invoice_values', 'days_to_pay_values',
    'open_ticket_values', 'resolution_values', 'csat_values', 'csm_contact_values',
    'csm_rating_values',
] %}

metric_values as (
    {%- for value_cte in value_ctes %}
    select
        {{ value_cte }}.account_id,
        {{ value_cte }}.as_of_date,
        {{ value_cte }}.metric_id,
        cast({{ value_cte }}.raw_value as {{ type_double() }}) as raw_value
    from {{ value_cte }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

-- every catalog metric's current window at every date: a few thousand rows
metric_slots as (
    select
        current_windows.as_of_date,
        current_windows.window_days,
        metric_catalog.metric_id,
        metric_catalog.measure_type,
        metric_catalog.normalization
    from current_windows
    inner join metric_catalog
        on current_windows.metric_id = metric_catalog.metric_id
),

-- one row per account in scope x date x catalog metric, built from the account's
-- activity in the metric's window (one row per window length), so the users
-- active in that window (the per_active_user normalizer) come along without
-- another join of every metric row
account_metrics as (
    select
        account_activity.account_id,
        account_activity.as_of_date,
        account_activity.segment,
        account_activity.lifecycle_stage,
        metric_slots.metric_id,
        metric_slots.normalization,
        cast(
            case metric_slots.normalization
                when 'per_active_user' then account_activity.active_users
                when 'per_seat' then account_activity.seats
            end as {{ type_double() }}
        ) as normalizer_value,
        case
            when metric_slots.measure_type = 'boolean' and metric_values.raw_value > 0
                then 1
            when metric_slots.measure_type = 'boolean' and metric_values.raw_value <= 0
                then 0
            else metric_values.raw_value
        end as raw_value
    from account_activity
    inner join metric_slots
        on
            account_activity.as_of_date = metric_slots.as_of_date
            and account_activity.window_days = metric_slots.window_days
    left join metric_values
        on
            account_activity.account_id = metric_values.account_id
            and account_activity.as_of_date = metric_values.as_of_date
            and metric_slots.metric_id = metric_values.metric_id
    where account_activity.period = 'current'
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
