"""The clean accounts, users, invoices and CSM ratings."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from scripts.demo_generator.arrays import (
    anniversary_after,
    choose,
    date_array,
    decline_factor,
    floor_day,
    key_ids,
    money_array,
    office_seconds,
    optional_labels,
    sample_categorical,
    seeded_rng,
    text_array,
    timestamp_array,
)
from scripts.demo_generator.config import Config, epoch_seconds
from scripts.demo_generator.constants import (
    ADOPTION,
    CHURN_PROBABILITY,
    CHURNED,
    CHURNING_AFTER_END,
    CSM_OWNERS,
    CSM_SHARE,
    DAY,
    DRAFT,
    FEATURE_ADOPTION,
    FEATURE_WEIGHT,
    GROWING,
    HOUR,
    INTEGRATION_ADOPTION,
    INVOICE_STATUSES,
    LOW_ENGAGEMENT,
    NAME_FIRST,
    NAME_LEGAL,
    NAME_SECOND,
    NAME_TRADE,
    NEVER,
    OPEN,
    OVERRIDE_REASONS,
    PAID,
    PAYMENT_P,
    PLAN_WEIGHTS,
    PLANS,
    PRICE_CENTS,
    S_ACCOUNTS,
    S_INVOICES,
    S_RATINGS,
    S_USERS,
    SEAT_RANGE,
    STABLE,
    UNCOLLECTIBLE,
    USER_FIRST,
    USER_LAST,
    USER_RATE,
    VOID,
)
from scripts.demo_generator.state import Accounts, Users


def build_accounts(cfg: Config) -> tuple[Accounts, pa.Table]:
    rng = seeded_rng(cfg.seed, S_ACCOUNTS)
    n = cfg.accounts
    end_day_ts = epoch_seconds(cfg.end_date)

    band = rng.random(n)
    age_days = np.select(
        [band < 0.12, band < 0.22],
        [rng.uniform(0, 90, n), rng.uniform(90, 180, n)],
        rng.uniform(180, cfg.days + 3 * 365, n),
    )
    created = np.sort(end_day_ts - age_days.astype(np.int64) * DAY + office_seconds(rng, n, 8, 17))

    plan = rng.choice(len(PLANS), n, p=PLAN_WEIGHTS)
    low, high = SEAT_RANGE[plan, 0], SEAT_RANGE[plan, 1]
    seats = np.clip(np.rint(np.exp(rng.uniform(np.log(low), np.log(high + 1)))), low, high)
    seats = seats.astype(np.int64)

    # Churn: decide who, how long the decline lasts, and whether churn falls in the window.
    eligible = created <= cfg.end_ts - 150 * DAY
    churner = eligible & (rng.random(n) < CHURN_PROBABILITY)
    decline_days = rng.uniform(60, 120, n)
    decline_len = (decline_days * DAY).astype(np.int64)
    lo = np.maximum(cfg.start_ts, created + decline_len + 30 * DAY)
    hi = cfg.end_ts - DAY
    in_window = churner & (rng.random(n) < 0.65) & (lo < hi)
    churn_inside = lo + (rng.random(n) * np.maximum(hi - lo, 0)).astype(np.int64)
    churn_after = cfg.end_ts + (rng.uniform(1, decline_days - 20) * DAY).astype(np.int64)
    churn = np.where(in_window, churn_inside, churn_after)
    churn = floor_day(churn) + office_seconds(rng, n)
    churn = np.where(churner, churn, NEVER)
    decline = np.where(churner, churn - decline_len, NEVER)

    kind = rng.random(n)
    archetype = np.select(
        [in_window, churner, kind < 0.20, kind < 0.30],
        [CHURNED, CHURNING_AFTER_END, GROWING, LOW_ENGAGEMENT],
        STABLE,
    )
    csm = np.where(rng.random(n) < CSM_SHARE[plan], rng.integers(0, len(CSM_OWNERS), n), -1)
    user_rate = USER_RATE[plan] * rng.lognormal(0.0, 0.35, n)

    adopt_p = FEATURE_ADOPTION[plan].copy()
    adopt_p[:, 2:] *= np.where(archetype == LOW_ENGAGEMENT, 0.6, 1.0)[:, None]
    adopt_p[:, 5] *= seats > 1  # nobody to invite on a one-seat account
    adopted = rng.random((n, 7)) < adopt_p
    weights = FEATURE_WEIGHT * adopted * rng.lognormal(0.0, 0.3, (n, 7))
    feature_cum = np.cumsum(weights, axis=1)
    feature_cum /= feature_cum[:, -1:]
    feature_cum[:, -1] = 1.0
    feature_start = (rng.exponential(30.0, (n, 7)) * DAY).astype(np.int64)
    feature_start[:, :2] = 0
    feature_start[:, 6] += 20 * DAY
    integrations = rng.random(n) < INTEGRATION_ADOPTION[plan]

    renewal = anniversary_after(created, np.minimum(churn, cfg.end_ts))
    monthly = rng.random(n) < np.array([0.5, 0.25, 0.0, 0.0])[plan]  # no renewal date
    churned_visible = churn <= cfg.end_ts

    name_parts = [
        rng.integers(0, len(words), n)
        for words in (NAME_FIRST, NAME_SECOND, NAME_TRADE, NAME_LEGAL)
    ]
    brand = pc.binary_join_element_wise(  # e.g. "BlueHarbor"
        choose(NAME_FIRST, name_parts[0]), choose(NAME_SECOND, name_parts[1]), ""
    )
    account_name = pc.binary_join_element_wise(  # e.g. "BlueHarbor Labs, Inc."
        brand, " ", choose(NAME_TRADE, name_parts[2]), choose(NAME_LEGAL, name_parts[3]), ""
    )
    ids = key_ids("accounts", n)

    table = pa.table(
        {
            "account_id": ids,
            "account_name": account_name,
            "plan": choose(PLANS, plan),
            "seats": text_array(seats),
            "created_at": timestamp_array(created),
            "renewal_date": date_array(renewal, ~monthly),
            "churned_at": timestamp_array(churn, churned_visible),
            "csm_owner": optional_labels(pa.array(CSM_OWNERS, pa.string()), csm),
        }
    )
    return Accounts(
        plan=plan,
        seats=seats,
        created_ts=created,
        churn_ts=churn,
        decline_ts=decline,
        archetype=archetype,
        csm=csm,
        user_rate=user_rate,
        feature_cum=feature_cum,
        feature_start=feature_start,
        integrations=integrations,
        ids=ids,
    ), table


def build_users(cfg: Config, acc: Accounts, account_names: pa.Array) -> tuple[Users, pa.Table]:
    rng = seeded_rng(cfg.seed, S_USERS)
    n = acc.n
    mean = ADOPTION[acc.plan] * np.where(acc.archetype == LOW_ENGAGEMENT, 0.6, 1.0)
    adoption = rng.beta(mean * 10, (1 - mean) * 10)
    per_account = np.maximum(1, np.rint(acc.seats * adoption)).astype(np.int64)
    total = int(per_account.sum())
    owner = np.repeat(np.arange(n), per_account)
    first = np.zeros(total, bool)
    first[np.cumsum(per_account) - per_account] = True

    acc_created = acc.created_ts[owner]
    life_end = np.minimum(acc.churn_ts[owner], cfg.end_ts)
    window_lo = np.maximum(acc_created, cfg.start_ts)
    ramp = acc_created + (rng.exponential(25.0, total) * DAY).astype(np.int64)
    organic = acc_created + (rng.random(total) * (life_end - acc_created)).astype(np.int64)
    hired = window_lo + (rng.random(total) * np.maximum(life_end - window_lo, 0)).astype(np.int64)
    pick = rng.random(total)
    created = np.where(pick < 0.65, ramp, organic)
    created = np.where((acc.archetype[owner] == GROWING) & (pick >= 0.5), hired, created)
    created = floor_day(created) + office_seconds(rng, total)
    created = np.maximum(created, acc_created + 300)
    created = np.where(first, acc_created + rng.integers(300, HOUR, total), created)

    # Deactivations: a few at any time, many during a decline, everyone at churn.
    deact = created + (rng.uniform(7, 3 * 365, total) * DAY).astype(np.int64)
    deact = np.where(~first & (rng.random(total) < 0.06), deact, NEVER)
    churn = acc.churn_ts[owner]
    decline_lo = np.maximum(acc.decline_ts[owner], created + DAY)
    in_decline = decline_lo + (rng.random(total) * np.maximum(churn - decline_lo, 0)).astype(
        np.int64
    )
    leaves = ~first & (churn < NEVER) & (churn > decline_lo) & (rng.random(total) < 0.4)
    deact = np.where(leaves, np.minimum(deact, in_decline), deact)
    office = office_seconds(rng, total)
    deact = np.where(deact < NEVER, floor_day(deact) + office, NEVER)
    deact = np.minimum(deact, churn)

    keep = created < life_end
    order = np.lexsort((created[keep], owner[keep]))
    owner, created, deact = owner[keep][order], created[keep][order], deact[keep][order]
    start = np.searchsorted(owner, np.arange(n + 1))
    seq = np.arange(len(owner)) - start[owner]

    first_names = choose(USER_FIRST, rng.integers(0, len(USER_FIRST), total)[keep][order])
    last_names = choose(USER_LAST, rng.integers(0, len(USER_LAST), total)[keep][order])
    suffix = pc.if_else(pa.array(seq > 0), text_array(seq + 1), "")
    letters = pc.replace_substring_regex(  # "BlueHarbor Labs, Inc." -> "blueharborlabsinc"
        pc.utf8_lower(account_names), "[^a-z]", ""
    )
    domain = pc.binary_join_element_wise(  # account number keeps domains unique
        pc.utf8_slice_codeunits(letters, 0, 20), text_array(np.arange(1, n + 1)), ".example", ""
    )
    email = pc.binary_join_element_wise(
        first_names, ".", last_names, suffix, "@", domain.take(pa.array(owner)), ""
    )
    ids = key_ids("users", len(owner))
    table = pa.table(
        {
            "user_id": ids,
            "account_id": acc.ids.take(pa.array(owner)),
            "email": email,
            "created_at": timestamp_array(created),
            "deactivated_at": timestamp_array(deact, deact <= cfg.end_ts),
        }
    )
    return Users(account=owner, created_ts=created, end_ts=deact, start=start, ids=ids), table


def build_invoices(cfg: Config, acc: Accounts) -> pa.Table:
    rng = seeded_rng(cfg.seed, S_INVOICES)
    n = acc.n
    months = np.datetime64(cfg.start_date, "M") + np.arange(cfg.days // 28 + 2)
    created_day = (acc.created_ts // DAY).astype("datetime64[D]")
    day_of_month = np.minimum(
        (created_day - created_day.astype("datetime64[M]").astype("datetime64[D]")).astype(
            np.int64
        ),
        27,
    )
    issue_day = (months.astype("datetime64[D]")[None, :] + day_of_month[:, None]).astype(np.int64)
    issued = issue_day * DAY + 6 * HOUR + rng.integers(0, HOUR, issue_day.shape)
    issued = np.maximum(issued, acc.created_ts[:, None] + 600)
    start_day, end_day = cfg.start_ts // DAY, cfg.end_ts // DAY
    valid = (
        (issue_day >= start_day)
        & (issue_day <= end_day)
        & (issue_day >= (acc.created_ts // DAY)[:, None])
        & (issued < acc.churn_ts[:, None])
    )
    account, column = np.nonzero(valid)
    issued = issued[account, column]
    order = np.lexsort((account, issued))
    account, issued = account[order], issued[order]
    m = len(account)

    decline = decline_factor(acc.decline_ts[account], acc.churn_ts[account], issued)
    declining = decline < 1.0
    window_progress = (issued - cfg.start_ts) / max(cfg.end_ts - cfg.start_ts, 1)
    growth = np.where(acc.archetype[account] == GROWING, 1.0 + 0.25 * window_progress, 1.0)
    volume = np.where(acc.plan == 3, 0.8, 1.0) * rng.uniform(0.85, 1.0, n)
    eur = rng.random(n) < 0.12
    monthly = acc.seats * PRICE_CENTS[acc.plan] * volume * np.where(eur, 0.92, 1.0)
    noise = rng.uniform(0.97, 1.03, m)
    cents = np.maximum(100, np.rint(monthly[account] * growth * (0.7 + 0.3 * decline) * noise))
    cents = cents.astype(np.int64)

    # Payment behaviour: on time / late / never, by risk at issue time.
    risk = np.where(declining, 2, np.where(acc.archetype[account] == LOW_ENGAGEMENT, 1, 0))
    behaviour = sample_categorical(rng, PAYMENT_P[risk])
    on_time_days = np.minimum(rng.gamma(2.0, 5.0, m), 29.0)
    late_days = rng.uniform(31, 75, m)
    delay = np.where(behaviour == 0, on_time_days, late_days)
    paid = issued + (delay * DAY).astype(np.int64) + rng.integers(0, HOUR, m)
    due = issued + 30 * DAY
    never = behaviour == 2
    draft = (issued // DAY > end_day - 5) & (rng.random(m) < 0.4)
    void = ~draft & (rng.random(m) < 0.015)
    p_uncollectible = np.where(risk == 2, 0.6, 0.35)
    uncollectible = never & (due + 60 * DAY <= cfg.end_ts) & (rng.random(m) < p_uncollectible)
    is_paid = ~never & (paid <= cfg.end_ts)
    status = np.select(
        [draft, void, uncollectible, is_paid], [DRAFT, VOID, UNCOLLECTIBLE, PAID], OPEN
    )
    ids = key_ids("invoices", m)
    return pa.table(
        {
            "invoice_id": ids,
            "account_id": acc.ids.take(pa.array(account)),
            "issued_at": timestamp_array(issued),
            "due_at": timestamp_array(due),
            "paid_at": timestamp_array(paid, status == PAID),
            "amount": money_array(cents),
            "currency": choose(("USD", "EUR"), eur[account].astype(np.int64)),
            "status": choose(INVOICE_STATUSES, status),
        }
    )


def build_csm_ratings(cfg: Config, acc: Accounts) -> pa.Table:
    rng = seeded_rng(cfg.seed, S_RATINGS)
    n = acc.n
    slots = cfg.days // 30 + 3
    first = cfg.start_ts - (rng.uniform(0, 60, n) * DAY).astype(np.int64)
    gaps = (rng.uniform(30, 60, (n, slots)) * DAY).astype(np.int64)
    rated = floor_day(first[:, None] + np.cumsum(gaps, axis=1))
    rated = rated + office_seconds(rng, (n, slots), 9, 17)
    valid = (
        (acc.csm >= 0)[:, None]
        & (rated >= cfg.start_ts)
        & (rated <= cfg.end_ts)
        & (rated >= acc.created_ts[:, None] + 14 * DAY)
        & (rated < acc.churn_ts[:, None])
    )
    account, column = np.nonzero(valid)
    rated = rated[account, column]

    mean = np.array([76.0, 84.0, 55.0, 72.0, 72.0])[acc.archetype]
    base = rng.normal(mean, 7.0, n)
    decline = decline_factor(acc.decline_ts[account], acc.churn_ts[account], rated)
    value = base[account] * (0.2 + 0.8 * decline) + rng.normal(0.0, 4.0, len(account))
    rating = np.clip(np.rint(value), 0, 100).astype(np.int64)

    # Overrides: ~3% of accounts, current ones expire after the end date, a couple expired.
    candidates = np.flatnonzero(
        (acc.csm >= 0) & (acc.archetype != CHURNED) & (acc.created_ts <= cfg.end_ts - 60 * DAY)
    )
    wanted = max(1, round(0.03 * n))
    chosen = rng.permutation(candidates)[:wanted]
    k = len(chosen)
    expired = np.zeros(k, bool)
    if cfg.days > 31 and k >= 2:
        expired[: 1 if k < 5 else max(2, round(0.03 * k))] = True
    end_day_ts = epoch_seconds(cfg.end_date)
    back = np.where(  # days before the end date, within the window
        expired,
        rng.uniform(30, max(30, min(90, cfg.days - 1)), k),
        rng.uniform(0, min(45, cfg.days - 1), k),
    )
    o_rated = end_day_ts - back.astype(np.int64) * DAY + office_seconds(rng, k, 9, 17)
    o_expires = np.where(
        expired,
        floor_day(o_rated) + rng.integers(14, 26, k) * DAY,
        end_day_ts + rng.integers(30, 121, k) * DAY,
    )
    negative = rng.random(k) < 0.5
    o_rating = np.where(negative, rng.integers(10, 36, k), rng.integers(75, 96, k))
    reason_index = rng.integers(0, 3, k)
    o_reason = [
        OVERRIDE_REASONS[int(neg)][int(r)] for neg, r in zip(negative, reason_index, strict=True)
    ]

    all_account = np.concatenate([account, chosen])
    all_rated = np.concatenate([rated, o_rated])
    is_override = np.concatenate([np.zeros(len(account), bool), np.ones(k, bool)])
    while True:  # keep the grain unique: nudge an override off a regular rating's second
        order = np.lexsort((all_rated, all_account))
        same = (all_account[order][1:] == all_account[order][:-1]) & (
            all_rated[order][1:] == all_rated[order][:-1]
        )
        if not same.any():
            break
        all_rated[order[1:][same]] += 1
    order = np.lexsort((all_rated, all_account))
    reason = pa.array([None] * len(account) + o_reason, pa.string())
    expires = np.concatenate([np.zeros(len(account), np.int64), o_expires])
    return pa.table(
        {
            "account_id": acc.ids.take(pa.array(all_account[order])),
            "rated_at": timestamp_array(all_rated[order]),
            "rating": text_array(np.concatenate([rating, o_rating])[order]),
            "is_override": choose(("false", "true"), is_override[order].astype(np.int64)),
            "reason": reason.take(pa.array(order)),
            "expires_at": timestamp_array(expires[order], is_override[order]),
        }
    )
