{% macro clear_rescored_dates() -%}
    {{ return(adapter.dispatch('clear_rescored_dates', 'customer_health')()) }}
{%- endmacro %}

{#- A pre-hook of fct_health_alerts. delete+insert (insert_overwrite on Spark)
    replaces the dates its new rows hold, so a rescored date that has no alert any
    more would keep the alerts it had: the hook removes every rescored date first,
    and only those: a run as of a past date keeps the alerts of the later dates.
    The range (a literal DuckDB prunes the scan with) narrows the rows the exact
    list of dates is checked on. The other history marts need none: a scored date
    has a row for every account. -#}
{% macro default__clear_rescored_dates() -%}
    {%- if execute and not should_full_refresh() and load_relation(this) is not none -%}
        delete from {{ this }}
        where
            {{ rescored_dates_predicate(this) }}
            and {{ history_date_column(this) }} in (
                select as_of_date from {{ score_dates_relation(this) }} where is_history_date
            )
    {%- endif -%}
{%- endmacro %}

{#- Spark: one partition per date (history_partition_by); drop each scored date's. -#}
{% macro spark__clear_rescored_dates() -%}
    {%- if execute and not should_full_refresh() and load_relation(this) is not none -%}
        {%- set date_column = history_date_column(this) -%}
        {%- set scored_dates -%}
            select distinct cast(as_of_date as string)
            from {{ score_dates_relation(this) }}
            where is_history_date
        {%- endset -%}
        {%- for scored_date in run_query(scored_dates).columns[0].values() -%}
            {%- do run_query(
                'alter table ' ~ this ~ ' drop if exists partition ('
                ~ date_column ~ ' = ' ~ dbt.string_literal(scored_date) ~ ')'
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
