{% macro seed_rows_as_text(seed_relation, seed_name) -%}
    {#- A select of one text line per row of a seed: all its columns in order,
        '|'-separated, nulls as empty text, tagged with seed_name. -#}
    {%- set columns = adapter.get_columns_in_relation(seed_relation) if execute else [] -%}
    {%- set parts = ["'" ~ seed_name ~ "'"] -%}
    {%- for column in columns -%}
        {%- do parts.append("'|'") -%}
        {%- do parts.append(
            "coalesce(cast(" ~ adapter.quote(column.name) ~ " as "
            ~ dbt.type_string() ~ "), '')"
        ) -%}
    {%- endfor %}
    select {{ dbt.concat(parts) }} as row_text
    from {{ seed_relation }}
{%- endmacro %}
