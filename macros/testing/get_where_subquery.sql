{% macro get_where_subquery(relation) -%}
    {#- dbt's own macro (a test's `where` config as a subquery), with three placeholders
        for incremental models, so that a daily run tests the rows it wrote, not the
        whole table again (every row was tested on the run that wrote it):
        __rescored_dates__, the dates this run (re)wrote in a history mart,
        __days_last_aggregated__, the days the latest run wrote in the user-days, and
        __events_last_parsed__, the event_ids the latest run decided in staging. -#}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- if '__rescored_dates__' in where -%}
            {%- set where = where | replace('__rescored_dates__', rescored_dates_predicate(relation)) -%}
        {%- endif -%}
        {%- if '__days_last_aggregated__' in where -%}
            {%- set where = where | replace(
                '__days_last_aggregated__', days_last_aggregated_predicate(relation)
            ) -%}
        {%- endif -%}
        {%- if '__events_last_parsed__' in where -%}
            {%- set where = where | replace(
                '__events_last_parsed__', events_last_parsed_predicate()
            ) -%}
        {%- endif -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{% macro rescored_dates_predicate(relation) -%}
    {#- The history mart's date (score_date, or alert_date for alerts) is one the
        current run scored: on or after the first date of int_score_dates_spined,
        every date on a full build. -#}
    {%- set date_column = 'score_date' -%}
    {%- if execute -%}
        {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name')
            | map('lower') | list -%}
        {%- if 'score_date' not in columns -%}
            {%- if 'alert_date' in columns -%}
                {%- set date_column = 'alert_date' -%}
            {%- else -%}
                {{ exceptions.raise_compiler_error(
                    "__rescored_dates__ in a test of " ~ relation
                    ~ ": it has neither score_date nor alert_date"
                ) }}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {%- set score_dates = api.Relation.create(
        database=relation.database, schema=relation.schema, identifier='int_score_dates_spined'
    ) -%}
    {{ date_column }} >= (select min(as_of_date) from {{ score_dates }} where is_history_date)
{%- endmacro %}

{% macro days_last_aggregated_predicate(relation) -%}
    {#- The row's activity_date is a day the latest run aggregated (the rows with the
        latest aggregated_at): all the rows of those days, the ones kept from earlier
        runs too, so that a day written twice would fail a grain test. Every day on a
        full build. -#}
    activity_date in (
        select latest_days.activity_date
        from {{ relation }} as latest_days
        where latest_days.aggregated_at = (select max(runs.aggregated_at) from {{ relation }} as runs)
    )
{%- endmacro %}

{% macro events_last_parsed_predicate() -%}
    {#- The row's event_id is one whose rows the latest run of base_product__events_parsed
        decided (the rows with the latest parsed_at): all the rows of an event_id are in
        one key bucket, decided and written together, so a duplicate made by that run is
        read whole. Every event_id on a full build. -#}
    {%- set events_parsed = graph_model_relation(
        'base_product__events_parsed', '__events_last_parsed__'
    ) -%}
    event_id in (
        select latest_events.event_id
        from {{ events_parsed }} as latest_events
        where latest_events.parsed_at = (select max(runs.parsed_at) from {{ events_parsed }} as runs)
    )
{%- endmacro %}
