{{ config(materialized='table') }}

-- Every problem found in the scoring configuration seeds (and the alert rules),
-- one row each, naming the seed and the row at fault. Nothing is scored while
-- this table has a row: int_scorecard_validated fails the build with all the
-- messages.

{%- set string_type = dbt.type_string() %}
{%- set catalog_enums = {
    'signal_category': ['product', 'financial', 'service', 'relationship', 'human'],
    'measure_type': ['threshold', 'trend', 'goal', 'boolean'],
    'direction': ['higher_is_better', 'lower_is_better'],
    'normalization': ['none', 'per_active_user', 'per_seat'],
    'missing_data_policy': ['exclude', 'worst'],
} %}
{%- set aggregations = ['count', 'distinct_users', 'distinct_active_days'] %}
{%- set band_names = ['red', 'yellow', 'green'] %}
{%- set threshold_columns = ['worst_value', 'red_threshold', 'green_threshold', 'best_value'] %}

with

metric_catalog as (
    select * from {{ ref('int_metric_catalog_prepared') }}
),

scorecard_rows as (
    select * from {{ ref('int_scorecard_rows_parsed') }}
),

scorecard_resolved as (
    select * from {{ ref('int_scorecard_resolved') }}
),

group_weights as (
    select * from {{ ref('group_weights') }}
),

group_weights_resolved as (
    select * from {{ ref('int_group_weights_resolved') }}
),

plan_segments as (
    select * from {{ ref('plan_segments') }}
),

score_bands as (
    select * from {{ ref('score_bands') }}
),

score_grades as (
    select * from {{ ref('score_grades') }}
),

alert_rules as (
    select * from {{ ref('alert_rules') }}
),

accounts as (
    select * from {{ ref('int_accounts_lifecycle_staged') }}
),

segments as (
    select distinct plan_segments.segment
    from plan_segments
    where plan_segments.segment is not null
),

lifecycle_stages as (
    {{ lifecycle_stages_relation() }}
),

measure_groups as (
    select distinct metric_catalog.measure_group
    from metric_catalog
),

