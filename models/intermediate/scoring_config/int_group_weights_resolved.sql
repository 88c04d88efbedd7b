-- The measure-group weights that apply to each segment x lifecycle stage. Group
-- weights resolve as a set: the most specific (segment, lifecycle_stage) key of
-- group_weights matching the pair (segment + stage, then segment + *, then
-- * + stage, then * + *) supplies the weight of every group; a group that set
-- does not list weighs 0. A pair no key matches has no rows here: its global
-- score is the flat weighted mean over the metrics.

with

group_weights as (
    select * from {{ ref('group_weights') }}
),

plan_segments as (
    select * from {{ ref('plan_segments') }}
),

metric_catalog as (
    select * from {{ ref('int_metric_catalog_prepared') }}
),

segments as (
    select distinct plan_segments.segment
    from plan_segments
),

lifecycle_stages as (
    {{ lifecycle_stages_relation() }}
),

measure_groups as (
    select distinct metric_catalog.measure_group
    from metric_catalog
),

weight_sets as (
    select distinct
        group_weights.segment,
        group_weights.lifecycle_stage,
        case
            when group_weights.segment <> '*' and group_weights.lifecycle_stage <> '*'
                then 1
            when group_weights.segment <> '*' then 2
            when group_weights.lifecycle_stage <> '*' then 3
            else 4
        end as specificity_rank
    from group_weights
),

candidate_sets as (
    select
        segments.segment,
        lifecycle_stages.lifecycle_stage,
        weight_sets.segment as group_weights_segment,
        weight_sets.lifecycle_stage as group_weights_lifecycle_stage,
        row_number() over (
            partition by segments.segment, lifecycle_stages.lifecycle_stage
            order by weight_sets.specificity_rank
        ) as resolution_rank
    from segments
    cross join lifecycle_stages
    inner join weight_sets
        on
            (segments.segment = weight_sets.segment or weight_sets.segment = '*')
            and (
                lifecycle_stages.lifecycle_stage = weight_sets.lifecycle_stage
                or weight_sets.lifecycle_stage = '*'
            )
),

chosen_sets as (
    select * from candidate_sets
    where resolution_rank = 1
),

final as (
    select
        chosen_sets.segment,
        chosen_sets.lifecycle_stage,
        measure_groups.measure_group,
        cast(coalesce(group_weights.weight, 0) as {{ type_double() }}) as group_weight,
        chosen_sets.group_weights_segment,
        chosen_sets.group_weights_lifecycle_stage
    from chosen_sets
    cross join measure_groups
    left join group_weights
        on
            chosen_sets.group_weights_segment = group_weights.segment
            and chosen_sets.group_weights_lifecycle_stage = group_weights.lifecycle_stage
            and measure_groups.measure_group = group_weights.measure_group
)

select * from final
