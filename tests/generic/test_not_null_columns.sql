{#- Model-level not-null test for several columns at once: one scan and one dbt node.
    A column-level not_null test is a node per column, and a node costs dbt about
    14 ms of its own Python whatever the table's size (DECISIONLOG.md, Performance).
    Returns one row per column that holds nulls: its name and its number of null rows.
    A single-column key keeps dbt's unique + not_null pair on the column. -#}
{% test not_null_columns(model, column_names) %}
{%- if column_names is string or not column_names -%}
    {{ exceptions.raise_compiler_error(
        "not_null_columns on " ~ model ~ ": column_names must be a non-empty list of "
        ~ "columns, got '" ~ column_names ~ "'"
    ) }}
{%- endif %}

with

null_rows_counted as (
    select
{%- for column in column_names %}
        sum(case when {{ column }} is null then 1 else 0 end)
            as null_rows_{{ loop.index }}{{ ',' if not loop.last }}
{%- endfor %}
    from {{ model }}
),

columns_with_nulls as (
{%- for column in column_names %}
    select
        '{{ column }}' as column_name,
        null_rows_counted.null_rows_{{ loop.index }} as null_rows
    from null_rows_counted
    where null_rows_counted.null_rows_{{ loop.index }} > 0
    {%- if not loop.last %}
    union all
    {%- endif %}
{%- endfor %}
)

select * from columns_with_nulls

{% endtest %}
