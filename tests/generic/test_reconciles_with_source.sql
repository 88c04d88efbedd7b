{#- Fails when rows of a raw table went missing (or were invented) between the
    source and staging: every raw row must be a staged row, a quarantined row, or
    an identical copy of another raw row. Counts straight from the source, not from
    the staging models' own bookkeeping, so a model that drops a row cannot hide it.
    Returns one row with the four numbers when
    raw_rows <> staged_rows + quarantined_rows + removed_duplicate_rows. -#}
{% test reconciles_with_source(model, source_name, table_name, quarantine_model) %}

with

raw_rows as (
    select count(*) as row_count from {{ source(source_name, table_name) }}
),

distinct_raw_rows as (
    select count(*) as row_count
    from (
        select distinct * from {{ source(source_name, table_name) }}
    ) as distinct_rows
),

staged_rows as (
    select count(*) as row_count from {{ model }}
),

quarantined_rows as (
    select count(*) as row_count from {{ quarantine_model }}
),

counted as (
    select
        raw_rows.row_count as raw_rows,
        staged_rows.row_count as staged_rows,
        quarantined_rows.row_count as quarantined_rows,
        raw_rows.row_count - distinct_raw_rows.row_count as removed_duplicate_rows
    from raw_rows
    cross join distinct_raw_rows
    cross join staged_rows
    cross join quarantined_rows
)

select *
from counted
where raw_rows <> staged_rows + quarantined_rows + removed_duplicate_rows

{% endtest %}
