{{ config(
    materialized=account_bucketed_materialization('incremental'),
    incremental_strategy=history_incremental_strategy(),
    unique_key='alert_date',
    partition_by=history_partition_by('alert_date'),
    full_refresh=var('history_rebuild'),
    on_schema_change='fail',
    pre_hook="{{ clear_rescored_dates() }}",
) }}

-- One row per alert for playbooks: an alert rule (seed alert_rules) whose
-- condition starts on a score date, i.e. holds on that date and did not hold on
-- the account's previous score date (or the account has none). It fires once,
-- not on every day the condition holds. alert_id hashes rule, account, date and
-- metric, so it is stable across runs.
-- Incremental like the history marts: a run computes the alerts of the score
-- dates it scored (int_score_dates_spined) and replaces them, reading the
-- history only as far back as the rules look (their longest reach, plus two
-- score dates for the comparison with the previous one). The pre-hook clears
-- the scored dates first: one that has no alert any more holds no new row for
-- delete+insert to replace it by.

with

health_history as (
    select * from {{ ref('fct_health_score_history') }}
    where {{ in_account_bucket('account_id') }}
),

metric_history as (
    select * from {{ ref('fct_metric_score_history') }}
    where {{ in_account_bucket('account_id') }}
),

alert_rules as (
    select * from {{ ref('alert_rules') }}
    where is_enabled
),

score_bands as (
    select * from {{ ref('int_score_bands_ranged') }}
),

score_dates as (
    select * from {{ ref('int_score_dates_spined') }}
    where is_history_date
),

-- bands from worst (1) to best; unknown has none
band_ranks as (
    select
        score_bands.band,
        row_number() over (order by score_bands.min_score) as band_rank
    from score_bands
),

-- how far back the rules look: within_days, or periods score dates
rule_reach as (
    select
        max(
            greatest(
                coalesce(alert_rules.within_days, 0),
                coalesce(alert_rules.periods, 0) * {{ history_grain_days() }}
            )
        ) + 2 * {{ history_grain_days() }} as reach_days
    from alert_rules
),

scored_range as (
    select min(score_dates.as_of_date) as first_scored_date
    from score_dates
),

read_from as (
    select
        cast(
            {{ dbt.dateadd('day', '-1 * rule_reach.reach_days', 'scored_range.first_scored_date') }}
            as date
        ) as first_read_date
    from scored_range
    cross join rule_reach
),

health_read as (
    select health_history.*
    from health_history
    inner join read_from
        on health_history.score_date >= read_from.first_read_date
),

metric_read as (
    select metric_history.*
    from metric_history
    inner join read_from
        on metric_history.score_date >= read_from.first_read_date
),

health_sequenced as (
    select
        health_read.account_id,
        health_read.score_date,
        health_read.health_score,
        health_read.band,
        health_read.score_source,
        band_ranks.band_rank,
        lag(health_read.health_score) over (
            partition by health_read.account_id order by health_read.score_date
        ) as previous_health_score,
        lag(health_read.band) over (
            partition by health_read.account_id order by health_read.score_date
        ) as previous_band,
        lag(band_ranks.band_rank) over (
            partition by health_read.account_id order by health_read.score_date
        ) as previous_band_rank,
        lag(health_read.score_source) over (
            partition by health_read.account_id order by health_read.score_date
        ) as previous_score_source,
        lag(health_read.override_expires_at) over (
            partition by health_read.account_id order by health_read.score_date
        ) as previous_override_expires_at
    from health_read
    left join band_ranks
        on health_read.band = band_ranks.band
),

-- Score below a threshold ------------------------------------------------------

below_threshold_alerts as (
    select
        alert_rules.rule_id,
        alert_rules.alert_type,
        alert_rules.severity,
        health_sequenced.account_id,
        health_sequenced.score_date as alert_date,
        cast(null as {{ dbt.type_string() }}) as metric_id,
        health_sequenced.previous_health_score as previous_value,
        health_sequenced.health_score as current_value,
        {{ dbt.concat([
            "'Health score fell below '",
            "cast(alert_rules.threshold_score as " ~ dbt.type_string() ~ ")",
            "': '",
            "cast(round(health_sequenced.health_score, 1) as " ~ dbt.type_string() ~ ")",
        ]) }} as message
    from health_sequenced
    inner join alert_rules
        on alert_rules.alert_type = 'score_below_threshold'
    where
        health_sequenced.health_score < alert_rules.threshold_score
        and not coalesce(
            health_sequenced.previous_health_score < alert_rules.threshold_score, false
        )
),