expected_bands as (
    {%- for band in band_names %}
    select
        '{{ band }}' as band,
        {{ loop.index }} as band_order
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

segment_stage_pairs as (
    select
        segments.segment,
        lifecycle_stages.lifecycle_stage
    from segments
    cross join lifecycle_stages
),

-- seeds/metric_catalog.csv ----------------------------------------------------

catalog_rows_counted as (
    select
        metric_catalog.metric_id,
        count(*) as row_count
    from metric_catalog
    group by 1
),

catalog_duplicates as (
    select
        'seeds/metric_catalog.csv' as seed_path,
        'row metric_id=' || coalesce(catalog_rows_counted.metric_id, '') as row_reference,
        'duplicate row (' || cast(catalog_rows_counted.row_count as {{ string_type }})
        || ' rows with this metric_id)' as problem
    from catalog_rows_counted
    where catalog_rows_counted.row_count > 1
),

catalog_enum_errors as (
    {%- for column, allowed in catalog_enums.items() %}
    select
        'seeds/metric_catalog.csv' as seed_path,
        'row metric_id=' || coalesce(metric_catalog.metric_id, '') as row_reference,
        '{{ column }} ''' || coalesce(metric_catalog.{{ column }}, '')
        || ''' is not one of {{ allowed | join(", ") }}' as problem
    from metric_catalog
    where
        coalesce(metric_catalog.{{ column }}, '') not in (
            '{{ allowed | join("', '") }}'
        )
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

catalog_rule_errors as (
    select
        'seeds/metric_catalog.csv' as seed_path,
        'row metric_id=' || coalesce(metric_catalog.metric_id, '') as row_reference,
        case
            when metric_catalog.window_days is null or metric_catalog.window_days < 1
                then 'window_days must be a whole number of days, at least 1'
            when metric_catalog.computation is null
                then 'not a built-in metric and no event_name to aggregate'
            when
                metric_catalog.computation = 'event_aggregation'
                and coalesce(metric_catalog.aggregation, '') not in (
                    {%- for aggregation in aggregations %}
                    '{{ aggregation }}'{{ ',' if not loop.last }}
                    {%- endfor %}
                )
                then
                    'aggregation ''' || coalesce(metric_catalog.aggregation, '')
                    || ''' is not one of {{ aggregations | join(", ") }}'
            when
                metric_catalog.measure_type = 'goal'
                and metric_catalog.computation <> 'builtin'
                then 'measure_type goal is only available for built-in goal metrics'
            when
                metric_catalog.measure_type = 'goal'
                and coalesce(metric_catalog.goal_target, 0) <= 0
                then 'a goal metric needs a goal_target above 0'
            when
                metric_catalog.measure_type = 'boolean'
                and metric_catalog.normalization <> 'none'
                then 'a boolean metric takes normalization none'
            when
                metric_catalog.measure_type = 'trend'
                and metric_catalog.normalization <> 'none'
                then 'a trend metric takes normalization none (its value is a % change)'
        end as problem
    from metric_catalog
),

-- seeds/scorecard.csv ---------------------------------------------------------

scorecard_checked as (
    select
        scorecard_rows.*,
        metric_catalog.metric_id as catalog_metric_id,
        metric_catalog.measure_type,
        metric_catalog.direction,
        case when metric_catalog.direction = 'lower_is_better' then -1 else 1 end
            as orientation,
        case when metric_catalog.direction = 'lower_is_better' then ' < ' else ' > ' end
            as out_of_order_operator,
        known_segments.segment as known_segment,
        known_stages.lifecycle_stage as known_lifecycle_stage,
        count(*) over (
            partition by
                scorecard_rows.segment,
                scorecard_rows.lifecycle_stage,
                scorecard_rows.metric_id
        ) as duplicate_count
    from scorecard_rows
    left join metric_catalog
        on scorecard_rows.metric_id = metric_catalog.metric_id
    left join segments as known_segments
        on scorecard_rows.segment = known_segments.segment
    left join lifecycle_stages as known_stages
        on scorecard_rows.lifecycle_stage = known_stages.lifecycle_stage
),

scorecard_row_errors as (
    select
        'seeds/scorecard.csv' as seed_path,
        'row ' || scorecard_checked.row_label as row_reference,
        case
            when scorecard_checked.duplicate_count > 1
                then
                    'duplicate row ('
                    || cast(scorecard_checked.duplicate_count as {{ string_type }})
                    || ' rows with this segment, lifecycle_stage and metric_id)'
            when scorecard_checked.catalog_metric_id is null
                then 'unknown metric_id (not in seeds/metric_catalog.csv)'
            when
                coalesce(scorecard_checked.segment, '') <> '*'
                and scorecard_checked.known_segment is null
                then 'unknown segment (not a segment of seeds/plan_segments.csv, nor *)'
            when
                coalesce(scorecard_checked.lifecycle_stage, '') <> '*'
                and scorecard_checked.known_lifecycle_stage is null
                then
                    'unknown lifecycle_stage (not one of {{ lifecycle_stages() | join(", ") }}, '
                    || 'nor *)'
            when scorecard_checked.is_enabled and scorecard_checked.weight_text is null
                then 'weight is empty'
            when scorecard_checked.weight_text is not null and scorecard_checked.weight is null
                then
                    'weight ''' || scorecard_checked.weight_text
                    || ''' is neither a number nor a level of seeds/weight_levels.csv'
            when scorecard_checked.weight < 0
                then 'negative weight ' || scorecard_checked.weight_text
            {%- for column in threshold_columns %}
            when
                scorecard_checked.{{ column }}_text is not null
                and scorecard_checked.{{ column }} is null
                then
                    '{{ column }} ''' || scorecard_checked.{{ column }}_text
                    || ''' is not a number'
            {%- endfor %}
            when
                scorecard_checked.is_enabled
                and scorecard_checked.measure_type <> 'boolean'
                and (
                    {%- for column in threshold_columns %}
                    scorecard_checked.{{ column }} is null{{ ' or' if not loop.last }}
                    {%- endfor %}
                )
                then
                    'worst_value, red_threshold, green_threshold and best_value are required '
                    || 'for a ' || scorecard_checked.measure_type || ' metric'
            when
                scorecard_checked.orientation * scorecard_checked.worst_value
                > scorecard_checked.orientation * scorecard_checked.red_threshold
                then
                    'thresholds out of order for ' || scorecard_checked.direction
                    || ' (worst ' || scorecard_checked.worst_value_text
                    || scorecard_checked.out_of_order_operator
                    || 'red ' || scorecard_checked.red_threshold_text || ')'
            when
                scorecard_checked.orientation * scorecard_checked.red_threshold
                > scorecard_checked.orientation * scorecard_checked.green_threshold
                then
                    'thresholds out of order for ' || scorecard_checked.direction
                    || ' (red ' || scorecard_checked.red_threshold_text
                    || scorecard_checked.out_of_order_operator
                    || 'green ' || scorecard_checked.green_threshold_text || ')'
            when
                scorecard_checked.orientation * scorecard_checked.green_threshold
                > scorecard_checked.orientation * scorecard_checked.best_value
                then
                    'thresholds out of order for ' || scorecard_checked.direction
                    || ' (green ' || scorecard_checked.green_threshold_text
                    || scorecard_checked.out_of_order_operator
                    || 'best ' || scorecard_checked.best_value_text || ')'
        end as problem
    from scorecard_checked
),

scorecard_weights_per_pair as (
    select
        segment_stage_pairs.segment,
        segment_stage_pairs.lifecycle_stage,
        sum(
            case
                when scorecard_resolved.is_enabled and scorecard_resolved.weight > 0 then 1
                else 0
            end
        ) as weighted_metric_count
    from segment_stage_pairs
    left join scorecard_resolved
        on
            segment_stage_pairs.segment = scorecard_resolved.segment
            and segment_stage_pairs.lifecycle_stage = scorecard_resolved.lifecycle_stage
    group by 1, 2
),

scorecard_zero_weight_errors as (
    select
        'seeds/scorecard.csv' as seed_path,
        'rows for segment=' || scorecard_weights_per_pair.segment
        || ', lifecycle_stage=' || scorecard_weights_per_pair.lifecycle_stage
            as row_reference,
        'all weights are zero (no enabled metric weighs more than 0): '
        || 'nothing would be scored' as problem
    from scorecard_weights_per_pair
    where scorecard_weights_per_pair.weighted_metric_count = 0
),

-- seeds/group_weights.csv -----------------------------------------------------

group_weight_rows as (
    select
        group_weights.*,
        'row segment=' || coalesce(group_weights.segment, '')
        || ', lifecycle_stage=' || coalesce(group_weights.lifecycle_stage, '')
        || ', measure_group=' || coalesce(group_weights.measure_group, '') as row_reference,
        known_segments.segment as known_segment,
        known_stages.lifecycle_stage as known_lifecycle_stage,
        known_groups.measure_group as known_measure_group,
        count(*) over (
            partition by
                group_weights.segment,
                group_weights.lifecycle_stage,
                group_weights.measure_group
        ) as duplicate_count
    from group_weights
    left join segments as known_segments
        on group_weights.segment = known_segments.segment
    left join lifecycle_stages as known_stages
        on group_weights.lifecycle_stage = known_stages.lifecycle_stage
    left join measure_groups as known_groups
        on group_weights.measure_group = known_groups.measure_group
),

group_weight_row_errors as (
    select
        'seeds/group_weights.csv' as seed_path,
        group_weight_rows.row_reference,
        case
            when group_weight_rows.duplicate_count > 1
                then
                    'duplicate row ('
                    || cast(group_weight_rows.duplicate_count as {{ string_type }})
                    || ' rows with this segment, lifecycle_stage and measure_group)'
            when
                coalesce(group_weight_rows.segment, '') <> '*'
                and group_weight_rows.known_segment is null
                then 'unknown segment (not a segment of seeds/plan_segments.csv, nor *)'
            when
                coalesce(group_weight_rows.lifecycle_stage, '') <> '*'
                and group_weight_rows.known_lifecycle_stage is null
                then
                    'unknown lifecycle_stage (not one of {{ lifecycle_stages() | join(", ") }}, '
                    || 'nor *)'
            when group_weight_rows.known_measure_group is null
                then 'unknown measure_group (no metric of seeds/metric_catalog.csv is in it)'
            when group_weight_rows.weight is null
                then 'weight is empty'
            when group_weight_rows.weight < 0
                then 'negative weight ' || cast(group_weight_rows.weight as {{ string_type }})
        end as problem
    from group_weight_rows
),

weighted_groups as (
    select distinct
        scorecard_resolved.segment,
        scorecard_resolved.lifecycle_stage,
        metric_catalog.measure_group
    from scorecard_resolved
    inner join metric_catalog
        on scorecard_resolved.metric_id = metric_catalog.metric_id
    where scorecard_resolved.is_enabled and scorecard_resolved.weight > 0
),

group_weights_per_pair as (
    select
        group_weights_resolved.segment,
        group_weights_resolved.lifecycle_stage,
        group_weights_resolved.group_weights_segment,
        group_weights_resolved.group_weights_lifecycle_stage,
        sum(
            case
                when
                    group_weights_resolved.group_weight > 0
                    and weighted_groups.measure_group is not null
                    then 1
                else 0
            end
        ) as weighted_group_count
    from group_weights_resolved
    left join weighted_groups
        on
            group_weights_resolved.segment = weighted_groups.segment
            and group_weights_resolved.lifecycle_stage = weighted_groups.lifecycle_stage
            and group_weights_resolved.measure_group = weighted_groups.measure_group
    group by 1, 2, 3, 4
),

group_weight_zero_errors as (
    select
        'seeds/group_weights.csv' as seed_path,
        'rows for segment=' || group_weights_per_pair.group_weights_segment
        || ', lifecycle_stage=' || group_weights_per_pair.group_weights_lifecycle_stage
            as row_reference,
        'all weights are zero for the groups with weighted metrics of segment='
        || group_weights_per_pair.segment
        || ', lifecycle_stage=' || group_weights_per_pair.lifecycle_stage
        || ': nothing would be scored' as problem
    from group_weights_per_pair
    where group_weights_per_pair.weighted_group_count = 0
),

-- seeds/plan_segments.csv -----------------------------------------------------

plan_rows_counted as (
    select
        plan_segments.plan,
        count(*) as row_count,
        count(plan_segments.segment) as segment_count
    from plan_segments
    group by 1
),

plan_segment_errors as (
    select
        'seeds/plan_segments.csv' as seed_path,
        'row plan=' || coalesce(plan_rows_counted.plan, '') as row_reference,
        case
            when plan_rows_counted.row_count > 1
                then
                    'duplicate row (' || cast(plan_rows_counted.row_count as {{ string_type }})
                    || ' rows with this plan)'
            when plan_rows_counted.segment_count = 0
                then 'segment is empty'
        end as problem
    from plan_rows_counted
),

unmapped_plans as (
    select
        coalesce(accounts.plan, '') as plan,
        count(*) as account_count,
        min(accounts.account_id) as first_account_id
    from accounts
    left join plan_segments
        on accounts.plan = plan_segments.plan
    where accounts.is_in_scope and plan_segments.plan is null
    group by 1
),

unmapped_plan_errors as (
    select
        'seeds/plan_segments.csv' as seed_path,
        'missing row plan=' || unmapped_plans.plan as row_reference,
        'the plan of ' || cast(unmapped_plans.account_count as {{ string_type }})
        || ' account(s) to score, e.g. account_id=' || unmapped_plans.first_account_id
        || ', has no segment' as problem
    from unmapped_plans
),

-- seeds/score_bands.csv and seeds/score_grades.csv ----------------------------

bands_ordered as (
    select
        score_bands.band,
        score_bands.min_score,
        expected_bands.band_order,
        count(*) over (partition by score_bands.band) as duplicate_count
    from score_bands
    left join expected_bands
        on score_bands.band = expected_bands.band
),

bands_compared as (
    select
        bands_ordered.*,
        lag(bands_ordered.band) over (order by bands_ordered.band_order) as previous_band,
        lag(bands_ordered.min_score) over (order by bands_ordered.band_order)
            as previous_min_score
    from bands_ordered
    where bands_ordered.band_order is not null
),

band_errors as (
    select
        'seeds/score_bands.csv' as seed_path,
        'row band=' || coalesce(bands_ordered.band, '') as row_reference,
        case
            when bands_ordered.band_order is null
                then 'unknown band (expected {{ band_names | join(", ") }})'
            when bands_ordered.duplicate_count > 1
                then 'duplicate row'
            when bands_ordered.min_score is null
                then 'min_score is empty'
            when bands_ordered.min_score < 0 or bands_ordered.min_score > 100
                then
                    'min_score ' || cast(bands_ordered.min_score as {{ string_type }})
                    || ' is outside [0, 100]'
            when bands_ordered.band_order = 1 and bands_ordered.min_score <> 0
                then 'the lowest band must start at min_score 0'
        end as problem
    from bands_ordered
    union all
    select
        'seeds/score_bands.csv' as seed_path,
        'row band=' || bands_compared.band as row_reference,
        'cutoffs not increasing (min_score '
        || cast(bands_compared.min_score as {{ string_type }})
        || ' is not above min_score '
        || cast(bands_compared.previous_min_score as {{ string_type }})
        || ' of band=' || bands_compared.previous_band || ')' as problem
    from bands_compared
    where bands_compared.min_score <= bands_compared.previous_min_score
    union all
    select
        'seeds/score_bands.csv' as seed_path,
        'missing row band=' || expected_bands.band as row_reference,
        'every band of {{ band_names | join(", ") }} needs a row' as problem
    from expected_bands
    left join score_bands
        on expected_bands.band = score_bands.band
    where score_bands.band is null
),

grades_compared as (
    select
        score_grades.grade,
        score_grades.grade_rank,
        score_grades.min_score,
        lag(score_grades.grade) over (order by score_grades.grade_rank) as previous_grade,
        lag(score_grades.min_score) over (order by score_grades.grade_rank)
            as previous_min_score,
        row_number() over (order by score_grades.grade_rank) as rank_position,
        count(*) over (partition by score_grades.grade) as grade_count,
        count(*) over (partition by score_grades.grade_rank) as rank_count
    from score_grades
),

grade_errors as (
    select
        'seeds/score_grades.csv' as seed_path,
        'row grade=' || coalesce(grades_compared.grade, '') as row_reference,
        case
            when grades_compared.grade_count > 1
                then
                    'duplicate row (' || cast(grades_compared.grade_count as {{ string_type }})
                    || ' rows with this grade)'
            when grades_compared.grade_rank is null
                then 'grade_rank is empty'
            when grades_compared.rank_count > 1
                then
                    'grade_rank ' || cast(grades_compared.grade_rank as {{ string_type }})
                    || ' is used by ' || cast(grades_compared.rank_count as {{ string_type }})
                    || ' grades'
            when grades_compared.min_score is null
                then 'min_score is empty'
            when grades_compared.min_score < 0 or grades_compared.min_score > 100
                then
                    'min_score ' || cast(grades_compared.min_score as {{ string_type }})
                    || ' is outside [0, 100]'
            when grades_compared.rank_position = 1 and grades_compared.min_score <> 0
                then 'the lowest grade must start at min_score 0'
            when grades_compared.min_score <= grades_compared.previous_min_score
                then
                    'cutoffs not increasing (min_score '
                    || cast(grades_compared.min_score as {{ string_type }})
                    || ' is not above min_score '
                    || cast(grades_compared.previous_min_score as {{ string_type }})
                    || ' of grade=' || grades_compared.previous_grade || ')'
        end as problem
    from grades_compared
),

-- seeds/alert_rules.csv -------------------------------------------------------

-- an enabled rule without the parameters its type reads would never fire, silently;
-- <c> stands for the parameter's column
{%- set alert_rule_parameters = [
    ('score_below_threshold', 'threshold_score', '<c> > 0 and <c> <= 100',
        'a threshold_score above 0 and at most 100'),
    ('score_dropped', 'drop_points', '<c> > 0', 'drop_points above 0'),
    ('score_dropped', 'within_days', '<c> >= 1', 'within_days of at least 1'),
    ('key_metric_red', 'min_weight', '<c> >= 0', 'a min_weight of 0 or more'),
    ('consecutive_declines', 'periods', '<c> >= 1', 'periods of at least 1'),
] %}
alert_rule_errors as (
    select
        'seeds/alert_rules.csv' as seed_path,
        'row rule_id=' || coalesce(alert_rules.rule_id, '') as row_reference,
        case
            {%- for alert_type, column, valid, needed in alert_rule_parameters %}
            when
                alert_rules.alert_type = '{{ alert_type }}'
                and not coalesce({{ valid | replace('<c>', 'alert_rules.' ~ column) }}, false)
                then
                    '{{ alert_type }} needs {{ needed }} (found '
                    || coalesce(cast(alert_rules.{{ column }} as {{ string_type }}), 'empty')
                    || ')'
            {%- endfor %}
        end as problem
    from alert_rules
    where alert_rules.is_enabled
),

-- All -------------------------------------------------------------------------

{%- set error_ctes = [
    'catalog_duplicates', 'catalog_enum_errors', 'catalog_rule_errors',
    'scorecard_row_errors', 'scorecard_zero_weight_errors', 'group_weight_row_errors',
    'group_weight_zero_errors', 'plan_segment_errors', 'unmapped_plan_errors',
    'band_errors', 'grade_errors', 'alert_rule_errors',
] %}

all_errors as (
    {%- for error_cte in error_ctes %}
    select
        {{ error_cte }}.seed_path,
        {{ error_cte }}.row_reference,
        {{ error_cte }}.problem
    from {{ error_cte }}
    where {{ error_cte }}.problem is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        all_errors.seed_path,
        all_errors.row_reference,
        all_errors.problem,
        all_errors.seed_path || ': ' || all_errors.row_reference || ': ' || all_errors.problem
            as error_message
    from all_errors
)

select * from final
