-- Every account scored at as_of_date (dim_accounts.is_scored: created by then and
-- not churned before it) has exactly one row in fct_health_scores, and no other
-- account has one. Returns the accounts where not.

with

accounts as (
    select * from {{ ref('dim_accounts') }}
),

health_scores as (
    select * from {{ ref('fct_health_scores') }}
),

health_rows as (
    select
        health_scores.account_id,
        count(*) as health_row_count
    from health_scores
    group by 1
),

compared as (
    select
        coalesce(accounts.account_id, health_rows.account_id) as account_id,
        accounts.is_scored,
        accounts.is_churned,
        coalesce(health_rows.health_row_count, 0) as health_row_count
    from accounts
    full outer join health_rows
        on accounts.account_id = health_rows.account_id
)

select * from compared
where
    (is_scored and health_row_count <> 1)
    or (not coalesce(is_scored, false) and health_row_count > 0)
