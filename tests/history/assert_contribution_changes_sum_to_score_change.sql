-- Attribution: for every account-date of fct_metric_contribution_changes the
-- run wrote (all of them on a full build), the metrics' contribution changes
-- add up to the change of the computed score. Fails with the account-dates
-- where they do not (beyond score_sum_tolerance).

with

changes as (
    select * from {{ ref('fct_metric_contribution_changes') }}
    where {{ rescored_dates_predicate(ref('fct_metric_contribution_changes')) }}
),

summed as (
    select
        changes.account_id,
        changes.score_date,
        sum(changes.contribution_change) as contribution_change_total,
        max(changes.computed_score_change) as computed_score_change
    from changes
    group by 1, 2
)

select * from summed
where
    abs(contribution_change_total - computed_score_change)
    > {{ var('score_sum_tolerance') }}
