"""Events and tickets, built a batch of accounts at a time."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from scripts.demo_generator.arrays import (
    choose,
    decline_factor,
    floor_day,
    key_ids,
    office_seconds,
    optional_labels,
    sample_categorical,
    seeded_rng,
    text_array,
    timestamp_array,
)
from scripts.demo_generator.config import Config
from scripts.demo_generator.constants import (
    CSAT_P,
    DASHBOARD,
    DAY,
    GROWING,
    HOUR,
    INTEGRATION,
    LOGIN,
    LOW_ENGAGEMENT,
    NEVER,
    PRIORITIES,
    PRIORITY_P,
    RESOLVE_HOURS,
    S_TICKET_ROWS,
)
from scripts.demo_generator.state import Accounts, Batch, Users


def _weekday_factor(cfg: Config) -> np.ndarray:
    weekday = (cfg.start_date.weekday() + np.arange(cfg.days)) % 7
    return np.where(weekday >= 5, 0.35, 1.2)


def prepare_batch(cfg: Config, acc: Accounts, users: Users, a0: int, a1: int) -> Batch:
    days = cfg.days
    u0, u1 = int(users.start[a0]), int(users.start[a1])
    local = users.account[u0:u1] - a0
    first_day = np.clip((users.created_ts[u0:u1] - cfg.start_ts) // DAY, 0, days)
    end_day = np.clip((np.minimum(users.end_ts[u0:u1], NEVER // 2) - cfg.start_ts) // DAY, 0, days)
    width = days + 1
    size = (a1 - a0) * width
    diff = np.bincount(local * width + first_day, minlength=size) - np.bincount(
        local * width + end_day, minlength=size
    )
    active = np.cumsum(diff.reshape(a1 - a0, width), axis=1)[:, :days]

    accounts = np.arange(a0, a1)[:, None]
    midday = (cfg.start_ts + np.arange(days) * DAY + 12 * HOUR)[None, :]
    decline = decline_factor(acc.decline_ts[accounts], acc.churn_ts[accounts], midday)
    alive = midday < floor_day(acc.churn_ts[accounts])  # nothing on or after the churn day
    progress = (midday - cfg.start_ts) / max(cfg.end_ts - cfg.start_ts, 1)
    archetype = acc.archetype[accounts]
    activity = decline * alive * np.where(archetype == GROWING, 0.6 + 0.8 * progress, 1.0)
    activity = activity * np.where(archetype == LOW_ENGAGEMENT, 0.5, 1.0)
    return Batch(
        a0=a0,
        a1=a1,
        u0=u0,
        user_start=users.start[a0 : a1 + 1] - u0,
        user_key=local * width + first_day,
        user_end_day=end_day,
        active=active,
        decline=decline,
        activity=activity,
    )


def _pick_users(
    batch: Batch,
    local: np.ndarray,
    day: np.ndarray,
    share: np.ndarray,
    rng: np.random.Generator,
    retries: int,
) -> tuple[np.ndarray, np.ndarray]:
    """A user (batch-local index) active on `day` for each row, favouring early users.

    `share` < 1 restricts the pick to the earliest share of the users (a declining account
    keeps its core users). Returns the indices and whether each pick is an active user.
    """
    created = (
        np.searchsorted(batch.user_key, local * (batch.active.shape[1] + 1) + day, side="right")
        - batch.user_start[local]
    )
    pool = np.maximum(1, np.ceil(created * share)).astype(np.int64)
    pick = batch.user_start[local] + (pool * rng.random(len(local)) ** 1.6).astype(np.int64)
    ok = (created > 0) & (batch.user_end_day[np.minimum(pick, len(batch.user_end_day) - 1)] > day)
    for _ in range(retries):
        bad = np.flatnonzero(~ok & (created > 0))
        if not bad.size:
            break
        pick[bad] = batch.user_start[local[bad]] + (created[bad] * rng.random(bad.size)).astype(
            np.int64
        )
        ok[bad] = batch.user_end_day[pick[bad]] > day[bad]
    return pick, ok


def batch_events(
    cfg: Config, acc: Accounts, users: Users, batch: Batch, rng: np.random.Generator
) -> tuple[np.ndarray, ...]:
    """Events of a batch: (account index, user index, feature index, timestamp), sorted."""
    days = cfg.days
    lam = (
        batch.active
        * acc.user_rate[batch.a0 : batch.a1, None]
        * batch.activity
        * _weekday_factor(cfg)[None, :]
    )
    counts = rng.poisson(lam).ravel()
    cell = np.repeat(np.arange(counts.size), counts)
    local, day = cell // days, cell % days
    decline = batch.decline.ravel()[cell]
    pick, ok = _pick_users(batch, local, day, 0.35 + 0.65 * decline, rng, retries=8)
    n = len(cell)
    seconds = np.clip(rng.normal(14.5 * HOUR, 3.2 * HOUR, n), 0, DAY - 1).astype(np.int64)
    ts = cfg.start_ts + day * DAY + seconds

    # Feature from the account's mix: account k's cumulative probabilities are shifted to
    # [k, k + 1], so one searchsorted of k + uniform draws for every account at once.
    flat_cum = (
        np.arange(batch.a1 - batch.a0)[:, None] + acc.feature_cum[batch.a0 : batch.a1]
    ).ravel()
    feature = np.searchsorted(flat_cum, local + rng.random(n), side="right") - local * 7
    feature = np.clip(feature, 0, 6)
    account = local + batch.a0
    not_yet = ts - acc.created_ts[account] < acc.feature_start[account, feature]
    shallow = (feature >= 2) & (rng.random(n) > decline)  # declining accounts: logins only
    fallback = np.where(rng.random(n) < 0.5, LOGIN, DASHBOARD)
    feature = np.where(not_yet | shallow, fallback, feature)

    # integration_connected: a few per account, on random days of its life in the window
    b = batch.a1 - batch.a0
    acc_slice = slice(batch.a0, batch.a1)
    lo = np.maximum(acc.created_ts[acc_slice], cfg.start_ts)
    hi = np.minimum(cfg.end_ts, floor_day(acc.churn_ts[acc_slice]) - 1)
    per_account = np.where(acc.integrations[acc_slice] & (hi > lo), 1 + rng.poisson(0.8, b), 0)
    i_local = np.repeat(np.arange(b), per_account)
    i_ts = lo[i_local] + (rng.random(i_local.size) * (hi - lo)[i_local]).astype(np.int64)
    i_day = (i_ts - cfg.start_ts) // DAY
    i_pick, i_ok = _pick_users(batch, i_local, i_day, np.ones(i_local.size), rng, retries=2)

    local = np.concatenate([local[ok], i_local[i_ok]])
    pick = np.concatenate([pick[ok], i_pick[i_ok]])
    feature = np.concatenate([feature[ok], np.full(int(i_ok.sum()), INTEGRATION)])
    ts = np.concatenate([ts[ok], i_ts[i_ok]])
    user_created = users.created_ts[batch.u0 + pick]
    early = ts <= user_created  # same day as the user's creation: after it
    ts = np.where(early, user_created + 60 + rng.integers(0, HOUR, len(ts)), ts)
    order = np.lexsort((ts, local))
    return local[order] + batch.a0, pick[order] + batch.u0, feature[order], ts[order]


def batch_tickets(
    cfg: Config, acc: Accounts, users: Users, batch: Batch, rng: np.random.Generator
) -> tuple[np.ndarray, ...]:
    """Tickets of a batch: (account index, user index or -1, opened timestamp, declining)."""
    days = cfg.days
    archetype = acc.archetype[batch.a0 : batch.a1, None]
    risk = np.where(archetype == LOW_ENGAGEMENT, 1.3, 1.0) + 2.5 * (1.0 - batch.decline)
    alive = batch.activity > 0
    lam = 0.012 * batch.active**0.6 * risk * alive * (_weekday_factor(cfg)[None, :] ** 1.5)
    counts = rng.poisson(lam).ravel()
    cell = np.repeat(np.arange(counts.size), counts)
    local, day = cell // days, cell % days
    n = len(cell)
    account = local + batch.a0
    ts = cfg.start_ts + day * DAY + office_seconds(rng, n, 7, 20)
    ts = np.maximum(ts, acc.created_ts[account] + 600 + rng.integers(0, HOUR, n))
    pick, ok = _pick_users(batch, local, day, np.ones(n), rng, retries=0)
    user = np.where(ok & (rng.random(n) >= 0.08), pick + batch.u0, -1)
    user_created = users.created_ts[np.maximum(user, 0)]
    ts = np.where(
        (user >= 0) & (ts <= user_created), user_created + 60 + rng.integers(0, HOUR, n), ts
    )
    declining = batch.decline.ravel()[cell] < 1.0
    return account, user, ts, declining


def build_tickets(
    cfg: Config,
    acc: Accounts,
    users: Users,
    account: np.ndarray,
    user: np.ndarray,
    opened: np.ndarray,
    declining: np.ndarray,
) -> pa.Table:
    rng = seeded_rng(cfg.seed, S_TICKET_ROWS)
    order = np.lexsort((account, opened))
    account, user, opened, declining = account[order], user[order], opened[order], declining[order]
    n = len(account)
    state = declining.astype(np.int64)
    priority = sample_categorical(rng, PRIORITY_P[state])
    hours = RESOLVE_HOURS[priority] * np.exp(rng.normal(0.0, 0.9, n)) * np.where(declining, 2, 1)
    resolved = opened + np.maximum(600, (hours * HOUR).astype(np.int64))
    is_resolved = (resolved <= cfg.end_ts) & (rng.random(n) >= 0.02)
    csat = sample_categorical(rng, CSAT_P[state]) + 1
    has_csat = is_resolved & (rng.random(n) < 0.5)
    ids = key_ids("tickets", n)
    return pa.table(
        {
            "ticket_id": ids,
            "account_id": acc.ids.take(pa.array(account)),
            "user_id": optional_labels(users.ids, user),
            "opened_at": timestamp_array(opened),
            "resolved_at": timestamp_array(resolved, is_resolved),
            "priority": choose(PRIORITIES, priority),
            "csat": text_array(csat, has_csat),
        }
    )
