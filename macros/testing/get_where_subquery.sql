{% macro get_where_subquery(relation) -%}
    {#- dbt's own macro (a test's `where` config as a subquery), with one placeholder:
        __rescored_dates__ stands for the dates this run (re)wrote in an incremental
        history mart, so that a daily run tests its new rows, not the whole history
        again (every date was tested on the run that wrote it). -#}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- if '__rescored_dates__' in where -%}
            {%- set where = where | replace('__rescored_dates__', rescored_dates_predicate(relation)) -%}
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
