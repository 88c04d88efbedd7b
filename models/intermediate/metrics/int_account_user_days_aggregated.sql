{{ config(materialized='table') }}

-- The one scan of the raw product events: every product metric is derived from
-- this table (account x user x day x event name), never from the events again.
-- Distinct users over a window cannot be summed from daily distinct counts, hence
-- the user grain.

with

events as (
    select * from {{ ref('stg_product__events') }}
),

aggregated as (
    select
        events.account_id,
        events.user_id,
        events.occurred_on as activity_date,
        events.event_name,
        count(*) as event_count
    from events
    group by 1, 2, 3, 4
),

final as (
    select * from aggregated
)

select * from final
