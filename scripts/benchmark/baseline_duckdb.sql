-- Hand-written baseline: the latest-date health score of every account in scope,
-- straight from the raw files and the seeds, in one DuckDB script. Written apart
-- from the dbt models (same rules, domain.md + README "Scoring"), for clean raw
-- data (no quarantine: the benchmark generates --dirty-fraction 0).
-- Placeholders: __RAW_DIR__ (the six <table>.parquet files), __SEEDS_DIR__.
-- Result columns: account_id, as_of_date, computed_score, health_score, band.

create or replace temp macro seed(name) as table
    select * from read_csv('__SEEDS_DIR__/' || name || '.csv', header = true, all_varchar = true);

create or replace temp table ev as
select
    account_id,
    user_id,
    lower(event_name) as event_name,
    cast(cast(occurred_at as timestamp) as date) as d
from read_parquet('__RAW_DIR__/events.parquet');

create or replace temp table p as
select max(d) as as_of from ev;

-- account x user x day x event: the one pass over the events
create or replace temp table aud as
select account_id, user_id, d, event_name, count(*) as n
from ev
group by all;

create or replace temp table cat as
select
    metric_id,
    coalesce(measure_group, signal_category) as grp,
    measure_type,
    direction,
    cast(window_days as integer) as w,
    normalization,
    missing_data_policy,
    lower(event_name) as event_name,
    aggregation,
    cast(goal_target as double) as goal_target
from seed('metric_catalog');

create or replace temp table acc as
select
    a.account_id,
    cast(a.seats as integer) as seats,
    cast(cast(a.created_at as timestamp) as date) as created_on,
    ps.segment,
    p.as_of - cast(cast(a.created_at as timestamp) as date) as age,
    case
        when p.as_of - cast(cast(a.created_at as timestamp) as date) < 90 then 'onboarding'
        when p.as_of - cast(cast(a.created_at as timestamp) as date) < 180 then 'adoption'
        else 'mature'
    end as stage
from read_parquet('__RAW_DIR__/accounts.parquet') as a
cross join p
left join seed('plan_segments') as ps on a.plan = ps.plan
where
    cast(cast(a.created_at as timestamp) as date) <= p.as_of
    and coalesce(cast(cast(a.churned_at as timestamp) as date) >= p.as_of, true);

-- distinct window lengths: activity per account over [as_of - w + 1, as_of] and
-- the window before it (trend)
create or replace temp table act as
select
    acc.account_id,
    ws.w,
    count(distinct case when aud.d > p.as_of - ws.w then aud.user_id end) as users,
    coalesce(sum(case when aud.d > p.as_of - ws.w then aud.n end), 0) as events,
    coalesce(sum(case when aud.d <= p.as_of - ws.w then aud.n end), 0) as prev_events,
    max(case when aud.d > p.as_of - ws.w then aud.d end) as last_d
from acc
cross join (select distinct w from cat) as ws
cross join p
left join aud
    on acc.account_id = aud.account_id and aud.d > p.as_of - 2 * ws.w and aud.d <= p.as_of
group by all;

create or replace temp table activated as
select f.account_id, count(*) as n
from (select account_id, user_id, min(d) as first_d from aud group by all) as f
cross join p
left join read_parquet('__RAW_DIR__/users.parquet') as u on f.user_id = u.user_id
where
    f.first_d <= p.as_of
    and coalesce(cast(cast(u.deactivated_at as timestamp) as date) > p.as_of, true)
group by all;

create or replace temp table inv as
select
    account_id,
    cast(issued_at as timestamp) as issued_ts,
    cast(cast(issued_at as timestamp) as date) as issued_d,
    cast(cast(due_at as timestamp) as date) as due_d,
    cast(paid_at as timestamp) as paid_ts,
    cast(cast(paid_at as timestamp) as date) as paid_d
from read_parquet('__RAW_DIR__/invoices.parquet')
where status not in ('draft', 'void');

create or replace temp table tk as
select
    account_id,
    cast(opened_at as timestamp) as opened_ts,
    cast(resolved_at as timestamp) as resolved_ts,
    cast(cast(opened_at as timestamp) as date) as opened_d,
    cast(cast(resolved_at as timestamp) as date) as resolved_d,
    cast(csat as double) as csat
from read_parquet('__RAW_DIR__/tickets.parquet');

create or replace temp table rt as
select
    account_id,
    cast(rated_at as timestamp) as rated_ts,
    cast(cast(rated_at as timestamp) as date) as rated_d,
    cast(rating as double) as rating,
    lower(is_override) = 'true' as is_override,
    reason,
    cast(cast(expires_at as timestamp) as date) as expires_d
from read_parquet('__RAW_DIR__/csm_ratings.parquet');

