{{ config(
    materialized='incremental',
    incremental_strategy=history_incremental_strategy(),
    unique_key='score_date',
    partition_by=history_partition_by(),
    full_refresh=var('history_rebuild'),
    on_schema_change='fail',
) }}

-- One row per account in scope x score_date: the final health score as scored
-- on that date, its change vs 7 and 30 days before, its trend label and the
-- scorecard version that produced it. Incremental: a run scores only the dates
-- of int_score_dates_spined (the new days plus var history_lookback_days) and
-- replaces those dates; earlier rows are kept as recorded. A --full-refresh
-- does not rebuild it (full_refresh: false); var history_rebuild does.

{#- the grid date in the grain's days ending 30 days before a score date -#}
{%- set days_back_30d = ((30 + history_grain_days() - 1) // history_grain_days())
    * history_grain_days() %}

with

health_scores as (
    select * from {{ ref('int_health_scores_finalized') }}
),

score_dates as (
    select * from {{ ref('int_score_dates_spined') }}
    where is_history_date
),

scorecard_version as (
    select * from {{ ref('int_scorecard_version_hashed') }}
),

scored as (
    select
        health_scores.account_id,
        health_scores.as_of_date as score_date,
        health_scores.segment,
        health_scores.lifecycle_stage,
        health_scores.computed_score,
        health_scores.health_score,
        health_scores.score_source,
        health_scores.override_expires_at,
        health_scores.band,
        health_scores.grade,
        health_scores.weakest_metric_id,
        scorecard_version.scorecard_version
    from health_scores
    inner join score_dates
        on health_scores.as_of_date = score_dates.as_of_date
    cross join scorecard_version
),

{%- if is_incremental() %}

-- on an incremental run, the recorded scores as far back as the 30-day change
-- looks from the first date scored now are compared with too
scored_range as (
    select
        min(scored.score_date) as first_scored_date,
        cast({{ dbt.dateadd(
            'day', '-' ~ days_back_30d, 'min(scored.score_date)'
        ) }} as date) as first_compared_date
    from scored
),
{%- endif %}

scores_known as (
    select
        scored.account_id,
        scored.score_date,
        scored.health_score
    from scored
    {%- if is_incremental() %}
    union all
    select
        recorded.account_id,
        recorded.score_date,
        recorded.health_score
    from {{ this }} as recorded
    inner join scored_range
        on
            recorded.score_date < scored_range.first_scored_date
            and recorded.score_date >= scored_range.first_compared_date
    {%- endif %}
),

changed as (
    select
        scored.*,
        -- rounded as the scores are (var score_decimals), so that a change of exactly
        -- trend_min_change_points is that, not a double's error above or below it
        round(
            scored.health_score - scores_7d_before.health_score, {{ var('score_decimals') }}
        ) as score_change_7d,
        round(
            scored.health_score - scores_30d_before.health_score, {{ var('score_decimals') }}
        ) as score_change_30d
    from scored
    left join scores_known as scores_7d_before
        on
            scored.account_id = scores_7d_before.account_id
            and scores_7d_before.score_date
            = cast({{ dbt.dateadd('day', '-7', 'scored.score_date') }} as date)
    -- on the week grain, the score date in the 7 days ending 30 days before.
    -- Score dates lie on one grid (every grain days from a fixed Monday), so that
    -- date is a fixed number of days back (35 on the week grain) and the join is
    -- on equal keys: a range here paired each score with every score of its
    -- account (a year of daily scores: 365 x 365 pairs per account)
    left join scores_known as scores_30d_before
        on
            scored.account_id = scores_30d_before.account_id
            and scores_30d_before.score_date = cast(
                {{ dbt.dateadd('day', '-' ~ days_back_30d, 'scored.score_date') }} as date
            )
),

final as (
    select
        cast(changed.account_id as {{ dbt.type_string() }}) as account_id,
        cast(changed.score_date as date) as score_date,
        cast(changed.segment as {{ dbt.type_string() }}) as segment,
        cast(changed.lifecycle_stage as {{ dbt.type_string() }}) as lifecycle_stage,
        cast(changed.computed_score as {{ type_double() }}) as computed_score,
        cast(changed.health_score as {{ type_double() }}) as health_score,
        cast(changed.score_source as {{ dbt.type_string() }}) as score_source,
        cast(changed.override_expires_at as {{ dbt.type_timestamp() }})
            as override_expires_at,
        cast(changed.band as {{ dbt.type_string() }}) as band,
        cast(changed.grade as {{ dbt.type_string() }}) as grade,
        cast(changed.weakest_metric_id as {{ dbt.type_string() }}) as weakest_metric_id,
        cast(changed.score_change_7d as {{ type_double() }}) as score_change_7d,
        cast(changed.score_change_30d as {{ type_double() }}) as score_change_30d,
        cast(
            {{ trend_label('changed.score_change_7d', 'changed.score_change_30d') }}
            as {{ dbt.type_string() }}
        ) as trend,
        cast(changed.scorecard_version as {{ dbt.type_string() }}) as scorecard_version
    from changed
)

-- stored in account order (DuckDB), for the models built in account buckets that
-- read it (the contribution changes, the alerts): see int_account_user_days_aggregated
select * from final
{{ order_for_storage(['account_id', 'score_date']) }}
