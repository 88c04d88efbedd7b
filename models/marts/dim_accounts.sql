-- One row per account: its attributes and, at as_of_date, its segment,
-- lifecycle stage, active users and whether it is scored.

with

accounts as (
    select * from {{ ref('int_accounts_segmented') }}
),

active_users as (
    select * from {{ ref('int_account_active_users_counted') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

final as (
    select
        cast(accounts.account_id as {{ dbt.type_string() }}) as account_id,
        cast(accounts.account_name as {{ dbt.type_string() }}) as account_name,
        cast(accounts.plan as {{ dbt.type_string() }}) as plan,
        cast(accounts.segment as {{ dbt.type_string() }}) as segment,
        cast(accounts.seats as {{ dbt.type_int() }}) as seats,
        cast(active_users.active_users as {{ dbt.type_int() }}) as active_users,
        cast(accounts.csm_owner as {{ dbt.type_string() }}) as csm_owner,
        cast(accounts.created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(accounts.renewal_date as date) as renewal_date,
        cast(accounts.churned_at as {{ dbt.type_timestamp() }}) as churned_at,
        cast(accounts.as_of_date as date) as as_of_date,
        cast(accounts.account_age_days as {{ dbt.type_int() }}) as account_age_days,
        cast(accounts.lifecycle_stage as {{ dbt.type_string() }}) as lifecycle_stage,
        cast(accounts.is_churned as {{ dbt.type_boolean() }}) as is_churned,
        cast(accounts.is_in_scope as {{ dbt.type_boolean() }}) as is_scored
    from accounts
    inner join as_of
        on accounts.as_of_date = as_of.as_of_date
    left join active_users
        on accounts.account_id = active_users.account_id
)

select * from final
