{#- The backtest's observations, one definition for every backtest analysis: each
    account x score date of the score history at least horizon_days before its last
    score date, leaving out accounts already churned on the score date, with
    churned_within_horizon = 1 when churned_at falls within horizon_days after it. -#}
{% macro backtest_observations(score_history, accounts, horizon_days, score_columns) %}
    select
        score_history.account_id,
        score_history.score_date,
        {%- for column in score_columns %}
        score_history.{{ column }},
        {%- endfor %}
        case
            when
                accounts.churned_at is not null
                and cast(accounts.churned_at as date)
                <= cast(
                    {{ dbt.dateadd('day', horizon_days, 'score_history.score_date') }} as date
                )
                then 1
            else 0
        end as churned_within_horizon
    from {{ score_history }} as score_history
    inner join {{ accounts }} as accounts
        on score_history.account_id = accounts.account_id
    cross join (
        select max(history_end.score_date) as last_score_date
        from {{ score_history }} as history_end
    ) as data_end
    where
        score_history.score_date
        <= cast(
            {{ dbt.dateadd('day', '-1 * ' ~ horizon_days, 'data_end.last_score_date') }} as date
        )
        and (
            accounts.churned_at is null
            or cast(accounts.churned_at as date) > score_history.score_date
        )
{% endmacro %}
