{#- Fails for every row whose column lies outside [min_value, max_value] (or the
    open interval when inclusive is false). Either bound may be omitted; nulls pass
    (test them with not_null). -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}

{%- set out_of_range = [] -%}
{%- if min_value is not none -%}
    {%- do out_of_range.append(
        'tested_value ' ~ ('<' if inclusive else '<=') ~ ' ' ~ min_value
    ) -%}
{%- endif -%}
{%- if max_value is not none -%}
    {%- do out_of_range.append(
        'tested_value ' ~ ('>' if inclusive else '>=') ~ ' ' ~ max_value
    ) -%}
{%- endif -%}
{%- if not out_of_range -%}
    {{ exceptions.raise_compiler_error(
        "accepted_range on " ~ model ~ "." ~ column_name ~ " needs min_value or max_value"
    ) }}
{%- endif %}

with

tested as (
    select {{ column_name }} as tested_value
    from {{ model }}
    where {{ column_name }} is not null
)

select *
from tested
where {{ out_of_range | join(' or ') }}

{% endtest %}
