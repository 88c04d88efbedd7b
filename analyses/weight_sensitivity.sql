-- Weight sensitivity on the latest score date: for each metric, how many
-- accounts would change band if its weight were zeroed. The computed score is
-- recomputed exactly as the engine does without the metric: its group's score
-- is the weighted mean of the group's other counting metrics; the group keeps
-- its group_weights weight, or (flat weighting) weighs the sum of the weights
-- left; a group left without a counting metric weighs 0 and its weight is
-- shared out among the others. For flat weighting this is
-- (computed_score - contribution) / (1 - share_of_global_score). Bands come
-- from the computed score (a CSM override is left aside) and seed score_bands.

with

metric_scores as (
    select * from {{ ref('fct_metric_scores') }}
),

group_scores as (
    select * from {{ ref('fct_group_scores') }}
),

health_scores as (
    select * from {{ ref('fct_health_scores') }}
),

score_bands as (
    select * from {{ ref('score_bands') }}
),

latest_date as (
    select max(health_scores.as_of_date) as as_of_date
    from health_scores
),

band_ranges as (
    select
        score_bands.band,
        cast(score_bands.min_score as {{ type_double() }}) as min_score,
        lead(cast(score_bands.min_score as {{ type_double() }})) over (
            order by score_bands.min_score
        ) as next_min_score,
        row_number() over (order by score_bands.min_score) as band_order
    from score_bands
),

latest_metrics as (
    select metric_scores.*
    from metric_scores
    inner join latest_date
        on metric_scores.as_of_date = latest_date.as_of_date
),

latest_groups as (
    select group_scores.*
    from group_scores
    inner join latest_date
        on group_scores.as_of_date = latest_date.as_of_date
),

latest_health as (
    select health_scores.*
    from health_scores
    inner join latest_date
        on health_scores.as_of_date = latest_date.as_of_date
),

group_totals as (
    select
        latest_metrics.account_id,
        latest_metrics.measure_group,
        sum(
            case
                when latest_metrics.counts_toward_score
                    then latest_metrics.weight * latest_metrics.score
                else 0
            end
        ) as weighted_score_total,
        sum(
            case when latest_metrics.counts_toward_score then latest_metrics.weight else 0 end
        ) as weight_total
    from latest_metrics
    group by 1, 2
),

zeroed_metrics as (
    select
        latest_metrics.account_id,
        latest_metrics.metric_id,
        latest_metrics.metric_label,
        latest_metrics.measure_group,
        latest_metrics.weight,
        latest_metrics.score
    from latest_metrics
    where latest_metrics.counts_toward_score and latest_metrics.weight > 0
),

-- Every group of the account, as it would be without the zeroed metric.
groups_without_metric as (
    select
        zeroed_metrics.account_id,
        zeroed_metrics.metric_id,
        zeroed_metrics.metric_label,
        latest_groups.weight_source,
        latest_groups.group_weight,
        group_totals.weighted_score_total - case
            when latest_groups.measure_group = zeroed_metrics.measure_group
                then zeroed_metrics.weight * zeroed_metrics.score
            else 0
        end as weighted_score_total,
        group_totals.weight_total - case
            when latest_groups.measure_group = zeroed_metrics.measure_group
                then zeroed_metrics.weight
            else 0
        end as weight_total
    from zeroed_metrics
    inner join latest_groups
        on zeroed_metrics.account_id = latest_groups.account_id
    inner join group_totals
        on
            latest_groups.account_id = group_totals.account_id
            and latest_groups.measure_group = group_totals.measure_group
),

groups_reweighted as (
    select
        groups_without_metric.account_id,
        groups_without_metric.metric_id,
        groups_without_metric.metric_label,
        groups_without_metric.weighted_score_total
        / nullif(groups_without_metric.weight_total, 0) as group_score,
        case
            -- a weight left of (almost) nothing: rounding, not a metric
            when groups_without_metric.weight_total <= 1e-9 then 0
            when groups_without_metric.weight_source = 'group_weights'
                then groups_without_metric.group_weight
            else groups_without_metric.weight_total
        end as group_weight
    from groups_without_metric
),

rescored as (
    select
        groups_reweighted.account_id,
        groups_reweighted.metric_id,
        groups_reweighted.metric_label,
        sum(
            case
                when groups_reweighted.group_weight > 0
                    then groups_reweighted.group_weight * groups_reweighted.group_score
                else 0
            end
        ) / nullif(sum(groups_reweighted.group_weight), 0) as score_without_metric
    from groups_reweighted
    group by 1, 2, 3
),

compared as (
    select
        rescored.metric_id,
        rescored.metric_label,
        rescored.account_id,
        latest_health.computed_score,
        rescored.score_without_metric,
        coalesce(current_bands.band, 'unknown') as current_band,
        coalesce(new_bands.band, 'unknown') as band_without_metric,
        coalesce(current_bands.band_order, 0) as current_band_order,
        coalesce(new_bands.band_order, 0) as new_band_order
    from rescored
    inner join latest_health
        on rescored.account_id = latest_health.account_id
    left join band_ranges as current_bands
        on
            latest_health.computed_score >= current_bands.min_score
            and (
                latest_health.computed_score < current_bands.next_min_score
                or current_bands.next_min_score is null
            )
    left join band_ranges as new_bands
        on
            rescored.score_without_metric >= new_bands.min_score
            and (
                rescored.score_without_metric < new_bands.next_min_score
                or new_bands.next_min_score is null
            )
),

final as (
    select
        compared.metric_id,
        compared.metric_label,
        count(*) as accounts_counting_metric,
        cast(
            sum(case when compared.current_band != compared.band_without_metric then 1 else 0 end)
            as {{ dbt.type_bigint() }}
        ) as accounts_changing_band,
        cast(
            sum(case when compared.new_band_order > compared.current_band_order then 1 else 0 end)
            as {{ dbt.type_bigint() }}
        ) as accounts_to_better_band,
        cast(
            sum(case when compared.new_band_order < compared.current_band_order then 1 else 0 end)
            as {{ dbt.type_bigint() }}
        ) as accounts_to_worse_band,
        avg(compared.score_without_metric - compared.computed_score) as mean_score_change,
        max(abs(compared.score_without_metric - compared.computed_score))
            as max_abs_score_change
    from compared
    group by 1, 2
)

select * from final
order by 4 desc, 1 asc
