-- Every account at every score date (as_of_date: int_score_dates_spined) with
-- its age and lifecycle stage at that date, and whether it is in scope for
-- scoring: created on or before as_of_date and not churned before it.

with

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

as_of as (
    select * from {{ ref('int_score_dates_spined') }}
),

aged as (
    select
        accounts.account_id,
        accounts.account_name,
        accounts.plan,
        accounts.seats,
        accounts.created_at,
        accounts.renewal_date,
        accounts.churned_at,
        accounts.csm_owner,
        as_of.as_of_date,
        cast(accounts.created_at as date) as created_on,
        {{ dbt.datediff('cast(accounts.created_at as date)', 'as_of.as_of_date', 'day') }}
            as account_age_days,
        coalesce(cast(accounts.churned_at as date) < as_of.as_of_date, false)
            as is_churned
    from accounts
    cross join as_of
),

staged as (
    select
        aged.*,
        case
            when aged.account_age_days >= 0
                then {{ lifecycle_stage('aged.account_age_days') }}
        end as lifecycle_stage,
        aged.account_age_days >= 0 and not aged.is_churned as is_in_scope
    from aged
),

final as (
    select * from staged
)

select * from final