-- Score dropped more than N points within D days ------------------------------

drop_rules as (
    select * from alert_rules
    where alert_type = 'score_dropped'
),

-- the dates read, to spread each score over the later dates whose window it
-- falls in: a range join to a few hundred dates instead of pairing every score
-- with every earlier one of its account
read_dates as (
    select distinct health_read.score_date
    from health_read
),

-- each score with the last date whose window still holds it, per rule: two
-- plain column comparisons let the engine range-join instead of filtering pairs
scores_reaching as (
    select
        drop_rules.rule_id,
        health_read.account_id,
        health_read.score_date,
        health_read.health_score,
        cast(
            {{ dbt.dateadd('day', 'drop_rules.within_days', 'health_read.score_date') }} as date
        ) as last_reached_date
    from health_read
    cross join drop_rules
),

scores_in_windows as (
    select
        scores_reaching.rule_id,
        scores_reaching.account_id,
        read_dates.score_date,
        scores_reaching.health_score
    from scores_reaching
    inner join read_dates
        on
            scores_reaching.score_date < read_dates.score_date
            and scores_reaching.last_reached_date >= read_dates.score_date
),

recent_peaks as (
    select
        scores_in_windows.rule_id,
        scores_in_windows.account_id,
        scores_in_windows.score_date,
        max(scores_in_windows.health_score) as peak_health_score
    from scores_in_windows
    group by 1, 2, 3
),

drop_conditions as (
    select
        drop_rules.rule_id,
        drop_rules.alert_type,
        drop_rules.severity,
        drop_rules.drop_points,
        drop_rules.within_days,
        health_sequenced.account_id,
        health_sequenced.score_date,
        health_sequenced.health_score,
        recent_peaks.peak_health_score,
        -- rounded as the scores are (var score_decimals): 69.575558036 - 54.575558036
        -- is 15.000000000000007 in doubles, and not more than a drop of 15
        coalesce(
            round(
                recent_peaks.peak_health_score - health_sequenced.health_score,
                {{ var('score_decimals') }}
            )
            > drop_rules.drop_points,
            false
        ) as has_dropped
    from health_sequenced
    cross join drop_rules
    left join recent_peaks
        on
            drop_rules.rule_id = recent_peaks.rule_id
            and health_sequenced.account_id = recent_peaks.account_id
            and health_sequenced.score_date = recent_peaks.score_date
),

drop_starts as (
    select
        drop_conditions.*,
        lag(drop_conditions.has_dropped) over (
            partition by drop_conditions.rule_id, drop_conditions.account_id
            order by drop_conditions.score_date
        ) as had_dropped
    from drop_conditions
),

score_drop_alerts as (
    select
        drop_starts.rule_id,
        drop_starts.alert_type,
        drop_starts.severity,
        drop_starts.account_id,
        drop_starts.score_date as alert_date,
        cast(null as {{ dbt.type_string() }}) as metric_id,
        drop_starts.peak_health_score as previous_value,
        drop_starts.health_score as current_value,
        {{ dbt.concat([
            "'Health score fell '",
            "cast(round(drop_starts.peak_health_score - drop_starts.health_score, 1) as "
            ~ dbt.type_string() ~ ")",
            "' points within '",
            "cast(drop_starts.within_days as " ~ dbt.type_string() ~ ")",
            "' days: '",
            "cast(round(drop_starts.peak_health_score, 1) as " ~ dbt.type_string() ~ ")",
            "' to '",
            "cast(round(drop_starts.health_score, 1) as " ~ dbt.type_string() ~ ")",
        ]) }} as message
    from drop_starts
    where drop_starts.has_dropped and not coalesce(drop_starts.had_dropped, false)
),

-- Band got worse ---------------------------------------------------------------

