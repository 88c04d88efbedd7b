-- int_account_metrics_computed has a row for every catalog metric of every
-- account in scope at every score date (a null value is missing data). Scoring
-- joins these rows to the scorecard and no longer to the accounts, so a missing
-- row would leave a scorecard metric unscored without a trace. Fails with the
-- account-dates whose metric count differs from the catalog's.

with

accounts as (
    select * from {{ ref('int_accounts_segmented') }}
    where is_in_scope
),

account_metrics as (
    select * from {{ ref('int_account_metrics_computed') }}
),

metric_catalog as (
    select count(*) as metric_count
    from {{ ref('int_metric_catalog_prepared') }}
),

-- counted before the join: the join then pairs one row per account-date
metric_rows_counted as (
    select
        account_metrics.account_id,
        account_metrics.as_of_date,
        count(*) as metric_rows
    from account_metrics
    group by 1, 2
),

compared as (
    select
        accounts.account_id,
        accounts.as_of_date,
        coalesce(metric_rows_counted.metric_rows, 0) as metric_rows,
        metric_catalog.metric_count
    from accounts
    cross join metric_catalog
    left join metric_rows_counted
        on
            accounts.account_id = metric_rows_counted.account_id
            and accounts.as_of_date = metric_rows_counted.as_of_date
)

select * from compared
where metric_rows <> metric_count
