{#- Fails for every combination of the given columns that occurs on more than one
    row: the model's grain is not unique. Rows with a null in any of the columns are
    compared like any other value (group by puts nulls together). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

with

combinations_counted as (
    select
        {{ combination_of_columns | join(', ') }},
        count(*) as row_count
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
)

select *
from combinations_counted
where row_count > 1

{% endtest %}
