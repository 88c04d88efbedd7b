-- Hand-written baseline, history: the health score of every account in scope at
-- every score date of the history, straight from the raw files and the seeds, in
-- DuckDB SQL. The same rules as baseline_duckdb.sql (one date), applied to every
-- day from the history start (__HISTORY_DAYS__ days before the latest event
-- date, and __HISTORY_WARMUP_DAYS__ days or more after the first event date) to
-- the latest event date; clean raw
-- data only (no quarantine: the benchmark generates --dirty-fraction 0).
--
-- How: no score date is joined to a window. Every trailing-window count is a
-- running sum of changes (+ when a day enters the window, - when it leaves it):
--   * product activity, per account x activity series (any event '*', or the
--     event of an event-aggregation metric) x window length: events, active
--     days, distinct users (a user-day covers [day, min(next active day of the
--     user, day + window)), so a user counts once), the events of the window
--     before (trends) and the last active day; the counts are summed at each
--     change day, then read for every account x score date with an ASOF join;
--   * invoices, tickets, CSM ratings and activated users, per account: one
--     timeline of their changes and the score dates, running sums (an overdue
--     invoice counts from the day after its due date until it is paid or leaves
--     the window), a range-window median (resolution hours), the latest rating
--     and contact.
-- The scorecard row is resolved once per segment x lifecycle stage (a card
-- set); an account's stage, hence its card set, changes with its age.
--
-- Two parts, split at the "@@ per account bucket" line: the first loads and
-- prepares everything small or account-independent once; the second scores the
-- accounts with keys __FIRST_ACCOUNT__ to __LAST_ACCOUNT__ (acc.a) and appends
-- them to baseline_history. The runner (baseline_duckdb_history.py) runs it
-- for consecutive buckets of accounts, so that memory stays bounded at scale L;
-- one bucket of all accounts gives the same rows.
-- Placeholders: __RAW_DIR__, __SEEDS_DIR__, __HISTORY_DAYS__, __HISTORY_WARMUP_DAYS__,
-- __FIRST_ACCOUNT__,
-- __LAST_ACCOUNT__.
-- Result (baseline_history): account_id, score_date, segment, lifecycle_stage,
-- computed_score, health_score, band.

create or replace temp macro seed(name) as table
    select * from read_csv('__SEEDS_DIR__/' || name || '.csv', header = true, all_varchar = true);

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

-- the window of a metric computed per account below (one row per metric_id)
create or replace temp macro win(m) as (select cat.w from cat where cat.metric_id = m);

-- accounts, with a small integer key for the large tables
create or replace temp table acc as
select
    cast(row_number() over (order by a.account_id) as integer) as a,
    a.account_id,
    cast(a.seats as integer) as seats,
    cast(cast(a.created_at as timestamp) as date) as created_on,
    cast(cast(a.churned_at as timestamp) as date) as churned_on,
    ps.segment
from read_parquet('__RAW_DIR__/accounts.parquet') as a
left join seed('plan_segments') as ps on a.plan = ps.plan;

-- account x user x day x event: the one pass over the events (sorted by account,
-- so that a bucket reads only its own blocks)
create or replace temp table aud as
select
    acc.a,
    e.user_id,
    cast(cast(e.occurred_at as timestamp) as date) as d,
    lower(e.event_name) as event_name,
    count(*) as n
from read_parquet('__RAW_DIR__/events.parquet') as e
left join acc on e.account_id = acc.account_id
group by all
order by acc.a;

create or replace temp table p as
select
    max(d) as as_of,
    least(max(d), greatest(max(d) - __HISTORY_DAYS__, min(d) + __HISTORY_WARMUP_DAYS__))
        as first_day
from aud;

-- card sets: every segment x lifecycle stage; each one resolves its scorecard rows
-- (card_metrics) and group weights (group_sets) once
create or replace temp table card_sets as
select
    cast(row_number() over (order by segment, stage) as integer) as cs,
    segment,
    stage
from (select distinct segment from acc where segment is not null)
cross join (values ('onboarding'), ('adoption'), ('mature')) as stages(stage);

