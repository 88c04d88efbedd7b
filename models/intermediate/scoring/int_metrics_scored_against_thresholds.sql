{{ config(materialized='table') }}

-- Every enabled scorecard metric of every account in scope, scored 0-100 against
-- the thresholds of the scorecard row that applies to its segment and lifecycle
-- stage (domain.md: piecewise-linear through worst / red / green / best, the red
-- and green thresholds at the yellow and green cutoffs of score_bands), with its
-- band from the raw value. Boolean metrics score 100 or 0. Missing data: no score
-- (policy exclude) or 0 (policy worst).

with

accounts as (
    select * from {{ ref('int_accounts_segmented') }}
),

account_metrics as (
    select * from {{ ref('int_account_metrics_computed') }}
),

scorecard as (
    select * from {{ ref('int_scorecard_validated') }}
),

metric_catalog as (
    select * from {{ ref('int_metric_catalog_prepared') }}
),

score_bands as (
    select * from {{ ref('score_bands') }}
),

band_cutoffs as (
    select
        max(case when score_bands.band = 'yellow' then score_bands.min_score end)
            as yellow_cutoff,
        max(case when score_bands.band = 'green' then score_bands.min_score end)
            as green_cutoff
    from score_bands
),

scorecard_applied as (
    select
        accounts.account_id,
        accounts.as_of_date,
        accounts.segment,
        accounts.lifecycle_stage,
        scorecard.metric_id,
        metric_catalog.label as metric_label,
        metric_catalog.signal_category,
        metric_catalog.measure_group,
        metric_catalog.measure_type,
        metric_catalog.direction,
        metric_catalog.missing_data_policy,
        scorecard.weight,
        scorecard.worst_value,
        scorecard.red_threshold,
        scorecard.green_threshold,
        scorecard.best_value,
        scorecard.scorecard_segment,
        scorecard.scorecard_lifecycle_stage
    from accounts
    inner join scorecard
        on
            accounts.segment = scorecard.segment
            and accounts.lifecycle_stage = scorecard.lifecycle_stage
    inner join metric_catalog
        on scorecard.metric_id = metric_catalog.metric_id
    where accounts.is_in_scope and scorecard.is_enabled
),

valued as (
    select
        scorecard_applied.*,
        account_metrics.window_start_date,
        account_metrics.window_end_date,
        account_metrics.raw_value,
        account_metrics.normalization,
        account_metrics.normalizer_value,
        account_metrics.normalized_value,
        account_metrics.normalized_value is null as is_missing
    from scorecard_applied
    left join account_metrics
        on
            scorecard_applied.account_id = account_metrics.account_id
            and scorecard_applied.as_of_date = account_metrics.as_of_date
            and scorecard_applied.metric_id = account_metrics.metric_id
),

scored as (
    select
        valued.*,
        case
            when valued.is_missing and valued.missing_data_policy = 'worst' then 0
            when valued.is_missing then null
            when valued.measure_type = 'boolean'
                then case when valued.normalized_value > 0 then 100 else 0 end
            else {{ score_against_thresholds(
                'valued.normalized_value',
                'valued.direction',
                'valued.worst_value',
                'valued.red_threshold',
                'valued.green_threshold',
                'valued.best_value',
                'band_cutoffs.yellow_cutoff',
                'band_cutoffs.green_cutoff'
            ) }}
        end as score,
        case
            when valued.is_missing and valued.missing_data_policy = 'worst' then 'red'
            when valued.is_missing then 'unknown'
            when valued.measure_type = 'boolean'
                then case when valued.normalized_value > 0 then 'green' else 'red' end
            else {{ band_from_thresholds(
                'valued.normalized_value',
                'valued.direction',
                'valued.red_threshold',
                'valued.green_threshold'
            ) }}
        end as band
    from valued
    cross join band_cutoffs
),

final as (
    select
        scored.account_id,
        scored.as_of_date,
        scored.metric_id,
        scored.metric_label,
        scored.signal_category,
        scored.measure_group,
        scored.measure_type,
        scored.direction,
        scored.segment,
        scored.lifecycle_stage,
        scored.window_start_date,
        scored.window_end_date,
        scored.raw_value,
        scored.normalization,
        scored.normalizer_value,
        scored.normalized_value,
        scored.is_missing,
        scored.missing_data_policy,
        cast(scored.score as {{ type_double() }}) as score,
        scored.band,
        scored.weight,
        scored.score is not null and scored.weight > 0 as counts_toward_score,
        scored.worst_value,
        scored.red_threshold,
        scored.green_threshold,
        scored.best_value,
        scored.scorecard_segment,
        scored.scorecard_lifecycle_stage
    from scored
)

select * from final
