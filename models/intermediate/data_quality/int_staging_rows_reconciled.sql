{#- One row per raw table: where its rows went. Every distinct raw row is either
    staged or quarantined, and identical copies are counted as removed duplicates, so
    raw_rows = staged_rows + quarantined_rows + removed_duplicate_rows. Built from the
    staging models' own bookkeeping (raw_copies); the reconciles_with_source test
    checks the same sum against the sources directly. -#}
{{ config(materialized='table') }}

with

{% for source_name, table_name in staged_raw_tables() %}
{{ table_name }}_parsed as (
    select * from {{ ref('base_' ~ source_name ~ '__' ~ table_name ~ '_parsed') }}
),

{{ table_name }}_staged as (
    select * from {{ ref('stg_' ~ source_name ~ '__' ~ table_name) }}
),

{{ table_name }}_quarantined as (
    select * from {{ ref('stg_' ~ source_name ~ '__' ~ table_name ~ '_quarantined') }}
),

{% endfor %}
rows_counted as (
    {%- for source_name, table_name in staged_raw_tables() %}
    select
        '{{ source_name }}.{{ table_name }}' as source_table,
        (
            select sum(raw_copies) as raw_rows from {{ table_name }}_parsed
        ) as raw_rows,
        (
            select count(*) as staged_rows from {{ table_name }}_staged
        ) as staged_rows,
        (
            select count(*) as quarantined_rows from {{ table_name }}_quarantined
        ) as quarantined_rows,
        (
            select sum(raw_copies - 1) as removed_duplicate_rows
            from {{ table_name }}_parsed
        ) as removed_duplicate_rows
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        source_table,
        cast(coalesce(raw_rows, 0) as {{ dbt.type_bigint() }}) as raw_rows,
        cast(staged_rows as {{ dbt.type_bigint() }}) as staged_rows,
        cast(quarantined_rows as {{ dbt.type_bigint() }}) as quarantined_rows,
        cast(
            coalesce(removed_duplicate_rows, 0) as {{ dbt.type_bigint() }}
        ) as removed_duplicate_rows,
        (
            coalesce(raw_rows, 0)
            = staged_rows + quarantined_rows + coalesce(removed_duplicate_rows, 0)
        ) as is_reconciled
    from rows_counted
)

select * from final