-- the activity series the metrics read: any event ('*') over the windows of the
-- activity metrics and of per-active-user normalization, and each event of an
-- event-aggregation metric over its window
create or replace temp table ser as
with wanted as (
    select '*' as event_name, w, measure_type = 'trend' as with_prev
    from cat
    where
        metric_id in (
            'active_users', 'events_per_active_user', 'days_since_last_activity',
            'usage_trend'
        )
        or normalization = 'per_active_user'
    union all
    select event_name, w, false
    from cat
    where event_name is not null and metric_id not in (
        'active_users', 'events_per_active_user', 'days_since_last_activity', 'usage_trend',
        'onboarding_goal', 'overdue_invoices', 'avg_days_to_pay', 'open_tickets_per_user',
        'median_resolution_hours', 'avg_csat', 'days_since_csm_contact', 'csm_rating')
),
numbered as (
    select
        cast(row_number() over (order by event_name, w) as integer) as k,
        event_name,
        w,
        with_prev
    from (select event_name, w, bool_or(with_prev) as with_prev from wanted group by all)
)
-- k_norm: the any-event series of the same window (active users, the normalizer)
select numbered.*, star.k as k_norm
from numbered
left join numbered as star on star.event_name = '*' and numbered.w = star.w;

-- the most specific enabled scorecard row per card set x metric, with the
-- metric's catalog settings and the series (k) a product metric reads
create or replace temp table card_metrics as
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
resolved as (
    select card_sets.cs, r.* exclude (segment, lifecycle_stage, specificity)
    from card_sets
    join rows_parsed as r
        on r.segment in (card_sets.segment, '*') and r.lifecycle_stage in (card_sets.stage, '*')
    qualify row_number() over (
        partition by card_sets.cs, r.metric_id order by r.specificity
    ) = 1
),
cutoffs as (
    select
        max(case when band = 'yellow' then cast(min_score as double) end) as y,
        max(case when band = 'green' then cast(min_score as double) end) as g
    from seed('score_bands')
)
select
    resolved.cs,
    resolved.metric_id,
    resolved.weight,
    cat.grp,
    cat.measure_type,
    cat.normalization,
    cat.missing_data_policy,
    cat.aggregation,
    cat.goal_target,
    cat.w,
    ser.k,
    -- thresholds oriented so that higher is better
    case when cat.direction = 'lower_is_better' then -1.0 else 1.0 end as sgn,
    sgn * resolved.worst as ow,
    sgn * resolved.red as orr,
    sgn * resolved.green as og,
    sgn * resolved.best as ob,
    cutoffs.y,
    cutoffs.g
from resolved
join cat on resolved.metric_id = cat.metric_id
left join ser
    on cat.w = ser.w
    and (
        (ser.event_name = '*' and cat.metric_id in (
            'active_users', 'events_per_active_user', 'days_since_last_activity',
            'usage_trend'
        ))
        or (ser.event_name <> '*' and ser.event_name = cat.event_name)
    )
cross join cutoffs
where resolved.is_enabled;

-- Invoices, tickets, CSM ratings, activated users: their changes per account, by day
create or replace temp table inv as
select
    acc.a,
    date_diff('day', cast(i.issued_at as timestamp), cast(i.paid_at as timestamp)) as days_to_pay,
    cast(cast(i.issued_at as timestamp) as date) as issued_d,
    cast(cast(i.due_at as timestamp) as date) as due_d,
    cast(cast(i.paid_at as timestamp) as date) as paid_d
from read_parquet('__RAW_DIR__/invoices.parquet') as i
join acc on i.account_id = acc.account_id
where i.status not in ('draft', 'void');

create or replace temp table tk as
select
    acc.a,
    date_diff('second', cast(tk.opened_at as timestamp), cast(tk.resolved_at as timestamp))
    / 3600.0 as hours,
    cast(cast(tk.opened_at as timestamp) as date) as opened_d,
    cast(cast(tk.resolved_at as timestamp) as date) as resolved_d,
    cast(tk.csat as double) as csat
from read_parquet('__RAW_DIR__/tickets.parquet') as tk
join acc on tk.account_id = acc.account_id;

create or replace temp table rt as
select
    acc.a,
    cast(r.rated_at as timestamp) as rated_ts,
    cast(cast(r.rated_at as timestamp) as date) as rated_d,
    cast(r.rating as double) as rating,
    lower(r.is_override) = 'true' as is_override,
    cast(cast(r.expires_at as timestamp) as date) as expires_d
