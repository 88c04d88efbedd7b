{#- Fails for every combination of the given columns that occurs on more than one
    row: the model's grain is not unique. Rows with a null in any of the columns are
    compared like any other value (group by puts nulls together). Where the engine
    has a grain_hash, only the rows whose hash repeats (repeated_grain_hashes) are
    grouped by the columns: at M this tested 47M-row tables in about three quarters of
    the time, and sorting the hashes (DuckDB) about halved that again. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
{%- set columns_csv = combination_of_columns | join(', ') -%}
{%- set row_hash = grain_hash(combination_of_columns) -%}

with

{% if row_hash %}
repeated_hashes as (
    {{ repeated_grain_hashes(row_hash, model) }}
),

candidate_rows as (
    select {{ columns_csv }}
    from {{ model }}
    where {{ row_hash }} in (select repeated_hashes.grain_hash from repeated_hashes)
),
{% else %}
candidate_rows as (
    select {{ columns_csv }}
    from {{ model }}
),
{% endif %}

combinations_counted as (
    select
        {{ columns_csv }},
        count(*) as row_count
    from candidate_rows
    group by {{ columns_csv }}
)

select *
from combinations_counted
where row_count > 1

{% endtest %}