-- raw value of every metric, by kind; w = the metric's window
create or replace temp table raw_values as
with c as (select cat.*, p.as_of from cat cross join p)
select acc.account_id, c.metric_id, cast(act.users as double) as v
from acc cross join c join act on acc.account_id = act.account_id and act.w = c.w
where c.metric_id = 'active_users'
union all
select acc.account_id, c.metric_id, act.events
from acc cross join c join act on acc.account_id = act.account_id and act.w = c.w
where c.metric_id = 'events_per_active_user'
union all
select acc.account_id, c.metric_id, c.as_of - act.last_d
from acc cross join c join act on acc.account_id = act.account_id and act.w = c.w
where c.metric_id = 'days_since_last_activity'
union all
select
    acc.account_id,
    c.metric_id,
    case
        when acc.created_on <= c.as_of - 2 * c.w + 1
            then 100.0 * (act.events - act.prev_events) / nullif(act.prev_events, 0)
    end
from acc cross join c join act on acc.account_id = act.account_id and act.w = c.w
where c.metric_id = 'usage_trend'
union all
select
    acc.account_id,
    c.metric_id,
    100.0 * (coalesce(activated.n, 0) / nullif(acc.seats, 0))
    / nullif(c.goal_target * case when acc.age >= c.w then 1.0 else acc.age / c.w end, 0)
from acc cross join c left join activated on acc.account_id = activated.account_id
where c.metric_id = 'onboarding_goal'
union all
select
    acc.account_id,
    c.metric_id,
    coalesce(case c.aggregation
        when 'count' then x.n
        when 'distinct_users' then x.users
        when 'distinct_active_days' then x.days
    end, 0)
from acc cross join c
left join (
    select aud.account_id, c2.metric_id,
        sum(aud.n) as n, count(distinct aud.user_id) as users, count(distinct aud.d) as days
    from aud join c as c2
        on aud.event_name = c2.event_name and aud.d > c2.as_of - c2.w and aud.d <= c2.as_of
    group by all
) as x on acc.account_id = x.account_id and c.metric_id = x.metric_id
where c.event_name is not null and c.metric_id not in (
    'active_users', 'events_per_active_user', 'days_since_last_activity', 'usage_trend',
    'onboarding_goal', 'overdue_invoices', 'avg_days_to_pay', 'open_tickets_per_user',
    'median_resolution_hours', 'avg_csat', 'days_since_csm_contact', 'csm_rating')
union all
select inv.account_id, c.metric_id,
    sum(case when inv.due_d >= c.as_of or inv.paid_d <= c.as_of then 0 else 1 end)
from inv join c on c.metric_id = 'overdue_invoices'
    and inv.issued_d > c.as_of - c.w and inv.issued_d <= c.as_of
group by all
union all
select inv.account_id, c.metric_id, avg(date_diff('day', inv.issued_ts, inv.paid_ts))
from inv join c on c.metric_id = 'avg_days_to_pay'
    and inv.paid_d > c.as_of - c.w and inv.paid_d <= c.as_of
group by all
union all
select acc.account_id, c.metric_id, count(tk.account_id)
from acc cross join c
left join tk on acc.account_id = tk.account_id
    and tk.opened_d > c.as_of - c.w and tk.opened_d <= c.as_of
    and coalesce(tk.resolved_d > c.as_of, true)
where c.metric_id = 'open_tickets_per_user'
group by all
union all
select tk.account_id, c.metric_id, median(date_diff('second', tk.opened_ts, tk.resolved_ts) / 3600.0)
from tk join c on c.metric_id = 'median_resolution_hours'
    and tk.resolved_d > c.as_of - c.w and tk.resolved_d <= c.as_of
group by all
union all
select tk.account_id, c.metric_id, avg(tk.csat)
from tk join c on c.metric_id = 'avg_csat'
    and tk.resolved_d > c.as_of - c.w and tk.resolved_d <= c.as_of and tk.csat is not null
group by all
union all
select rt.account_id, c.metric_id, min(c.as_of - rt.rated_d)
from rt join c on c.metric_id = 'days_since_csm_contact'
    and rt.rated_d > c.as_of - c.w and rt.rated_d <= c.as_of
group by all
union all
select rt.account_id, c.metric_id, arg_max(rt.rating, rt.rated_ts)
from rt join c on c.metric_id = 'csm_rating'
    and rt.rated_d > c.as_of - c.w and rt.rated_d <= c.as_of and not rt.is_override
group by all;

-- the most specific scorecard row per segment x stage x metric
create or replace temp table card as
with rows_parsed as (
    select
        s.segment,
        s.lifecycle_stage,
        s.metric_id,
        coalesce(lower(s.is_enabled) = 'true', true) as is_enabled,
        coalesce(cast(wl.weight as double), try_cast(s.weight as double)) as weight,
        try_cast(s.worst_value as double) as worst,
        try_cast(s.red_threshold as double) as red,
        try_cast(s.green_threshold as double) as green,
        try_cast(s.best_value as double) as best,
        (s.segment = '*')::int * 2 + (s.lifecycle_stage = '*')::int as specificity
    from seed('scorecard') as s
    left join seed('weight_levels') as wl on lower(trim(s.weight)) = wl.weight_level
),
keys as (
    select distinct acc.segment, acc.stage from acc
)
select keys.segment, keys.stage, r.* exclude (segment, lifecycle_stage, specificity)
from keys
join rows_parsed as r
    on r.segment in (keys.segment, '*') and r.lifecycle_stage in (keys.stage, '*')
