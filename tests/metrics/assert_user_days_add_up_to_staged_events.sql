-- The user-days hold every staged product event, once: per day and event name,
-- the same number of events as stg_product__events and the same checksum of their
-- accounts and users. One row per day and event name that differs. The user-days
-- are incremental: a day whose events all disappeared from the source after it
-- was recorded keeps its rows and fails here; dbt build --full-refresh --select
-- int_account_user_days_aggregated+ rebuilds them from the staged events.

with

events as (
    select * from {{ ref('stg_product__events') }}
),

user_days as (
    select * from {{ ref('int_account_user_days_aggregated') }}
),

staged as (
    {{ day_event_fingerprints('events', 'occurred_on', '1') }}
),

recorded as (
    {{ day_event_fingerprints('user_days', 'activity_date', 'user_days.event_count') }}
),

compared as (
    {{ day_event_fingerprints_compared('staged', 'recorded') }}
)

select * from compared
where is_changed