band_alerts as (
    select
        alert_rules.rule_id,
        alert_rules.alert_type,
        alert_rules.severity,
        health_sequenced.account_id,
        health_sequenced.score_date as alert_date,
        cast(null as {{ dbt.type_string() }}) as metric_id,
        health_sequenced.previous_health_score as previous_value,
        health_sequenced.health_score as current_value,
        {{ dbt.concat([
            "'Health band worsened from '",
            "health_sequenced.previous_band",
            "' to '",
            "health_sequenced.band",
            "': '",
            "cast(round(health_sequenced.previous_health_score, 1) as "
            ~ dbt.type_string() ~ ")",
            "' to '",
            "cast(round(health_sequenced.health_score, 1) as " ~ dbt.type_string() ~ ")",
        ]) }} as message
    from health_sequenced
    inner join alert_rules
        on alert_rules.alert_type = 'band_worsened'
    where health_sequenced.band_rank < health_sequenced.previous_band_rank
),

-- A key metric turned red ------------------------------------------------------

-- only the account-metric pairs that are red while weighing enough on some date
-- read can fire: the previous score is looked up among all their rows (so it is
-- the same previous row as over the whole history), but the sort skips the
-- light metrics and those never red (at M: 11.0M of 47.2M rows sorted, not 19.5M).
-- The lightest weight any rule accepts is one number: comparing every metric row
-- with it is a filter, where a join on `weight >= min_weight` sorted them all.
key_metric_min_weight as (
    select min(alert_rules.min_weight) as min_weight
    from alert_rules
    where alert_rules.alert_type = 'key_metric_red'
),

key_metric_pairs as (
    select distinct
        metric_read.account_id,
        metric_read.metric_id
    from metric_read
    where
        metric_read.band = 'red'
        and metric_read.weight
        >= (select key_metric_min_weight.min_weight from key_metric_min_weight)
),

key_metric_read as (
    select
        metric_read.account_id,
        metric_read.score_date,
        metric_read.metric_id,
        metric_read.metric_label,
        metric_read.weight,
        metric_read.score,
        metric_read.band
    from metric_read
    inner join key_metric_pairs
        on
            metric_read.account_id = key_metric_pairs.account_id
            and metric_read.metric_id = key_metric_pairs.metric_id
),

metric_sequenced as (
    select
        key_metric_read.account_id,
        key_metric_read.score_date,
        key_metric_read.metric_id,
        key_metric_read.metric_label,
        key_metric_read.weight,
        key_metric_read.score,
        key_metric_read.band,
        lag(key_metric_read.score) over (
            partition by key_metric_read.account_id, key_metric_read.metric_id
            order by key_metric_read.score_date
        ) as previous_score,
        lag(key_metric_read.band) over (
            partition by key_metric_read.account_id, key_metric_read.metric_id
            order by key_metric_read.score_date
        ) as previous_band
    from key_metric_read
),

key_metric_alerts as (
    select
        alert_rules.rule_id,
        alert_rules.alert_type,
        alert_rules.severity,
        metric_sequenced.account_id,
        metric_sequenced.score_date as alert_date,
        metric_sequenced.metric_id,
        metric_sequenced.previous_score as previous_value,
        metric_sequenced.score as current_value,
        {{ dbt.concat([
            "'Key metric '",
            "metric_sequenced.metric_label",
            "' turned red: score '",
            "coalesce(cast(round(metric_sequenced.previous_score, 1) as "
            ~ dbt.type_string() ~ "), 'none')",
            "' to '",
            "cast(round(metric_sequenced.score, 1) as " ~ dbt.type_string() ~ ")",
        ]) }} as message
    from metric_sequenced
    inner join alert_rules
        on alert_rules.alert_type = 'key_metric_red'
    where
        metric_sequenced.band = 'red'
        and metric_sequenced.weight >= alert_rules.min_weight
        and coalesce(metric_sequenced.previous_band, 'none') <> 'red'
),

-- N consecutive declining periods ----------------------------------------------

declines_flagged as (
    select
        health_sequenced.*,
        coalesce(health_sequenced.health_score < health_sequenced.previous_health_score, false)
            as is_decline
    from health_sequenced
),

