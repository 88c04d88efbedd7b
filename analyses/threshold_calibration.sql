-- Threshold calibration: for each metric and scorecard row used on the latest
-- score date, quantiles of the metric's value (the normalized value the
-- thresholds apply to), the current red / green thresholds and the band mix
-- they produce, and the thresholds that would give the target band mix
-- (vars calibration_red_share, calibration_yellow_share; green is the rest).
-- Higher is better: red below the red_share quantile, green from the
-- red_share + yellow_share quantile. Lower is better: red above the
-- 1 - red_share quantile, green up to the 1 - red_share - yellow_share one.
-- Quantiles are interpolated between the two nearest ranks (percentile_cont),
-- computed with window functions so that the SQL runs on any engine.
-- Boolean metrics have no thresholds and are left out.
-- Accounts without a value have no place in the quantiles, but a metric scored
-- as worst when missing puts them in red: the band mix is shown both among the
-- values alone (what moving a threshold changes) and as the scores show it.
{%- set red_share = var('calibration_red_share', 0.15) %}
{%- set yellow_share = var('calibration_yellow_share', 0.25) %}

with

metric_scores as (
    select * from {{ ref('fct_metric_scores') }}
),

latest_date as (
    select max(metric_scores.as_of_date) as as_of_date
    from metric_scores
),

latest_metric_rows as (
    select
        metric_scores.metric_id,
        metric_scores.metric_label,
        metric_scores.scorecard_segment,
        metric_scores.scorecard_lifecycle_stage,
        metric_scores.direction,
        metric_scores.red_threshold,
        metric_scores.green_threshold,
        metric_scores.missing_data_policy,
        metric_scores.normalized_value as metric_value
    from metric_scores
    inner join latest_date
        on metric_scores.as_of_date = latest_date.as_of_date
    where metric_scores.measure_type != 'boolean'
),

-- every scorecard row used, also one whose accounts all lack a value
scorecard_rows as (
    select
        latest_metric_rows.metric_id,
        latest_metric_rows.metric_label,
        latest_metric_rows.scorecard_segment,
        latest_metric_rows.scorecard_lifecycle_stage,
        latest_metric_rows.direction,
        latest_metric_rows.red_threshold,
        latest_metric_rows.green_threshold,
        latest_metric_rows.missing_data_policy,
        count(latest_metric_rows.metric_value) as values_count,
        sum(case when latest_metric_rows.metric_value is null then 1 else 0 end)
            as missing_count,
        -- the accounts without a value that the metric scores 0, red
        sum(
            case
                when
                    latest_metric_rows.metric_value is null
                    and latest_metric_rows.missing_data_policy = 'worst'
                    then 1
                else 0
            end
        ) as missing_scored_red_count
    from latest_metric_rows
    group by 1, 2, 3, 4, 5, 6, 7, 8
),

metric_values as (
    select * from latest_metric_rows
    where metric_value is not null
),

ranked as (
    select
        metric_values.*,
        row_number() over (
            partition by
                metric_values.metric_id,
                metric_values.scorecard_segment,
                metric_values.scorecard_lifecycle_stage
            order by metric_values.metric_value
        ) as value_rank
    from metric_values
),

probabilities as (
    select
        'p10' as quantile_name,
        cast(0.10 as {{ type_double() }}) as higher_is_better_p,
        cast(0.10 as {{ type_double() }}) as lower_is_better_p
    union all
    select
        'p25' as quantile_name,
        0.25 as higher_is_better_p,
        0.25 as lower_is_better_p
    union all
    select
        'p50' as quantile_name,
        0.50 as higher_is_better_p,
        0.50 as lower_is_better_p
    union all
    select
        'p75' as quantile_name,
        0.75 as higher_is_better_p,
        0.75 as lower_is_better_p
    union all
    select
        'p90' as quantile_name,
        0.90 as higher_is_better_p,
        0.90 as lower_is_better_p
    union all
    select
        'suggested_red' as quantile_name,
        {{ red_share }} as higher_is_better_p,
        1 - {{ red_share }} as lower_is_better_p
    union all
    select
        'suggested_green' as quantile_name,
        {{ red_share }} + {{ yellow_share }} as higher_is_better_p,
        1 - {{ red_share }} - {{ yellow_share }} as lower_is_better_p
),

-- Position 1 + (n - 1) p on the ranks, split into the ranks around it.
positions as (
    select
        scorecard_rows.metric_id,
        scorecard_rows.scorecard_segment,
        scorecard_rows.scorecard_lifecycle_stage,
        probabilities.quantile_name,
        1 + (scorecard_rows.values_count - 1) * case
            when scorecard_rows.direction = 'lower_is_better'
                then probabilities.lower_is_better_p
            else probabilities.higher_is_better_p
        end as rank_position
    from scorecard_rows
    cross join probabilities
    where scorecard_rows.values_count > 0
),

bracketed as (
    select
        positions.*,
        cast(floor(positions.rank_position) as {{ dbt.type_int() }}) as lower_rank,
        cast(ceil(positions.rank_position) as {{ dbt.type_int() }}) as upper_rank
    from positions
),

quantiles as (
    select
        bracketed.metric_id,
        bracketed.scorecard_segment,
        bracketed.scorecard_lifecycle_stage,
        bracketed.quantile_name,
        lower_values.metric_value
        + (bracketed.rank_position - bracketed.lower_rank)
        * (upper_values.metric_value - lower_values.metric_value) as quantile_value
    from bracketed
    inner join ranked as lower_values
        on
            bracketed.metric_id = lower_values.metric_id
            and bracketed.scorecard_segment = lower_values.scorecard_segment
            and bracketed.scorecard_lifecycle_stage = lower_values.scorecard_lifecycle_stage
            and bracketed.lower_rank = lower_values.value_rank
    inner join ranked as upper_values
        on
            bracketed.metric_id = upper_values.metric_id
            and bracketed.scorecard_segment = upper_values.scorecard_segment
            and bracketed.scorecard_lifecycle_stage = upper_values.scorecard_lifecycle_stage
            and bracketed.upper_rank = upper_values.value_rank
),

