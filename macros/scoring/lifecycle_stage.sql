{#- The lifecycle stage of an account of the given age in days at as_of_date:
    onboarding while age < var onboarding_max_days, adoption while age <
    var adoption_max_days, mature after. -#}
{% macro lifecycle_stage(account_age_days) %}
    case
        when {{ account_age_days }} < {{ var('onboarding_max_days') }} then 'onboarding'
        when {{ account_age_days }} < {{ var('adoption_max_days') }} then 'adoption'
        else 'mature'
    end
{%- endmacro %}


{#- The lifecycle stages lifecycle_stage() returns, from youngest to oldest. -#}
{% macro lifecycle_stages() %}
    {{- return(['onboarding', 'adoption', 'mature']) -}}
{% endmacro %}


{#- A one-column (lifecycle_stage) relation of the stages, as portable SQL. -#}
{% macro lifecycle_stages_relation() %}
    {%- for stage in lifecycle_stages() %}
    select '{{ stage }}' as lifecycle_stage
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
