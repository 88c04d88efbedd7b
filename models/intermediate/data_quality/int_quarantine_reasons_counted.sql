{#- Quarantined rows per raw table and reject reason, for the run report. Reads the
    quarantine models of every table in staged_raw_tables(). -#}
{{ config(materialized='table') }}

with

{% for source_name, table_name in staged_raw_tables() %}
{{ table_name }}_quarantined as (
    select * from {{ ref('stg_' ~ source_name ~ '__' ~ table_name ~ '_quarantined') }}
),

{% endfor %}
quarantined_rows_unioned as (
    {%- for source_name, table_name in staged_raw_tables() %}
    select
        '{{ source_name }}.{{ table_name }}' as source_table,
        reject_reason,
        raw_copies
    from {{ table_name }}_quarantined
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        source_table,
        reject_reason,
        count(*) as quarantined_rows,
        cast(sum(raw_copies) as {{ dbt.type_bigint() }}) as quarantined_raw_rows
    from quarantined_rows_unioned
    group by 1, 2
)

select * from final