from read_parquet('__RAW_DIR__/csm_ratings.parquet') as r
join acc on r.account_id = acc.account_id;

-- users deactivated (a user is activated from its first active day until then)
create or replace temp table deactivated as
select user_id, cast(cast(deactivated_at as timestamp) as date) as deactivated_d
from read_parquet('__RAW_DIR__/users.parquet')
where deactivated_at is not null;

create or replace temp table account_moves as
with activated_spans as (
    -- a user is activated from its first active day until it is deactivated
    select
        f.a,
        f.first_d,
        u.deactivated_d
    from (select a, user_id, min(d) as first_d from aud where a is not null group by all) as f
    left join deactivated as u on f.user_id = u.user_id
),
moves as (
    -- invoices issued in the window (overdue_invoices is missing when none was)
    select a, issued_d as day, 1 as inv_issued, 0 as inv_overdue,
        0 as paid_n, 0 as paid_days, 0 as open_tickets, 0 as csat_n, 0.0 as csat_sum,
        0 as activated, null::double as hours, null::date as contact_d,
        null::timestamp as rating_ts, null::double as rating
    from inv
    union all
    select a, issued_d + win('overdue_invoices'), -1, 0, 0, 0, 0, 0, 0.0, 0, null, null, null, null
    from inv
    -- issued in the window and past due, unpaid: from the day after the due date
    -- (or the issue) to the day before the payment (or the window's end)
    union all
    select a, greatest(issued_d, due_d + 1), 0, 1, 0, 0, 0, 0, 0.0, 0, null, null, null, null
    from inv
    where greatest(issued_d, due_d + 1) < least(issued_d + win('overdue_invoices'), paid_d)
    union all
    select a, least(issued_d + win('overdue_invoices'), paid_d), 0, -1, 0, 0, 0, 0, 0.0, 0,
        null, null, null, null
    from inv
    where greatest(issued_d, due_d + 1) < least(issued_d + win('overdue_invoices'), paid_d)
    -- invoices paid in the window
    union all
    select a, paid_d, 0, 0, 1, days_to_pay, 0, 0, 0.0, 0, null, null, null, null
    from inv
    where paid_d is not null
    union all
    select a, paid_d + win('avg_days_to_pay'), 0, 0, -1, -days_to_pay, 0, 0, 0.0, 0,
        null, null, null, null
    from inv
    where paid_d is not null
    -- tickets opened in the window and still open
    union all
    select a, opened_d, 0, 0, 0, 0, 1, 0, 0.0, 0, null, null, null, null
    from tk
    where opened_d < least(opened_d + win('open_tickets_per_user'), resolved_d)
    union all
    select a, least(opened_d + win('open_tickets_per_user'), resolved_d),
        0, 0, 0, 0, -1, 0, 0.0, 0, null, null, null, null
    from tk
    where opened_d < least(opened_d + win('open_tickets_per_user'), resolved_d)
    -- tickets resolved: CSAT in the window; resolution hours (a range window below)
    union all
    select a, resolved_d, 0, 0, 0, 0, 0, 1, csat, 0, null, null, null, null
    from tk
    where csat is not null and resolved_d is not null
    union all
    select a, resolved_d + win('avg_csat'), 0, 0, 0, 0, 0, -1, -csat, 0, null, null, null, null
    from tk
    where csat is not null and resolved_d is not null
    union all
    select a, resolved_d, 0, 0, 0, 0, 0, 0, 0.0, 0, hours, null, null, null
    from tk
    where resolved_d is not null
    -- CSM ratings: every rating is a contact; the latest rating leaves overrides aside
    union all
    select a, rated_d, 0, 0, 0, 0, 0, 0, 0.0, 0, null, rated_d,
        case when not is_override then rated_ts end,
        case when not is_override then rating end
    from rt
    -- activated users
    union all
    select a, first_d, 0, 0, 0, 0, 0, 0, 0.0, 1, null, null, null, null
    from activated_spans
    where coalesce(deactivated_d > first_d, true)
    union all
    select a, deactivated_d, 0, 0, 0, 0, 0, 0, 0.0, -1, null, null, null, null
    from activated_spans
    where deactivated_d > first_d
)
select * from moves
order by a;

-- the override in force: the latest one given by the date and not expired by then
create or replace temp table overrides as
select o.a, o.t, arg_max(o.rating, o.rated_ts) as rating
from (
    select
        rt.a,
        rt.rating,
        rt.rated_ts,
        cast(unnest(generate_series(
            greatest(rt.rated_d, p.first_day),
            least(coalesce(rt.expires_d - 1, p.as_of), p.as_of),
            interval 1 day
        )) as date) as t
    from rt
    cross join p
    where rt.is_override
) as o
group by all;

-- group weights: the most specific set (segment x stage) per card set, if any
create or replace temp table group_weights as
select * from seed('group_weights');

create or replace temp table group_sets as
select
    card_sets.cs,
    gw.segment as set_segment,
    gw.lifecycle_stage as set_stage
from card_sets
join (select distinct segment, lifecycle_stage from group_weights) as gw
    on gw.segment in (card_sets.segment, '*') and gw.lifecycle_stage in (card_sets.stage, '*')
qualify row_number() over (
    partition by card_sets.cs
    order by (gw.segment = '*')::int * 2 + (gw.lifecycle_stage = '*')::int
) = 1;

create or replace temp table bands as
select
    band,
    cast(min_score as double) as lo,
    lead(cast(min_score as double)) over (order by cast(min_score as double)) as hi
from seed('score_bands');

create or replace temp table baseline_history (
    account_id varchar,
    score_date date,
    segment varchar,
    lifecycle_stage varchar,
    computed_score double,
    health_score double,
    band varchar
);

-- @@ per account bucket

-- every account x score date in scope (created by then, not churned before),
-- with its age, lifecycle stage and card set on that date
create or replace temp table grid as
with days as (
    select
        acc.a,
        acc.segment,
        acc.seats,
        acc.created_on,
        cast(unnest(generate_series(
            greatest(p.first_day, acc.created_on),
            least(p.as_of, coalesce(acc.churned_on, p.as_of)),
            interval 1 day
        )) as date) as t
    from acc
    cross join p
    where acc.a between __FIRST_ACCOUNT__ and __LAST_ACCOUNT__
),
staged as (
    select
        days.*,
        days.t - days.created_on as age,
        case
            when days.t - days.created_on < 90 then 'onboarding'
            when days.t - days.created_on < 180 then 'adoption'
            else 'mature'
        end as stage
    from days
)
select staged.*, card_sets.cs
from staged
left join card_sets on staged.segment = card_sets.segment and staged.stage = card_sets.stage;

-- user-days per activity key, with the user's next active day
create or replace temp table ud as
with keyed as (
    select a, '*' as event_name, user_id, d, sum(n) as n
    from aud
    where a between __FIRST_ACCOUNT__ and __LAST_ACCOUNT__
    group by all
    union all
    select a, event_name, user_id, d, n
    from aud
    where
        a between __FIRST_ACCOUNT__ and __LAST_ACCOUNT__
        and event_name in (select event_name from ser where event_name <> '*')
)
select *, lead(d) over (partition by a, event_name, user_id order by d) as next_d
from keyed;

-- the changes of each series' counts, by day
create or replace temp table series_changes as
with spans as (
    select
        ud.a,
        ser.k,
        ser.w,
        ser.with_prev,
        ud.d,
        ud.n,
        least(ud.next_d, ud.d + ser.w) as user_exit
    from ud
    join ser on ud.event_name = ser.event_name
),
days as (
    select a, k, w, with_prev, d, sum(n) as n, count(*) as users
    from spans
    group by all
),
moves as (
    -- a day enters the window: its events, its users, one active day
    select a, k, d as day, n as dn, users as du, 1 as dd, 0 as dp, d as last_d
    from days
    union all
    -- it leaves the window (and enters the window before it, for trends)
    select a, k, d + w, -n, 0, -1, case when with_prev then n else 0 end, null
    from days
    union all
    select a, k, d + 2 * w, 0, 0, 0, -n, null
    from days
    where with_prev
    union all
    -- a user leaves the window (or is counted again from its next active day)
    select a, k, user_exit, 0, -count(*), 0, 0, null
    from spans
    group by all
)
select
    moves.a,
    moves.k,
    moves.day,
    sum(moves.dn) as dn,
    sum(moves.du) as du,
    sum(moves.dd) as dd,
    sum(moves.dp) as dp,
    max(moves.last_d) as last_d
from moves
cross join p
where moves.day <= p.as_of
group by all;

-- the counts after each change day
create or replace temp table series_running as
select
    a,
    k,
    day,
    sum(dn) over running as events,
    sum(du) over running as users,
    sum(dd) over running as active_days,
    sum(dp) over running as prev_events,
    max(last_d) over running as last_d
from series_changes
window running as (partition by a, k order by day rows between unbounded preceding and current row);

-- every series at every account x score date, with the active users over its
-- window (the per-active-user normalizer)
create or replace temp table sv as
select
    g.a,
    g.t,
    g.cs,
    g.seats,
    g.created_on,
    ser.k,
    ser.w,
    coalesce(r.events, 0) as events,
    coalesce(r.users, 0) as users,
    coalesce(r.active_days, 0) as active_days,
    coalesce(r.prev_events, 0) as prev_events,
    case when r.last_d > g.t - ser.w then r.last_d end as last_d,
    coalesce(n.users, 0) as norm_users
from grid as g
cross join ser
asof left join series_running as r on g.a = r.a and ser.k = r.k and g.t >= r.day
asof left join series_running as n on g.a = n.a and ser.k_norm = n.k and g.t >= n.day
where g.cs is not null;

-- invoices, tickets, ratings, activated users at every account x score date
create or replace temp table account_values as
with timeline as (
    select *, false as is_score_date
    from account_moves
    where a between __FIRST_ACCOUNT__ and __LAST_ACCOUNT__
    union all by name
    select a, t as day, true as is_score_date from grid
),
running as (
    select
        timeline.a,
        timeline.day,
        timeline.is_score_date,
        sum(inv_issued) over upto as inv_issued,
        sum(inv_overdue) over upto as inv_overdue,
        sum(paid_n) over upto as paid_n,
        sum(paid_days) over upto as paid_days,
        sum(open_tickets) over upto as open_tickets,
        sum(csat_n) over upto as csat_n,
        sum(csat_sum) over upto as csat_sum,
        sum(activated) over upto as activated,
        max(contact_d) over upto as contact_d,
        arg_max(rating, rating_ts) over upto as rating,
        max(rating_ts) over upto as rating_ts,
        median(hours) over (
            partition by timeline.a
            order by timeline.day
            range between to_days(win('median_resolution_hours') - 1) preceding and current row
        ) as median_hours
    from timeline
    window upto as (
        partition by timeline.a
        order by timeline.day
        range between unbounded preceding and current row
    )
)
select
    g.*,
    case when r.inv_issued > 0 then r.inv_overdue end as overdue_invoices,
    r.paid_days / nullif(r.paid_n, 0) as avg_days_to_pay,
    r.open_tickets as open_tickets_per_user,
    r.median_hours as median_resolution_hours,
    r.csat_sum / nullif(r.csat_n, 0) as avg_csat,
    case
        when r.contact_d > g.t - win('days_since_csm_contact') then g.t - r.contact_d
    end as days_since_csm_contact,
    case
        when cast(r.rating_ts as date) > g.t - win('csm_rating') then r.rating
    end as csm_rating,
    coalesce(r.activated, 0) as activated
from grid as g
join running as r on g.a = r.a and g.t = r.day and r.is_score_date;

-- active users over each window, for account-level per-active-user metrics
create or replace temp table star_users as
select sv.a, sv.t, sv.w, sv.users
from sv
join ser on sv.k = ser.k and ser.event_name = '*';

create or replace temp table group_scores as
with product_values as (
    select
        sv.a,
        sv.t,
        sv.cs,
        cm.* exclude (cs, k),
        case
            when cm.metric_id = 'active_users' then sv.users
            when cm.metric_id = 'events_per_active_user' then sv.events
            when cm.metric_id = 'days_since_last_activity' then sv.t - sv.last_d
            when cm.metric_id = 'usage_trend' then case
                when sv.created_on <= sv.t - 2 * cm.w + 1
                    then 100.0 * (sv.events - sv.prev_events) / nullif(sv.prev_events, 0)
            end
            when cm.aggregation = 'count' then sv.events
            when cm.aggregation = 'distinct_users' then sv.users
            when cm.aggregation = 'distinct_active_days' then sv.active_days
        end as v,
        case cm.normalization
            when 'per_active_user' then nullif(sv.norm_users, 0)
            when 'per_seat' then nullif(sv.seats, 0)
            else 1
        end as divisor
    from sv
    join card_metrics as cm on sv.cs = cm.cs and sv.k = cm.k
),
account_metric_values as (
    select
        av.a,
        av.t,
        av.cs,
        cm.* exclude (cs, k),
        case cm.metric_id
            when 'onboarding_goal' then
                100.0 * (av.activated / nullif(av.seats, 0))
                / nullif(
                    cm.goal_target * case when av.age >= cm.w then 1.0 else av.age / cm.w end, 0
                )
            when 'overdue_invoices' then av.overdue_invoices
            when 'avg_days_to_pay' then av.avg_days_to_pay
            when 'open_tickets_per_user' then av.open_tickets_per_user
            when 'median_resolution_hours' then av.median_resolution_hours
            when 'avg_csat' then av.avg_csat
            when 'days_since_csm_contact' then av.days_since_csm_contact
            when 'csm_rating' then av.csm_rating
        end as v,
        av.seats
    from account_values as av
    join card_metrics as cm on av.cs = cm.cs and cm.k is null
),
account_values_normalized as (
    select
        amv.* exclude (seats),
        case amv.normalization
            when 'per_active_user' then nullif(su.users, 0)
            when 'per_seat' then nullif(amv.seats, 0)
            else 1
        end as divisor
    from account_metric_values as amv
    left join star_users as su
        on amv.normalization = 'per_active_user'
        and amv.a = su.a and amv.t = su.t and amv.w = su.w
),
normalized as (
    select
        *,
        sgn * (case when measure_type = 'boolean' then (v > 0)::int else v end) / divisor as ox
    from (
        select * from product_values
        union all by name
        select * from account_values_normalized
    )
),
scored as (
    select
        a,
        t,
        cs,
        grp,
        weight,
        case
            when ox is null and missing_data_policy = 'worst' then 0.0
            when ox is null then null
            when measure_type = 'boolean' then case when (ox <> 0) = (sgn > 0) then 100.0 else 0.0 end
            when ox >= ob then 100.0
            when ox >= og then g + (100 - g) * (ox - og) / nullif(ob - og, 0)
            when ox >= orr then y + (g - y) * (ox - orr) / nullif(og - orr, 0)
            when ox > ow then y * (ox - ow) / nullif(orr - ow, 0)
            else 0.0
        end as score
    from normalized
)
select
    a,
    t,
    cs,
    grp,
    sum(case when score is not null and weight > 0 then weight else 0 end) as wt,
    sum(case when score is not null and weight > 0 then weight * score else 0 end)
    / nullif(sum(case when score is not null and weight > 0 then weight else 0 end), 0) as gs
from scored
group by all;

-- Global score, overrides, bands ---------------------------------------------------

insert into baseline_history
with weighted as (
    select
        gs.a,
        gs.t,
        gs.gs,
        case
            when s.cs is null then gs.wt
            else coalesce(cast(gw.weight as double), 0)
        end as gw
    from group_scores as gs
    left join group_sets as s on gs.cs = s.cs
    left join group_weights as gw
        on s.set_segment = gw.segment and s.set_stage = gw.lifecycle_stage
        and gs.grp = gw.measure_group
),
computed as (
    select
        a,
        t,
        -- 9 decimals, as dbt (var score_decimals): float sums depend on the order of the terms
        round(
            sum(case when gs is not null then gw * gs else 0 end)
            / nullif(sum(case when gs is not null then gw else 0 end), 0),
            9
        ) as computed_score
    from weighted
    group by all
),
final as (
    select
        acc.account_id,
        g.t as score_date,
        g.segment,
        g.stage as lifecycle_stage,
        computed.computed_score,
        coalesce(overrides.rating, computed.computed_score) as health_score
    from grid as g
    join acc on g.a = acc.a
    left join computed on g.a = computed.a and g.t = computed.t
    left join overrides on g.a = overrides.a and g.t = overrides.t
)
select
    final.*,
    coalesce(bands.band, 'unknown') as band
from final
left join bands
    on final.health_score >= bands.lo and (final.health_score < bands.hi or bands.hi is null);