pivoted as (
    select
        quantiles.metric_id,
        quantiles.scorecard_segment,
        quantiles.scorecard_lifecycle_stage,
        max(case when quantiles.quantile_name = 'p10' then quantiles.quantile_value end) as p10,
        max(case when quantiles.quantile_name = 'p25' then quantiles.quantile_value end) as p25,
        max(case when quantiles.quantile_name = 'p50' then quantiles.quantile_value end) as p50,
        max(case when quantiles.quantile_name = 'p75' then quantiles.quantile_value end) as p75,
        max(case when quantiles.quantile_name = 'p90' then quantiles.quantile_value end) as p90,
        max(
            case when quantiles.quantile_name = 'suggested_red' then quantiles.quantile_value end
        ) as suggested_red_threshold,
        max(
            case when quantiles.quantile_name = 'suggested_green' then quantiles.quantile_value end
        ) as suggested_green_threshold
    from quantiles
    group by 1, 2, 3
),

-- The band every value would get under the current and the suggested thresholds.
banded as (
    select
        ranked.metric_id,
        ranked.scorecard_segment,
        ranked.scorecard_lifecycle_stage,
        {{ band_from_thresholds(
            'ranked.metric_value', 'ranked.direction',
            'ranked.red_threshold', 'ranked.green_threshold'
        ) }} as current_band,
        {{ band_from_thresholds(
            'ranked.metric_value', 'ranked.direction',
            'pivoted.suggested_red_threshold', 'pivoted.suggested_green_threshold'
        ) }} as suggested_band
    from ranked
    inner join pivoted
        on
            ranked.metric_id = pivoted.metric_id
            and ranked.scorecard_segment = pivoted.scorecard_segment
            and ranked.scorecard_lifecycle_stage = pivoted.scorecard_lifecycle_stage
),

band_mix as (
    select
        banded.metric_id,
        banded.scorecard_segment,
        banded.scorecard_lifecycle_stage,
        avg(case when banded.current_band = 'red' then 1.0 else 0.0 end) as current_red_share,
        avg(case when banded.current_band = 'yellow' then 1.0 else 0.0 end)
            as current_yellow_share,
        avg(case when banded.current_band = 'green' then 1.0 else 0.0 end)
            as current_green_share,
        avg(case when banded.suggested_band = 'red' then 1.0 else 0.0 end)
            as suggested_red_share,
        avg(case when banded.suggested_band = 'yellow' then 1.0 else 0.0 end)
            as suggested_yellow_share,
        avg(case when banded.suggested_band = 'green' then 1.0 else 0.0 end)
            as suggested_green_share
    from banded
    group by 1, 2, 3
),

final as (
    select
        scorecard_rows.metric_id,
        scorecard_rows.metric_label,
        scorecard_rows.scorecard_segment,
        scorecard_rows.scorecard_lifecycle_stage,
        scorecard_rows.direction,
        scorecard_rows.values_count as accounts_with_value,
        scorecard_rows.missing_count as accounts_without_value,
        scorecard_rows.missing_data_policy,
        pivoted.p10,
        pivoted.p25,
        pivoted.p50,
        pivoted.p75,
        pivoted.p90,
        scorecard_rows.red_threshold as current_red_threshold,
        scorecard_rows.green_threshold as current_green_threshold,
        cast(band_mix.current_red_share as {{ type_double() }}) as current_red_share,
        cast(band_mix.current_yellow_share as {{ type_double() }}) as current_yellow_share,
        cast(band_mix.current_green_share as {{ type_double() }}) as current_green_share,
        -- the red share as the metric's scores show it: accounts without a value count
        -- when scored as worst (red), and are left out when excluded (no band)
        cast(
            (
                coalesce(band_mix.current_red_share * scorecard_rows.values_count, 0)
                + scorecard_rows.missing_scored_red_count
            )
            / nullif(scorecard_rows.values_count + scorecard_rows.missing_scored_red_count, 0)
            as {{ type_double() }}
        ) as current_red_share_with_missing,
        pivoted.suggested_red_threshold,
        pivoted.suggested_green_threshold,
        cast(band_mix.suggested_red_share as {{ type_double() }}) as suggested_red_share,
        cast(band_mix.suggested_yellow_share as {{ type_double() }}) as suggested_yellow_share,
        cast(band_mix.suggested_green_share as {{ type_double() }}) as suggested_green_share,
        cast({{ red_share }} as {{ type_double() }}) as target_red_share,
        cast({{ yellow_share }} as {{ type_double() }}) as target_yellow_share,
        cast(1 - {{ red_share }} - {{ yellow_share }} as {{ type_double() }})
            as target_green_share
    from scorecard_rows
    left join pivoted
        on
            scorecard_rows.metric_id = pivoted.metric_id
            and scorecard_rows.scorecard_segment = pivoted.scorecard_segment
            and scorecard_rows.scorecard_lifecycle_stage = pivoted.scorecard_lifecycle_stage
    left join band_mix
        on
            scorecard_rows.metric_id = band_mix.metric_id
            and scorecard_rows.scorecard_segment = band_mix.scorecard_segment
            and scorecard_rows.scorecard_lifecycle_stage = band_mix.scorecard_lifecycle_stage
)

select * from final
order by 1, 3, 4