declines_grouped as (
    select
        declines_flagged.*,
        sum(case when declines_flagged.is_decline then 0 else 1 end) over (
            partition by declines_flagged.account_id
            order by declines_flagged.score_date
            rows between unbounded preceding and current row
        ) as run_id
    from declines_flagged
),

declines_counted as (
    select
        declines_grouped.*,
        sum(case when declines_grouped.is_decline then 1 else 0 end) over (
            partition by declines_grouped.account_id, declines_grouped.run_id
            order by declines_grouped.score_date
            rows between unbounded preceding and current row
        ) as declines_in_a_row,
        first_value(declines_grouped.health_score) over (
            partition by declines_grouped.account_id, declines_grouped.run_id
            order by declines_grouped.score_date
            rows between unbounded preceding and current row
        ) as run_start_score
    from declines_grouped
),

decline_alerts as (
    select
        alert_rules.rule_id,
        alert_rules.alert_type,
        alert_rules.severity,
        declines_counted.account_id,
        declines_counted.score_date as alert_date,
        cast(null as {{ dbt.type_string() }}) as metric_id,
        declines_counted.run_start_score as previous_value,
        declines_counted.health_score as current_value,
        {{ dbt.concat([
            "'Health score declined '",
            "cast(alert_rules.periods as " ~ dbt.type_string() ~ ")",
            "' score dates in a row: '",
            "cast(round(declines_counted.run_start_score, 1) as " ~ dbt.type_string() ~ ")",
            "' to '",
            "cast(round(declines_counted.health_score, 1) as " ~ dbt.type_string() ~ ")",
        ]) }} as message
    from declines_counted
    inner join alert_rules
        on alert_rules.alert_type = 'consecutive_declines'
    where declines_counted.is_decline and declines_counted.declines_in_a_row = alert_rules.periods
),

-- Override expired -------------------------------------------------------------

override_alerts as (
    select
        alert_rules.rule_id,
        alert_rules.alert_type,
        alert_rules.severity,
        health_sequenced.account_id,
        health_sequenced.score_date as alert_date,
        cast(null as {{ dbt.type_string() }}) as metric_id,
        health_sequenced.previous_health_score as previous_value,
        health_sequenced.health_score as current_value,
        {{ dbt.concat([
            "'CSM override ended (override '",
            "coalesce(cast(round(health_sequenced.previous_health_score, 1) as "
            ~ dbt.type_string() ~ "), 'none')",
            "'): computed score '",
            "coalesce(cast(round(health_sequenced.health_score, 1) as "
            ~ dbt.type_string() ~ "), 'none')",
            "' applies again'",
        ]) }} as message
    from health_sequenced
    inner join alert_rules
        on alert_rules.alert_type = 'override_expired'
    where
        health_sequenced.previous_score_source = 'csm_override'
        and health_sequenced.score_source = 'computed'
),

all_alerts as (
    {%- for alerts_cte in [
        'below_threshold_alerts', 'score_drop_alerts', 'band_alerts', 'key_metric_alerts',
        'decline_alerts', 'override_alerts',
    ] %}
    select * from {{ alerts_cte }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        cast({{ history_alert_id(
            'all_alerts.rule_id',
            'all_alerts.account_id',
            'all_alerts.alert_date',
            'all_alerts.metric_id',
        ) }} as {{ dbt.type_string() }}) as alert_id,
        cast(all_alerts.account_id as {{ dbt.type_string() }}) as account_id,
        cast(all_alerts.alert_date as date) as alert_date,
        cast(all_alerts.rule_id as {{ dbt.type_string() }}) as rule_id,
        cast(all_alerts.alert_type as {{ dbt.type_string() }}) as alert_type,
        cast(all_alerts.severity as {{ dbt.type_string() }}) as severity,
        cast(all_alerts.metric_id as {{ dbt.type_string() }}) as metric_id,
        cast(all_alerts.previous_value as {{ type_double() }}) as previous_value,
        cast(all_alerts.current_value as {{ type_double() }}) as current_value,
        cast(all_alerts.message as {{ dbt.type_string() }}) as message
    from all_alerts
    inner join score_dates
        on all_alerts.alert_date = score_dates.as_of_date
)

select * from final
