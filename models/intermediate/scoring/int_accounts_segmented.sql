-- Every account with its segment (plan_segments) next to its lifecycle stage at
-- as_of_date: the two keys that pick its scorecard.

with

accounts as (
    select * from {{ ref('int_accounts_lifecycle_staged') }}
),

plan_segments as (
    select * from {{ ref('plan_segments') }}
),

segmented as (
    select
        accounts.account_id,
        accounts.account_name,
        accounts.plan,
        accounts.seats,
        accounts.created_at,
        accounts.renewal_date,
        accounts.churned_at,
        accounts.csm_owner,
        accounts.as_of_date,
        accounts.created_on,
        accounts.account_age_days,
        accounts.is_churned,
        accounts.lifecycle_stage,
        accounts.is_in_scope,
        plan_segments.segment
    from accounts
    left join plan_segments
        on accounts.plan = plan_segments.plan
),

final as (
    select * from segmented
)

select * from final
