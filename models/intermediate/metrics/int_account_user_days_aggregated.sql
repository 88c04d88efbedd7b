{{ config(
    materialized='incremental',
    incremental_strategy=history_incremental_strategy(),
    unique_key='activity_date',
    partition_by=history_partition_by('activity_date'),
    on_schema_change='fail',
) }}

-- The one scan of the raw product events: every product metric is derived from
-- this table (account x user x day x event name), never from the events again.
-- Distinct users over a window cannot be summed from daily distinct counts, hence
-- the user grain.
-- Incremental: a run aggregates again only the days from the last recorded
-- activity_date minus var history_lookback_days, plus any earlier day whose
-- staged events no longer match its recorded rows (events per event name and a
-- checksum of their accounts and users), and replaces those days. Late or
-- corrected events are counted on the day they belong to, and the unchanged
-- days, nearly all, are only fingerprinted (aggregating all of them took 44.9 s
-- of the 408 s L daily run).
-- A day that lost all its events keeps its rows (a day is replaced by the rows
-- inserted for it): assert_user_days_add_up_to_staged_events fails on it, and
-- --full-refresh rebuilds the table. var history_rebuild aggregates every day.

with

events as (
    select * from {{ ref('stg_product__events') }}
),

{%- if is_incremental() and not var('history_rebuild') %}

-- The staged events again, for the fingerprints: DuckDB buffers a CTE that two
-- steps read until both have read it (100M rows at L; the query took 6.6 s
-- with one CTE and 5.0-5.4 s with two, measured alone on the L warehouse).
events_fingerprinted as (
    select * from {{ ref('stg_product__events') }}
),

recorded as (
    select * from {{ this }}
),

staged_fingerprints as (
    {{ day_event_fingerprints('events_fingerprinted', 'occurred_on', '1') }}
),

recorded_fingerprints as (
    {{ day_event_fingerprints('recorded', 'activity_date', 'recorded.event_count') }}
),

lookback_start as (
    select
        cast({{ dbt.dateadd(
            'day',
            '-' ~ var('history_lookback_days'),
            'max(recorded_fingerprints.activity_date)'
        ) }} as date) as first_lookback_date
    from recorded_fingerprints
),

fingerprints_compared as (
    {{ day_event_fingerprints_compared('staged_fingerprints', 'recorded_fingerprints') }}
),

-- the lookback days, and every earlier day with an event name added, gone, or
-- counted or spread over users differently (with no recorded rows, every day:
-- each staged pair lacks its recorded side)
days_aggregated as (
    select fingerprints_compared.activity_date
    from fingerprints_compared
    cross join lookback_start
    where
        fingerprints_compared.is_changed
        or fingerprints_compared.activity_date >= lookback_start.first_lookback_date
    group by 1
),

events_read as (
    select events.*
    from events
    inner join days_aggregated
        on events.occurred_on = days_aggregated.activity_date
),

{%- else %}

events_read as (
    select * from events
),

{%- endif %}

aggregated as (
    select
        events_read.account_id,
        events_read.user_id,
        events_read.occurred_on as activity_date,
        events_read.event_name,
        count(*) as event_count
    from events_read
    group by 1, 2, 3, 4
),

-- when this run aggregated the day: the grain test reads only the days of the
-- latest aggregation (__days_last_aggregated__), not the whole table every run
final as (
    select
        *,
        {{ run_started_timestamp() }} as aggregated_at
    from aggregated
)

-- stored in account order (DuckDB): the models built in account buckets read one
-- range of accounts each, and the row groups' min/max account_id let them skip the
-- rest instead of filtering every row once per bucket (100 times at L)
select * from final
{{ order_for_storage(['account_id', 'activity_date']) }}