qualify row_number() over (
    partition by keys.segment, keys.stage, r.metric_id order by r.specificity
) = 1;

create or replace temp table metric_scores as
with cutoffs as (
    select
        max(case when band = 'yellow' then cast(min_score as double) end) as y,
        max(case when band = 'green' then cast(min_score as double) end) as g
    from seed('score_bands')
),
valued as (
    select
        acc.account_id,
        acc.segment,
        acc.stage,
        cat.grp,
        cat.measure_type,
        cat.missing_data_policy,
        card.weight,
        case when cat.direction = 'lower_is_better' then -1.0 else 1.0 end as sgn,
        card.worst, card.red, card.green, card.best,
        (case
            when cat.measure_type = 'boolean' then (rv.v > 0)::int
            else rv.v
        end) / case cat.normalization
            when 'per_active_user' then nullif(act.users, 0)
            when 'per_seat' then nullif(acc.seats, 0)
            else 1
        end as x
    from acc
    join card on acc.segment = card.segment and acc.stage = card.stage and card.is_enabled
    join cat on card.metric_id = cat.metric_id
    left join raw_values as rv on acc.account_id = rv.account_id and card.metric_id = rv.metric_id
    left join act on acc.account_id = act.account_id and act.w = cat.w
),
oriented as (
    select
        *,
        sgn * x as ox, sgn * worst as ow, sgn * red as orr, sgn * green as og, sgn * best as ob
    from valued
)
select
    account_id,
    segment,
    stage,
    grp,
    weight,
    case
        when x is null and missing_data_policy = 'worst' then 0.0
        when x is null then null
        when measure_type = 'boolean' then case when (x > 0) = (sgn > 0) then 100.0 else 0.0 end
        when ox >= ob then 100.0
        when ox >= og then g + (100 - g) * (ox - og) / nullif(ob - og, 0)
        when ox >= orr then y + (g - y) * (ox - orr) / nullif(og - orr, 0)
        when ox > ow then y * (ox - ow) / nullif(orr - ow, 0)
        else 0.0
    end as score
from oriented cross join cutoffs;

create or replace temp table baseline_scores as
with group_sets as (
    select
        keys.segment,
        keys.stage,
        gw.segment as set_segment,
        gw.lifecycle_stage as set_stage
    from (select distinct segment, stage from acc) as keys
    join (select distinct segment, lifecycle_stage from seed('group_weights')) as gw
        on gw.segment in (keys.segment, '*') and gw.lifecycle_stage in (keys.stage, '*')
    qualify row_number() over (
        partition by keys.segment, keys.stage
        order by (gw.segment = '*')::int * 2 + (gw.lifecycle_stage = '*')::int
    ) = 1
),
groups as (
    select
        account_id,
        segment,
        stage,
        grp,
        sum(case when score is not null and weight > 0 then weight else 0 end) as wt,
        sum(case when score is not null and weight > 0 then weight * score else 0 end)
        / nullif(sum(case when score is not null and weight > 0 then weight else 0 end), 0)
            as gs
    from metric_scores
    group by all
),
weighted as (
    select
        g.account_id,
        g.gs,
        case
            when s.segment is null then g.wt
            else coalesce(cast(gw.weight as double), 0)
        end as gw
    from groups as g
    left join group_sets as s on g.segment = s.segment and g.stage = s.stage
    left join seed('group_weights') as gw
        on s.set_segment = gw.segment and s.set_stage = gw.lifecycle_stage
        and g.grp = gw.measure_group
),
computed as (
    select
        account_id,
        -- 9 decimals, as dbt (var score_decimals): float sums depend on the order of the terms
        round(
            sum(case when gs is not null then gw * gs else 0 end)
            / nullif(sum(case when gs is not null then gw else 0 end), 0),
            9
        ) as computed_score
    from weighted
    group by all
),
overrides as (
    select rt.account_id, arg_max(rt.rating, rt.rated_ts) as rating
    from rt cross join p
    where rt.is_override and rt.rated_d <= p.as_of and coalesce(rt.expires_d > p.as_of, true)
    group by all
),
bands as (
    select
        band,
        cast(min_score as double) as lo,
        lead(cast(min_score as double)) over (order by cast(min_score as double)) as hi
    from seed('score_bands')
),
final as (
    select
        acc.account_id,
        p.as_of as as_of_date,
        computed.computed_score,
        coalesce(overrides.rating, computed.computed_score) as health_score
    from acc
    cross join p
    left join computed on acc.account_id = computed.account_id
    left join overrides on acc.account_id = overrides.account_id
)
select
    final.*,
    coalesce(bands.band, 'unknown') as band
from final
left join bands
    on final.health_score >= bands.lo and (final.health_score < bands.hi or bands.hi is null);
