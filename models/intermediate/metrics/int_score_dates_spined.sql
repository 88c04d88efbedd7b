{{ config(materialized='table') }}

-- The dates the engine scores (as_of_date in every scoring model): the history
-- dates at the var history_grain (every day, or every 7th day counted from
-- 2000-01-03, a Monday, so that weekly dates stay put as data arrives), from
-- the history start (var history_days before as_of_date, and not within var
-- history_warmup_days of the first activity date) to as_of_date, plus as_of_date
-- itself (the latest-date marts).
-- Once the score history exists (and var history_rebuild is false), only the
-- dates after its last score_date minus var history_lookback_days are scored:
-- a daily run computes the new days, not the whole year again. An as_of_date on
-- or before those dates (a run as of a past date) is scored for the latest-date
-- marts only, not written to the history again. Var
-- history_complete_through (a date) moves that last score_date back to it: the
-- orchestrator sets it after a build in place stopped half-way, when some history
-- marts may hold dates the others lack.

{#- The recorded history, found where dbt builds it (its own schema and alias), not
    through ref(): the history is built from these dates. dbt's graph is empty while
    it parses the project. -#}
{%- set history_relation = none %}
{%- if execute %}
    {%- set history_relation = load_cached_relation(
        graph_model_relation('fct_health_score_history', 'int_score_dates_spined')
    ) %}
{%- endif %}
{%- set grain_days = history_grain_days() %}
{%- set complete_through = history_complete_through() %}
{%- set last_recorded_date = 'max(recorded.score_date)' if complete_through is none
    else 'least(max(recorded.score_date), ' ~ complete_through ~ ')' %}

with

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

account_user_days as (
    select * from {{ ref('int_account_user_days_aggregated') }}
),

first_activity as (
    select min(account_user_days.activity_date) as first_activity_date
    from account_user_days
),

digits as (
    {%- for digit in range(10) %}
    select {{ digit }} as digit
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

-- 0 to 9999 days back from as_of_date: more than 27 years of history
day_offsets as (
    select
        thousands.digit * 1000 + hundreds.digit * 100 + tens.digit * 10 + units.digit
            as days_back
    from digits as thousands
    cross join digits as hundreds
    cross join digits as tens
    cross join digits as units
),

-- var history_days before as_of_date, and history_warmup_days into the data: a
-- window reaching back before the first activity holds only part of its days. Not
-- after as_of_date, which is scored whatever the data's length.
history_bounds as (
    select
        as_of.as_of_date,
        least(
            greatest(
                cast(
                    {{ dbt.dateadd('day', '-' ~ var('history_days'), 'as_of.as_of_date') }}
                    as date
                ),
                coalesce(
                    cast(
                        {{ dbt.dateadd(
                            'day',
                            var('history_warmup_days'),
                            'first_activity.first_activity_date'
                        ) }} as date
                    ),
                    as_of.as_of_date
                )
            ),
            as_of.as_of_date
        ) as history_start_date,
        {%- if history_relation is not none and not var('history_rebuild') %}
        (
            select
                cast({{ dbt.dateadd(
                    'day', '-' ~ var('history_lookback_days'), last_recorded_date
                ) }} as date)
            from {{ history_relation }} as recorded
        ) as recompute_from_date
        {%- else %}
        cast(null as date) as recompute_from_date
        {%- endif %}
    from as_of
    cross join first_activity
),

candidate_dates as (
    select
        cast(
            {{ dbt.dateadd('day', '-1 * day_offsets.days_back', 'history_bounds.as_of_date') }}
            as date
        ) as as_of_date,
        history_bounds.as_of_date as latest_as_of_date,
        history_bounds.history_start_date,
        history_bounds.recompute_from_date
    from history_bounds
    cross join day_offsets
),

flagged as (
    select
        candidate_dates.as_of_date,
        candidate_dates.as_of_date = candidate_dates.latest_as_of_date as is_latest,
        mod(
            {{ dbt.datediff("cast('2000-01-03' as date)", 'candidate_dates.as_of_date', 'day') }},
            {{ grain_days }}
        ) = 0 as is_history_date,
        candidate_dates.history_start_date,
        candidate_dates.recompute_from_date
    from candidate_dates
    where candidate_dates.as_of_date >= candidate_dates.history_start_date
),

final as (
    select
        flagged.as_of_date,
        flagged.is_latest,
        -- a past as_of_date the history already records is scored for the latest-date
        -- marts only: recorded history is not rescored by a run that looks back
        flagged.is_history_date
        and (
            flagged.recompute_from_date is null
            or flagged.as_of_date > flagged.recompute_from_date
        ) as is_history_date
    from flagged
    where
        (flagged.is_history_date or flagged.is_latest)
        and (
            flagged.recompute_from_date is null
            or flagged.as_of_date > flagged.recompute_from_date
            or flagged.is_latest
        )
)

select * from final
