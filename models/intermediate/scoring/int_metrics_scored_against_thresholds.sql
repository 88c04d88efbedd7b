{{ config(materialized=account_bucketed_materialization()) }}

-- Every enabled scorecard metric of every account in scope, scored 0-100 against
-- the thresholds of the scorecard row that applies to its segment and lifecycle
-- stage (domain.md: piecewise-linear through worst / red / green / best, the red
-- and green thresholds at the yellow and green cutoffs of score_bands), with its
-- band from the normalized value. Boolean metrics score 100 or 0. Missing data: no score
-- (policy exclude) or 0 (policy worst).
-- int_account_metrics_computed holds every catalog metric of every account in
-- scope with its segment and stage (a null value is missing data), so the metric
-- rows only look up the small scorecard. Narrow on purpose: one row per account x
-- date x metric is the biggest table of the project; labels and thresholds are
-- joined back in the marts, from the scorecard and catalog.

with

account_metrics as (
    select * from {{ ref('int_account_metrics_computed') }}
    where {{ in_account_bucket('account_id') }}
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

-- the enabled rows of every scorecard with their metric's attributes: a few
-- hundred rows
scorecard_metrics as (
    select
        scorecard.segment,
        scorecard.lifecycle_stage,
        scorecard.metric_id,
        metric_catalog.measure_group,
        metric_catalog.measure_type,
        metric_catalog.direction,
        metric_catalog.missing_data_policy,
        scorecard.weight,
        scorecard.worst_value,
        scorecard.red_threshold,
        scorecard.green_threshold,
        scorecard.best_value
    from scorecard
    inner join metric_catalog
        on scorecard.metric_id = metric_catalog.metric_id
    where scorecard.is_enabled
),

valued as (
    select
        account_metrics.account_id,
        account_metrics.as_of_date,
        account_metrics.segment,
        account_metrics.lifecycle_stage,
        account_metrics.metric_id,
        scorecard_metrics.measure_group,
        scorecard_metrics.measure_type,
        scorecard_metrics.direction,
        scorecard_metrics.missing_data_policy,
        scorecard_metrics.weight,
        scorecard_metrics.worst_value,
        scorecard_metrics.red_threshold,
        scorecard_metrics.green_threshold,
        scorecard_metrics.best_value,
        account_metrics.raw_value,
        account_metrics.normalized_value,
        account_metrics.normalized_value is null as is_missing
    from account_metrics
    inner join scorecard_metrics
        on
            account_metrics.segment = scorecard_metrics.segment
            and account_metrics.lifecycle_stage = scorecard_metrics.lifecycle_stage
            and account_metrics.metric_id = scorecard_metrics.metric_id
),

scored as (
    select
        valued.*,
        case
            when valued.is_missing and valued.missing_data_policy = 'worst' then 0
            when valued.is_missing then null
            -- a boolean scores 100 when its value is the good one: yes for
            -- higher_is_better, no for lower_is_better (a champion change)
            when valued.measure_type = 'boolean' and valued.direction = 'lower_is_better'
                then case when valued.normalized_value > 0 then 0 else 100 end
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
            when valued.measure_type = 'boolean' and valued.direction = 'lower_is_better'
                then case when valued.normalized_value > 0 then 'red' else 'green' end
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
        scored.measure_group,
        scored.segment,
        scored.lifecycle_stage,
        scored.raw_value,
        scored.normalized_value,
        scored.is_missing,
        cast(scored.score as {{ type_double() }}) as score,
        scored.band,
        scored.weight,
        scored.score is not null and scored.weight > 0 as counts_toward_score
    from scored
)

select * from final
