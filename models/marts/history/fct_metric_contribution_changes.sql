{{ config(
    materialized=account_bucketed_materialization('incremental'),
    incremental_strategy=history_incremental_strategy(),
    unique_key='score_date',
    partition_by=history_partition_by(),
    full_refresh=var('history_rebuild'),
    on_schema_change='fail',
) }}

-- Why a score changed: one row per account x score_date x metric on the
-- scorecard at that date or 7 days before, for the account-dates with a
-- computed score at both: the metric's contribution then and now and its
-- change. The changes of an account-date add up to the change of its computed
-- score (contributions add up to the computed score on each date); a metric on
-- only one of the two scorecards counts 0 on the other. For other pairs of
-- dates, see the README ("What changed between two dates").
-- Incremental like the history marts: a run computes the score dates it scored
-- (int_score_dates_spined) and replaces them.
-- The two big joins (47M metric rows on each side at M) are keyed on integers
-- numbered here, not on the account and metric strings: the same rows, faster
-- (DECISIONLOG, "Contribution changes join on integers"). The numbers exist only
-- inside this query.

with

metric_history as (
    select * from {{ ref('fct_metric_score_history') }}
    where {{ in_account_bucket('account_id') }}
),

health_history as (
    select * from {{ ref('fct_health_score_history') }}
    where {{ in_account_bucket('account_id') }}
),

score_dates as (
    select * from {{ ref('int_score_dates_spined') }}
    where is_history_date
),

-- the score dates and the dates 7 days before them
dates_read as (
    select score_dates.as_of_date as read_date
    from score_dates
    union
    select cast({{ dbt.dateadd('day', '-7', 'score_dates.as_of_date') }} as date) as read_date
    from score_dates
),

health_read as (
    select
        health_history.account_id,
        health_history.score_date,
        health_history.computed_score
    from health_history
    inner join dates_read
        on health_history.score_date = dates_read.read_date
),

metrics_read as (
    select
        metric_history.account_id,
        metric_history.score_date,
        metric_history.metric_id,
        metric_history.contribution,
        metric_history.score
    from metric_history
    inner join dates_read
        on metric_history.score_date = dates_read.read_date
),

-- a number for each account and each metric read
account_keys as (
    select
        history_accounts.account_id,
        row_number() over (order by history_accounts.account_id) as account_key
    from (select distinct health_read.account_id from health_read) as history_accounts
),

metric_keys as (
    select
        history_metrics.metric_id,
        row_number() over (order by history_metrics.metric_id) as metric_key
    from (select distinct metrics_read.metric_id from metrics_read) as history_metrics
),

health_keyed as (
    select
        account_keys.account_key,
        health_read.score_date,
        health_read.computed_score
    from health_read
    inner join account_keys
        on health_read.account_id = account_keys.account_id
    where health_read.computed_score is not null
),

metrics_keyed as (
    select
        account_keys.account_key,
        metrics_read.score_date,
        metric_keys.metric_key,
        metrics_read.contribution,
        metrics_read.score
    from metrics_read
    inner join account_keys
        on metrics_read.account_id = account_keys.account_id
    inner join metric_keys
        on metrics_read.metric_id = metric_keys.metric_id
),

compared_dates as (
    select
        health_keyed.account_key,
        health_keyed.score_date,
        previous_scores.score_date as compared_date,
        health_keyed.computed_score,
        previous_scores.computed_score as previous_computed_score
    from health_keyed
    inner join score_dates
        on health_keyed.score_date = score_dates.as_of_date
    inner join health_keyed as previous_scores
        on
            health_keyed.account_key = previous_scores.account_key
            and previous_scores.score_date
            = cast({{ dbt.dateadd('day', '-7', 'health_keyed.score_date') }} as date)
),

current_metrics as (
    select metrics_keyed.*
    from metrics_keyed
    inner join score_dates
        on metrics_keyed.score_date = score_dates.as_of_date
),

-- the metrics of 7 days before, keyed by the score date they are compared with
previous_metrics as (
    select
        metrics_keyed.account_key,
        score_dates.as_of_date as score_date,
        metrics_keyed.metric_key,
        metrics_keyed.contribution,
        metrics_keyed.score
    from metrics_keyed
    inner join score_dates
        on
            metrics_keyed.score_date
            = cast({{ dbt.dateadd('day', '-7', 'score_dates.as_of_date') }} as date)
),

paired as (
    select
        coalesce(current_metrics.account_key, previous_metrics.account_key) as account_key,
        coalesce(current_metrics.score_date, previous_metrics.score_date) as score_date,
        coalesce(current_metrics.metric_key, previous_metrics.metric_key) as metric_key,
        previous_metrics.score as previous_score,
        current_metrics.score as current_score,
        coalesce(previous_metrics.contribution, 0) as previous_contribution,
        coalesce(current_metrics.contribution, 0) as current_contribution
    from current_metrics
    full outer join previous_metrics
        on
            current_metrics.account_key = previous_metrics.account_key
            and current_metrics.score_date = previous_metrics.score_date
            and current_metrics.metric_key = previous_metrics.metric_key
),

final as (
    select
        cast(account_keys.account_id as {{ dbt.type_string() }}) as account_id,
        cast(paired.score_date as date) as score_date,
        cast(metric_keys.metric_id as {{ dbt.type_string() }}) as metric_id,
        cast(compared_dates.compared_date as date) as compared_date,
        cast(paired.previous_score as {{ type_double() }}) as previous_score,
        cast(paired.current_score as {{ type_double() }}) as current_score,
        cast(paired.previous_contribution as {{ type_double() }}) as previous_contribution,
        cast(paired.current_contribution as {{ type_double() }}) as current_contribution,
        cast(
            paired.current_contribution - paired.previous_contribution as {{ type_double() }}
        ) as contribution_change,
        cast(
            compared_dates.computed_score - compared_dates.previous_computed_score
            as {{ type_double() }}
        ) as computed_score_change
    from paired
    inner join compared_dates
        on
            paired.account_key = compared_dates.account_key
            and paired.score_date = compared_dates.score_date
    inner join account_keys
        on paired.account_key = account_keys.account_key
    inner join metric_keys
        on paired.metric_key = metric_keys.metric_key
)

select * from final
