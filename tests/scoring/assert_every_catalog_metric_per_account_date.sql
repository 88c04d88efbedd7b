-- int_account_metrics_computed has a row for every catalog metric of every
-- account in scope at every score date (a null value is missing data): the
-- scoring model starts from these rows, so a missing row would silently leave a
-- scorecard metric unscored. Fails with the account-dates that lack a metric.

with

accounts as (
    select * from {{ ref('int_accounts_lifecycle_staged') }}
    where is_in_scope
),

account_metrics as (
    select * from {{ ref('int_account_metrics_computed') }}
),

metric_catalog as (
    select count(*) as metric_count
    from {{ ref('int_metric_catalog_prepared') }}
),

counted as (
    select
        accounts.account_id,
        accounts.as_of_date,
        count(account_metrics.metric_id) as metric_rows
    from accounts
    left join account_metrics
        on
            accounts.account_id = account_metrics.account_id
            and accounts.as_of_date = account_metrics.as_of_date
    group by 1, 2
)

select
    counted.account_id,
    counted.as_of_date,
    counted.metric_rows,
    metric_catalog.metric_count
from counted
cross join metric_catalog
where counted.metric_rows <> metric_catalog.metric_count
