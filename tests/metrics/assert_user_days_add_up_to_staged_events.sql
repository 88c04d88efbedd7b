-- The user-days hold every staged product event, once: per day and event name,
-- the same number of events as stg_product__events and the same checksum of their
-- accounts and users. One row per day and event name that differs. The user-days
-- are incremental: a day whose events all disappeared from the source after it
-- was recorded keeps its rows and fails here; dbt build --full-refresh --select
-- int_account_user_days_aggregated+ rebuilds them from the staged events.

{#- The staged events are read without ref(), so that the user-days are the test's
    only parent: with ref(), `dbt build --select staging` would also select it (dbt
    selects a test when any parent is selected) and compare the new staged events
    with user-days not rebuilt yet. dbt's graph is empty while it parses. -#}
{%- set staged_events = 'stg_product__events' %}
{%- if execute %}
    {%- set staged_events = graph_model_relation(
        'stg_product__events', 'assert_user_days_add_up_to_staged_events'
    ) %}
{%- endif %}

with

events as (
    select * from {{ staged_events }}
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
