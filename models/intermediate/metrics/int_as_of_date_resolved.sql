-- One row: the date the scores are computed for. The var as_of_date when set,
-- else the latest day with any product event, never the wall clock, so that a
-- rerun on the same data gives the same scores.

with

account_user_days as (
    select * from {{ ref('int_account_user_days_aggregated') }}
),

latest_activity as (
    select max(account_user_days.activity_date) as latest_activity_date
    from account_user_days
),

final as (
    select
        {% if var('as_of_date') -%}
        cast('{{ var("as_of_date") }}' as date) as as_of_date,
        {%- else -%}
        latest_activity.latest_activity_date as as_of_date,
        {%- endif %}
        latest_activity.latest_activity_date
    from latest_activity
)

select * from final
