-- The latest-date marts and the score history agree: at as_of_date, every
-- account of fct_health_scores has a history row with the same computed and
-- final score, band and source, and vice versa (when the run wrote history
-- rows at as_of_date: always on the day grain, except for a past as_of_date
-- the history had recorded, which the run leaves as it was). Fails with the
-- rows that differ.

with

latest as (
    select * from {{ ref('fct_health_scores') }}
),

history_dates_scored as (
    select * from {{ ref('int_score_dates_spined') }}
    where is_history_date
),

latest_dates as (
    select distinct latest.as_of_date
    from latest
    inner join history_dates_scored
        on latest.as_of_date = history_dates_scored.as_of_date
),

-- on the week grain, as_of_date has a history row only when on the grain
history as (
    select history_rows.*
    from {{ ref('fct_health_score_history') }} as history_rows
    inner join latest_dates
        on history_rows.score_date = latest_dates.as_of_date
),

latest_on_history_grain as (
    select latest.*
    from latest
    where latest.as_of_date in (select history.score_date from history)
),

compared as (
    select
        coalesce(latest_on_history_grain.account_id, history.account_id) as account_id,
        latest_on_history_grain.health_score as latest_health_score,
        history.health_score as history_health_score,
        latest_on_history_grain.band as latest_band,
        history.band as history_band
    from latest_on_history_grain
    full outer join history
        on
            latest_on_history_grain.account_id = history.account_id
            and latest_on_history_grain.as_of_date = history.score_date
    where
        latest_on_history_grain.account_id is null
        or history.account_id is null
        or abs(
            coalesce(latest_on_history_grain.computed_score, -1)
            - coalesce(history.computed_score, -1)
        ) > {{ var('score_sum_tolerance') }}
        or abs(
            coalesce(latest_on_history_grain.health_score, -1)
            - coalesce(history.health_score, -1)
        ) > {{ var('score_sum_tolerance') }}
        or latest_on_history_grain.band <> history.band
        or latest_on_history_grain.score_source <> history.score_source
)

select * from compared
