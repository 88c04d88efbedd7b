{{ config(materialized='table') }}

-- Active users of every account: distinct users with any product event in the
-- var active_user_window_days days ending on as_of_date (0 when none).

with

accounts as (
    select * from {{ ref('int_accounts_lifecycle_staged') }}
),

account_user_days as (
    select * from {{ ref('int_account_user_days_aggregated') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

active_user_window as (
    select
        as_of.as_of_date,
        cast(
            {{ dbt.dateadd('day', '1 - ' ~ var('active_user_window_days'), 'as_of.as_of_date') }}
            as date
        ) as window_start_date
    from as_of
),

active_users_counted as (
    select
        account_user_days.account_id,
        count(distinct account_user_days.user_id) as active_users
    from account_user_days
    inner join active_user_window
        on
            account_user_days.activity_date >= active_user_window.window_start_date
            and account_user_days.activity_date <= active_user_window.as_of_date
    group by 1
),

final as (
    select
        accounts.account_id,
        accounts.as_of_date,
        coalesce(active_users_counted.active_users, 0) as active_users
    from accounts
    inner join as_of
        on accounts.as_of_date = as_of.as_of_date
    left join active_users_counted
        on accounts.account_id = active_users_counted.account_id
)

select * from final
