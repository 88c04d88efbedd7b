"""Generate deterministic demo data for the customer-health raw landing zone.

Usage::

    python scripts/generate_demo_data.py --accounts 300 --days 365 --out data/raw \\
        --format parquet --seed 42 --end-date 2026-10-31 --dirty-fraction 0.01

Writes six tables as ``<out>/<table>.parquet`` (or ``.csv``) plus ``<out>/_manifest.json``.
The same arguments always give byte-identical files: every random draw comes from a numpy
generator seeded with ``--seed`` and a fixed stream number, and no wall-clock time is used.

Raw contract
------------
Every column is text (Parquet ``string``; CSV with a header row, every non-null value quoted);
a null is a real null (null in Parquet, an unquoted empty field in CSV), never an empty string.
Columns ending in ``_at`` are UTC timestamps ``YYYY-MM-DD HH:MM:SS``, ``renewal_date`` is a date
``YYYY-MM-DD``, booleans are ``true``/``false``, ``amount`` has two decimals.

- accounts(account_id, account_name, plan, seats, created_at, renewal_date, churned_at, csm_owner)
- users(user_id, account_id, email, created_at, deactivated_at)
- events(event_id, account_id, user_id, event_name, occurred_at)
- invoices(invoice_id, account_id, issued_at, due_at, paid_at, amount, currency, status)
- tickets(ticket_id, account_id, user_id, opened_at, resolved_at, priority, csat)
- csm_ratings(account_id, rated_at, rating, is_override, reason, expires_at);
  grain (account_id, rated_at)

Keys: ``acc_000001``, ``usr_0000001``, ``inv_00000001``, ``tkt_0000001`` (more digits for
large data sets), event_id an integer from 1. The data window is the ``--days`` days ending on
``--end-date`` (inclusive): events, invoices, tickets and ratings fall inside it; accounts and
users may be older. Clean events average about 1,000 per account per 365 days.

Content
-------
Plans starter and growth (SMB) and business and enterprise (enterprise segment); the starter
plan has no ``api_call`` feature. Accounts are of five archetypes (counts in the manifest's
``ground_truth``): ``stable``; ``growing`` (usage, users and invoice amounts rise over the
window); ``low_engagement`` (few users, little usage, slower payers); ``churned`` (churned_at in
the window) and ``churning_after_end`` (churned_at null, but the churn date lies after the end
date). Both churning archetypes decline for 60-120 days before churn: fewer active users and
events, shallower feature use, late or unpaid invoices, more and more urgent tickets with lower
CSAT, falling CSM ratings. Nothing happens on or after an account's churn date; the users of a
churned account are deactivated at churned_at. About 12% of accounts are younger than 90 days.

Dirty rows
----------
With ``--dirty-fraction f`` (default 0.01, 0 for none) each table gets about ``f`` times its
clean row count of extra dirty rows, split evenly over the table's kinds, at least 1 per kind
(at least 3 when the table has 1,000 clean rows or more). Dirty rows are modified copies of
random clean rows, slipped in at random places (for events: appended at the end of the file);
clean rows are never changed or removed, and do not depend on ``f`` (a run with ``f`` = 0 writes
exactly the clean rows). Each dirty row has exactly one defect. Every kind except the two
duplicate kinds and ``null_key`` gets a fresh key, numbered after the clean ones and unused by
any other row (csm_ratings: rated_at moved a few hours earlier). Orphan and unknown ids count
down from the top of the id range (``acc_999999``, ``usr_9999999``). A dirty row keeps the
source row's other columns, so an orphan event's or ticket's user_id belongs to another account:
check orphans before user/account consistency. The kinds:

- ``exact_duplicate`` (all tables): a copy identical in every column.
- ``conflicting_duplicate`` (all tables): same key, one other column differs with a valid value:
  accounts.seats, users.email, events.event_name, invoices.amount, tickets.priority,
  csm_ratings.rating. Nothing marks which of the two rows is the original.
- ``null_key`` (all tables): the key is null (csm_ratings: account_id).
- ``orphan_account`` (all but accounts): account_id is an id absent from accounts.
- ``unknown_user`` (events): user_id is an id absent from users.
- ``user_account_mismatch`` (events): user_id is a real user of another account.
- ``unparseable_timestamp`` (all tables): the main timestamp (accounts.created_at,
  users.created_at, events.occurred_at, invoices.issued_at, tickets.opened_at,
  csm_ratings.rated_at) is text such as 'not a date' or '2026-13-45 10:00:00'.
- ``future_timestamp`` (all tables): that timestamp is in the year 2099 (dependent columns are
  kept consistent: invoices due 30 days later and open, tickets unresolved, no churn, etc.).
- ``unknown_enum``: accounts.plan 'platinum', events.event_name 'legacy_sync',
  invoices.status 'refunded', tickets.priority 'critical'.
- ``negative_seats`` (accounts), ``negative_amount`` and ``non_numeric_amount`` (invoices:
  '12,50', 'abc', ...), ``csat_out_of_range`` (tickets: 0 or 7), ``rating_out_of_range``
  (csm_ratings: -5 or 150), ``resolved_before_opened`` (tickets).

Manifest
--------
``_manifest.json`` holds the arguments (not the output path), the window and, per table, the
file name, ``rows`` (all rows written), ``clean_rows`` and ``dirty`` (rows per kind), so that
``rows == clean_rows + sum(dirty.values())``; and ``ground_truth``: accounts per archetype and
the ids of the accounts that churn after the end date.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

DAY = 86_400
HOUR = 3_600
NEVER = np.int64(2**62)  # "no such moment": later than any real timestamp

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "accounts": (
        "account_id",
        "account_name",
        "plan",
        "seats",
        "created_at",
        "renewal_date",
        "churned_at",
        "csm_owner",
    ),
    "users": ("user_id", "account_id", "email", "created_at", "deactivated_at"),
    "events": ("event_id", "account_id", "user_id", "event_name", "occurred_at"),
    "invoices": (
        "invoice_id",
        "account_id",
        "issued_at",
        "due_at",
        "paid_at",
        "amount",
        "currency",
        "status",
    ),
    "tickets": (
        "ticket_id",
        "account_id",
        "user_id",
        "opened_at",
        "resolved_at",
        "priority",
        "csat",
    ),
    "csm_ratings": ("account_id", "rated_at", "rating", "is_override", "reason", "expires_at"),
}
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "accounts": ("account_id",),
    "users": ("user_id",),
    "events": ("event_id",),
    "invoices": ("invoice_id",),
    "tickets": ("ticket_id",),
    "csm_ratings": ("account_id", "rated_at"),
}
# The timestamp that the unparseable_timestamp and future_timestamp kinds corrupt.
MAIN_TIMESTAMP = {
    "accounts": "created_at",
    "users": "created_at",
    "events": "occurred_at",
    "invoices": "issued_at",
    "tickets": "opened_at",
    "csm_ratings": "rated_at",
}
CONFLICT_COLUMN = {
    "accounts": "seats",
    "users": "email",
    "events": "event_name",
    "invoices": "amount",
    "tickets": "priority",
    "csm_ratings": "rating",
}
UNKNOWN_ENUM = {
    "accounts": ("plan", "platinum"),
    "events": ("event_name", "legacy_sync"),
    "invoices": ("status", "refunded"),
    "tickets": ("priority", "critical"),
}
_COMMON_KINDS = ("exact_duplicate", "conflicting_duplicate", "null_key")
_TS_KINDS = ("unparseable_timestamp", "future_timestamp")
DIRTY_KINDS: dict[str, tuple[str, ...]] = {
    "accounts": (*_COMMON_KINDS, *_TS_KINDS, "unknown_enum", "negative_seats"),
    "users": (*_COMMON_KINDS, "orphan_account", *_TS_KINDS),
    "events": (
        *_COMMON_KINDS,
        "orphan_account",
        "unknown_user",
        "user_account_mismatch",
        *_TS_KINDS,
        "unknown_enum",
    ),
    "invoices": (
        *_COMMON_KINDS,
        "orphan_account",
        *_TS_KINDS,
        "unknown_enum",
        "negative_amount",
        "non_numeric_amount",
    ),
    "tickets": (
        *_COMMON_KINDS,
        "orphan_account",
        *_TS_KINDS,
        "unknown_enum",
        "csat_out_of_range",
        "resolved_before_opened",
    ),
    "csm_ratings": (*_COMMON_KINDS, "orphan_account", *_TS_KINDS, "rating_out_of_range"),
}
# Key prefix and minimum digits (events: bare integers). Ids are numbered from 1; the top of
# the range (all 9s downwards) is kept free for the ids of orphan / unknown references.
ID_FORMAT = {
    "accounts": ("acc_", 6),
    "users": ("usr_", 7),
    "events": ("", 0),
    "invoices": ("inv_", 8),
    "tickets": ("tkt_", 7),
}
BAD_TIMESTAMPS = ("not a date", "2026-13-45 10:00:00", "2026-02-30 25:61:00", "31/10/2026 12:00")
BAD_AMOUNTS = ("12,50", "abc", "1.234,56", "USD 99.00")

PLANS = ("starter", "growth", "business", "enterprise")
PLAN_WEIGHTS = (0.40, 0.33, 0.18, 0.09)
SEAT_RANGE = np.array([[1, 10], [5, 40], [20, 200], [100, 2000]])
ADOPTION = np.array([0.75, 0.60, 0.45, 0.22])  # mean share of seats that become users
USER_RATE = np.array([0.66, 0.38, 0.19, 0.10])  # events per active user per day
PRICE_CENTS = np.array([1500, 2500, 4000, 4500])  # per seat per month
CSM_SHARE = np.array([0.10, 0.50, 1.0, 1.0])
STABLE, GROWING, LOW_ENGAGEMENT, CHURNED, CHURNING_AFTER_END = range(5)
ARCHETYPES = ("stable", "growing", "low_engagement", "churned", "churning_after_end")
CHURN_PROBABILITY = 0.21  # of accounts at least 150 days old at the end date

FEATURES = (  # event_name values, in the column order of the feature matrices below
    "login",
    "dashboard_viewed",
    "report_created",
    "alert_configured",
    "data_exported",
    "user_invited",
    "api_call",
    "integration_connected",
)
LOGIN, DASHBOARD, INTEGRATION = 0, 1, 7
FEATURE_WEIGHT = np.array([0.28, 0.30, 0.12, 0.04, 0.07, 0.02, 0.17])
# Share of accounts per plan that ever use each feature (login ... api_call), and integrations.
FEATURE_ADOPTION = np.array(
    [
        [1.0, 1.0, 0.75, 0.35, 0.50, 0.60, 0.00],
        [1.0, 1.0, 0.85, 0.60, 0.70, 0.80, 0.35],
        [1.0, 1.0, 0.90, 0.75, 0.80, 0.90, 0.60],
        [1.0, 1.0, 0.95, 0.85, 0.90, 0.95, 0.80],
    ]
)
INTEGRATION_ADOPTION = np.array([0.40, 0.60, 0.80, 0.90])
INVOICE_STATUSES = ("draft", "open", "paid", "void", "uncollectible")
DRAFT, OPEN, PAID, VOID, UNCOLLECTIBLE = range(5)
# Chance that an invoice is paid on time / late / never: healthy, low engagement, declining.
PAYMENT_P = np.array([[0.86, 0.11, 0.03], [0.70, 0.22, 0.08], [0.30, 0.40, 0.30]])
PRIORITIES = ("low", "normal", "high", "urgent")
PRIORITY_P = np.array([[0.30, 0.50, 0.15, 0.05], [0.15, 0.40, 0.30, 0.15]])  # healthy, declining
RESOLVE_HOURS = np.array([48.0, 24.0, 8.0, 3.0])  # median per priority
CSAT_P = np.array([[0.03, 0.05, 0.12, 0.35, 0.45], [0.25, 0.30, 0.25, 0.12, 0.08]])

# Vocabulary for generated names ("fmt: off" keeps the word lists compact)
# fmt: off
CSM_OWNERS = (
    "Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson", "Edsger Dijkstra",
    "Barbara Liskov", "Margaret Hamilton", "Dennis Ritchie", "Frances Allen", "Radia Perlman",
    "Claude Shannon", "Hedy Lamarr",
)
OVERRIDE_REASONS = (  # (positive, negative) reasons a CSM gives for an override
    ("Executive sponsor confirmed the renewal", "Expansion deal in negotiation",
     "Usage dip explained by a planned migration"),
    ("Champion left the company", "Budget freeze announced", "Evaluating a competitor"),
)
NAME_FIRST = (
    "Blue", "Bright", "North", "Silver", "Red", "Quiet", "Rapid", "Golden", "Iron", "Clear",
    "Green", "Stone", "Open", "Bold", "Swift", "Cedar", "Maple", "Harbor", "Summit", "Prairie",
)
NAME_SECOND = (
    "Harbor", "Peak", "Field", "River", "Forge", "Lantern", "Orbit", "Bridge", "Grove",
    "Anchor", "Falcon", "Beacon", "Meadow", "Canyon", "Pixel", "Signal", "Vector", "Harvest",
    "Atlas", "Comet",
)
NAME_TRADE = (
    "Labs", "Analytics", "Systems", "Logistics", "Health", "Foods", "Robotics", "Media",
    "Capital", "Studios", "Software", "Energy", "Retail", "Partners",
)
NAME_LEGAL = ("", "", "", " Inc.", ", Inc.", " GmbH", " Ltd", " LLC", " & Co.")
USER_FIRST = (
    "alex", "sam", "jordan", "maria", "li", "omar", "priya", "lena", "noah", "ines", "kai",
    "emma", "luca", "sara", "yuki", "diego", "amara", "felix", "nora", "ravi",
)
USER_LAST = (
    "smith", "garcia", "chen", "muller", "kowalski", "silva", "nguyen", "okafor", "rossi",
    "haddad", "johansson", "tanaka", "dubois", "novak", "patel", "kim", "lopez", "berg",
    "ahmed", "walsh",
)
# fmt: on

BATCH_ACCOUNTS = 500  # accounts per events chunk; fixed, so the output never depends on it
# Random stream numbers: each part of the data has its own generator, so that e.g. the dirty
# rows never shift the clean ones.
S_ACCOUNTS, S_USERS, S_INVOICES, S_RATINGS, S_EVENTS, S_TICKETS, S_TICKET_ROWS = range(7)
S_DIRTY, S_DIRTY_POOL = 100, 101


class GeneratorError(Exception):
    """A problem with the arguments or the output directory, reported without a traceback."""


@dataclass(frozen=True)
class Config:
    accounts: int
    days: int
    out: Path
    fmt: str
    seed: int
    end_date: date
    dirty_fraction: float

    @property
    def start_date(self) -> date:
        return self.end_date - timedelta(days=self.days - 1)

    @property
    def start_ts(self) -> int:
        return _epoch_seconds(self.start_date)

    @property
    def end_ts(self) -> int:
        return _epoch_seconds(self.end_date) + DAY - 1


@dataclass
class Accounts:
    plan: np.ndarray  # index into PLANS
    seats: np.ndarray
    created_ts: np.ndarray
    churn_ts: np.ndarray  # NEVER for accounts that do not churn
    decline_ts: np.ndarray  # start of the decline before churn; NEVER without one
    archetype: np.ndarray  # index into ARCHETYPES
    csm: np.ndarray  # index into CSM_OWNERS, -1 without a CSM
    user_rate: np.ndarray
    feature_cum: np.ndarray  # (n, 7) cumulative feature probabilities, login ... api_call
    feature_start: np.ndarray  # (n, 7) seconds after creation before a feature is first used
    integrations: np.ndarray  # bool: the account connects integrations
    ids: pa.Array

    @property
    def n(self) -> int:
        return len(self.plan)


@dataclass
class Users:
    account: np.ndarray  # account index, sorted by (account, created_ts)
    created_ts: np.ndarray
    end_ts: np.ndarray  # deactivation (or churn); NEVER while active
    start: np.ndarray  # (n_accounts + 1) offsets of each account's users
    ids: pa.Array


@dataclass
class Batch:
    """Per-day state of a batch of accounts, shared by events and tickets."""

    a0: int
    a1: int
    u0: int
    user_start: np.ndarray  # offsets into the batch's users, per local account (+1)
    user_key: np.ndarray  # local account * (days + 1) + first active day, sorted
    user_end_day: np.ndarray  # first day the user is no longer active (days if never)
    active: np.ndarray  # (accounts, days) active users
    decline: np.ndarray  # (accounts, days) decline factor: 1 healthy, down to 0.1 before churn
    activity: np.ndarray  # (accounts, days) usage multiplier


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


def _epoch_seconds(day: date) -> int:
    return (day - date(1970, 1, 1)).days * DAY


def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, *stream])


def _dirty_rng(cfg: Config, table: str) -> np.random.Generator:
    return _rng(cfg.seed, S_DIRTY, list(TABLE_COLUMNS).index(table))


def _floor_day(ts: np.ndarray) -> np.ndarray:
    return ts - ts % DAY


def _office_seconds(
    rng: np.random.Generator, size: int | tuple[int, ...], first: float = 8.0, last: float = 18.0
) -> np.ndarray:
    return (rng.uniform(first, last, size) * HOUR).astype(np.int64)


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pa.array(numbers, pa.int64()).cast(pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _text(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    mask = None if valid is None else ~valid
    return pa.array(values, pa.int64(), mask=mask).cast(pa.string())


def _timestamps(ts: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    mask = None if valid is None else ~valid
    return pa.array(np.where(ts >= NEVER, 0, ts), pa.timestamp("s"), mask=mask).cast(pa.string())


def _dates(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    mask = None if valid is None else ~valid
    return pa.array(days.astype(np.int32), pa.date32(), mask=mask).cast(pa.string())


def _money(cents: np.ndarray) -> pa.Array:
    whole = pa.array(cents // 100, pa.int64()).cast(pa.string())
    part = pc.utf8_lpad(pa.array(cents % 100, pa.int64()).cast(pa.string()), width=2, padding="0")
    return pc.binary_join_element_wise(whole, part, ".")


def _choose(labels: tuple[str, ...], index: np.ndarray) -> pa.Array:
    return pa.array(labels, pa.string()).take(pa.array(index, pa.int64()))


def _optional(labels: pa.Array, index: np.ndarray) -> pa.Array:
    """labels[index], null where index is negative."""
    index = np.asarray(index, np.int64)
    return labels.take(pa.array(index, pa.int64(), mask=index < 0))


def _parse_timestamps(values: pa.Array) -> np.ndarray:
    parsed = pc.strptime(values, format="%Y-%m-%d %H:%M:%S", unit="s")
    return parsed.cast(pa.int64()).to_numpy(zero_copy_only=False)


def _sample_categorical(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One draw per row of a (rows, categories) probability matrix."""
    cum = np.cumsum(probabilities, axis=1)
    draw = rng.random(len(probabilities))[:, None] * cum[:, -1:]
    return np.minimum((draw >= cum).sum(axis=1), probabilities.shape[1] - 1)


def _decline_factor(decline_ts: np.ndarray, churn_ts: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """1 before the decline starts, falling linearly to 0.1 at churn (arrays broadcast)."""
    span = np.maximum(churn_ts - decline_ts, 1).astype(np.float64)
    progress = (ts - decline_ts) / span
    return np.where(ts < decline_ts, 1.0, np.clip(1.0 - 0.9 * progress, 0.1, 1.0))


def _anniversary_after(created_ts: np.ndarray, ref_ts: np.ndarray) -> np.ndarray:
    """Days since epoch of the first anniversary of created_ts strictly after ref_ts."""
    created = (created_ts // DAY).astype("datetime64[D]")
    ref = (ref_ts // DAY).astype("datetime64[D]")
    month = created.astype("datetime64[M]")
    month_of_year = (month - created.astype("datetime64[Y]").astype("datetime64[M]")).astype(
        np.int64
    )
    day_of_month = (created - month.astype("datetime64[D]")).astype(np.int64)

    def in_year(year: np.ndarray) -> np.ndarray:
        start = year.astype("datetime64[M]") + month_of_year
        length = ((start + 1).astype("datetime64[D]") - start.astype("datetime64[D]")).astype(
            np.int64
        )
        return start.astype("datetime64[D]") + np.minimum(day_of_month, length - 1)

    year = ref.astype("datetime64[Y]")
    candidate = in_year(year)
    candidate = np.where(candidate <= ref, in_year(year + 1), candidate)
    return candidate.astype(np.int64)


def _id_width(count: int, minimum: int) -> int:
    """Digits for ids, leaving the top of the range free for orphan / unknown ids."""
    return max(minimum, len(str(2 * count + 1000)))


def _key_ids(name: str, count: int) -> pa.Array:
    """The keys of a table's `count` clean rows: acc_000001, acc_000002, ..."""
    prefix, minimum = ID_FORMAT[name]
    return _ids(prefix, np.arange(1, count + 1), _id_width(count, minimum))


# ---------------------------------------------------------------------------------------------
# Clean tables
# ---------------------------------------------------------------------------------------------


def build_accounts(cfg: Config) -> tuple[Accounts, pa.Table]:
    rng = _rng(cfg.seed, S_ACCOUNTS)
    n = cfg.accounts
    end_day_ts = _epoch_seconds(cfg.end_date)

    band = rng.random(n)
    age_days = np.select(
        [band < 0.12, band < 0.22],
        [rng.uniform(0, 90, n), rng.uniform(90, 180, n)],
        rng.uniform(180, cfg.days + 3 * 365, n),
    )
    created = np.sort(end_day_ts - age_days.astype(np.int64) * DAY + _office_seconds(rng, n, 8, 17))

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
    churn = _floor_day(churn) + _office_seconds(rng, n)
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

    renewal = _anniversary_after(created, np.minimum(churn, cfg.end_ts))
    monthly = rng.random(n) < np.array([0.5, 0.25, 0.0, 0.0])[plan]  # no renewal date
    churned_visible = churn <= cfg.end_ts

    name_parts = [
        rng.integers(0, len(words), n)
        for words in (NAME_FIRST, NAME_SECOND, NAME_TRADE, NAME_LEGAL)
    ]
    brand = pc.binary_join_element_wise(  # e.g. "BlueHarbor"
        _choose(NAME_FIRST, name_parts[0]), _choose(NAME_SECOND, name_parts[1]), ""
    )
    account_name = pc.binary_join_element_wise(  # e.g. "BlueHarbor Labs, Inc."
        brand, " ", _choose(NAME_TRADE, name_parts[2]), _choose(NAME_LEGAL, name_parts[3]), ""
    )
    ids = _key_ids("accounts", n)

    table = pa.table(
        {
            "account_id": ids,
            "account_name": account_name,
            "plan": _choose(PLANS, plan),
            "seats": _text(seats),
            "created_at": _timestamps(created),
            "renewal_date": _dates(renewal, ~monthly),
            "churned_at": _timestamps(churn, churned_visible),
            "csm_owner": _optional(pa.array(CSM_OWNERS, pa.string()), csm),
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
    rng = _rng(cfg.seed, S_USERS)
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
    created = _floor_day(created) + _office_seconds(rng, total)
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
    office = _office_seconds(rng, total)
    deact = np.where(deact < NEVER, _floor_day(deact) + office, NEVER)
    deact = np.minimum(deact, churn)

    keep = created < life_end
    order = np.lexsort((created[keep], owner[keep]))
    owner, created, deact = owner[keep][order], created[keep][order], deact[keep][order]
    start = np.searchsorted(owner, np.arange(n + 1))
    seq = np.arange(len(owner)) - start[owner]

    first_names = _choose(USER_FIRST, rng.integers(0, len(USER_FIRST), total)[keep][order])
    last_names = _choose(USER_LAST, rng.integers(0, len(USER_LAST), total)[keep][order])
    suffix = pc.if_else(pa.array(seq > 0), _text(seq + 1), "")
    letters = pc.replace_substring_regex(  # "BlueHarbor Labs, Inc." -> "blueharborlabsinc"
        pc.utf8_lower(account_names), "[^a-z]", ""
    )
    domain = pc.binary_join_element_wise(  # account number keeps domains unique
        pc.utf8_slice_codeunits(letters, 0, 20), _text(np.arange(1, n + 1)), ".example", ""
    )
    email = pc.binary_join_element_wise(
        first_names, ".", last_names, suffix, "@", domain.take(pa.array(owner)), ""
    )
    ids = _key_ids("users", len(owner))
    table = pa.table(
        {
            "user_id": ids,
            "account_id": acc.ids.take(pa.array(owner)),
            "email": email,
            "created_at": _timestamps(created),
            "deactivated_at": _timestamps(deact, deact <= cfg.end_ts),
        }
    )
    return Users(account=owner, created_ts=created, end_ts=deact, start=start, ids=ids), table


def build_invoices(cfg: Config, acc: Accounts) -> pa.Table:
    rng = _rng(cfg.seed, S_INVOICES)
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

    decline = _decline_factor(acc.decline_ts[account], acc.churn_ts[account], issued)
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
    behaviour = _sample_categorical(rng, PAYMENT_P[risk])
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
    ids = _key_ids("invoices", m)
    return pa.table(
        {
            "invoice_id": ids,
            "account_id": acc.ids.take(pa.array(account)),
            "issued_at": _timestamps(issued),
            "due_at": _timestamps(due),
            "paid_at": _timestamps(paid, status == PAID),
            "amount": _money(cents),
            "currency": _choose(("USD", "EUR"), eur[account].astype(np.int64)),
            "status": _choose(INVOICE_STATUSES, status),
        }
    )


def build_csm_ratings(cfg: Config, acc: Accounts) -> pa.Table:
    rng = _rng(cfg.seed, S_RATINGS)
    n = acc.n
    slots = cfg.days // 30 + 3
    first = cfg.start_ts - (rng.uniform(0, 60, n) * DAY).astype(np.int64)
    gaps = (rng.uniform(30, 60, (n, slots)) * DAY).astype(np.int64)
    rated = _floor_day(first[:, None] + np.cumsum(gaps, axis=1))
    rated = rated + _office_seconds(rng, (n, slots), 9, 17)
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
    decline = _decline_factor(acc.decline_ts[account], acc.churn_ts[account], rated)
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
    end_day_ts = _epoch_seconds(cfg.end_date)
    back = np.where(  # days before the end date, within the window
        expired,
        rng.uniform(30, max(30, min(90, cfg.days - 1)), k),
        rng.uniform(0, min(45, cfg.days - 1), k),
    )
    o_rated = end_day_ts - back.astype(np.int64) * DAY + _office_seconds(rng, k, 9, 17)
    o_expires = np.where(
        expired,
        _floor_day(o_rated) + rng.integers(14, 26, k) * DAY,
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
            "rated_at": _timestamps(all_rated[order]),
            "rating": _text(np.concatenate([rating, o_rating])[order]),
            "is_override": _choose(("false", "true"), is_override[order].astype(np.int64)),
            "reason": reason.take(pa.array(order)),
            "expires_at": _timestamps(expires[order], is_override[order]),
        }
    )


# ---------------------------------------------------------------------------------------------
# Events and tickets, a batch of accounts at a time
# ---------------------------------------------------------------------------------------------


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
    decline = _decline_factor(acc.decline_ts[accounts], acc.churn_ts[accounts], midday)
    alive = midday < _floor_day(acc.churn_ts[accounts])  # nothing on or after the churn day
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
    hi = np.minimum(cfg.end_ts, _floor_day(acc.churn_ts[acc_slice]) - 1)
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
    ts = cfg.start_ts + day * DAY + _office_seconds(rng, n, 7, 20)
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
    rng = _rng(cfg.seed, S_TICKET_ROWS)
    order = np.lexsort((account, opened))
    account, user, opened, declining = account[order], user[order], opened[order], declining[order]
    n = len(account)
    state = declining.astype(np.int64)
    priority = _sample_categorical(rng, PRIORITY_P[state])
    hours = RESOLVE_HOURS[priority] * np.exp(rng.normal(0.0, 0.9, n)) * np.where(declining, 2, 1)
    resolved = opened + np.maximum(600, (hours * HOUR).astype(np.int64))
    is_resolved = (resolved <= cfg.end_ts) & (rng.random(n) >= 0.02)
    csat = _sample_categorical(rng, CSAT_P[state]) + 1
    has_csat = is_resolved & (rng.random(n) < 0.5)
    ids = _key_ids("tickets", n)
    return pa.table(
        {
            "ticket_id": ids,
            "account_id": acc.ids.take(pa.array(account)),
            "user_id": _optional(users.ids, user),
            "opened_at": _timestamps(opened),
            "resolved_at": _timestamps(resolved, is_resolved),
            "priority": _choose(PRIORITIES, priority),
            "csat": _text(csat, has_csat),
        }
    )


# ---------------------------------------------------------------------------------------------
# Dirty rows
# ---------------------------------------------------------------------------------------------


@dataclass
class DirtyContext:
    clean_rows: dict[str, int]  # fresh keys are numbered after the clean rows
    user_ids: pa.Array
    user_account: np.ndarray  # account index of each user
    fresh_keys: dict[str, int] = field(default_factory=dict)  # fresh keys handed out per table

    def key_width(self, name: str) -> int:
        return _id_width(self.clean_rows[name], ID_FORMAT[name][1])


def dirty_counts(kinds: tuple[str, ...], clean_rows: int, fraction: float) -> dict[str, int]:
    """Dirty rows wanted per kind: `fraction` of the clean rows spread over the kinds."""
    if fraction <= 0 or clean_rows == 0:
        return dict.fromkeys(kinds, 0)
    per_kind = max(1, round(fraction * clean_rows / len(kinds)))
    if clean_rows >= 1000:
        per_kind = max(per_kind, 3)
    return dict.fromkeys(kinds, min(per_kind, clean_rows))


def _set(table: pa.Table, column: str, values: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(column), column, values)


def _constant(value: str | None, n: int) -> pa.Array:
    return pa.array([value] * n, pa.string())


def _with_fresh_key(
    name: str, src: pa.Table, ctx: DirtyContext, rng: np.random.Generator
) -> pa.Table:
    n = src.num_rows
    if name == "csm_ratings":  # move the rating a few hours earlier: a new grain
        rated = _parse_timestamps(src["rated_at"].combine_chunks())
        return _set(src, "rated_at", _timestamps(rated - rng.integers(HOUR, 6 * HOUR, n)))
    used = ctx.fresh_keys.get(name, 0)
    ctx.fresh_keys[name] = used + n
    numbers = ctx.clean_rows[name] + used + 1 + np.arange(n)
    prefix = ID_FORMAT[name][0]
    key = _ids(prefix, numbers, ctx.key_width(name)) if prefix else _text(numbers)
    return _set(src, TABLE_KEYS[name][0], key)


def _conflicting_values(name: str, values: pa.Array, rng: np.random.Generator) -> pa.Array:
    n = len(values)
    if name == "accounts":
        return _text(values.cast(pa.int64()).to_numpy() + rng.integers(1, 6, n))
    if name == "users":
        return pc.binary_join_element_wise("alt.", values, "")
    if name == "events":
        index = pc.index_in(values, pa.array(FEATURES)).to_numpy(zero_copy_only=False)
        return _choose(FEATURES, (index + rng.integers(1, len(FEATURES), n)) % len(FEATURES))
    if name == "invoices":
        cents = np.rint(values.cast(pa.float64()).to_numpy() * 100).astype(np.int64)
        return _money(cents + np.maximum(100, cents // 10))
    if name == "tickets":
        index = pc.index_in(values, pa.array(PRIORITIES)).to_numpy(zero_copy_only=False)
        return _choose(PRIORITIES, (index + rng.integers(1, 4, n)) % 4)
    rating = values.cast(pa.int64()).to_numpy()
    return _text((rating + rng.integers(10, 41, n)) % 101)


def _in_2099(name: str, src: pa.Table) -> pa.Table:
    """Move the main timestamp to the year 2099, keeping dependent columns consistent."""
    column = MAIN_TIMESTAMP[name]
    ts = _parse_timestamps(src[column].combine_chunks())
    year_start = ts.astype("datetime64[s]").astype("datetime64[Y]").astype("datetime64[D]")
    shift = (np.datetime64("2099-01-01") - year_start).astype(np.int64) * DAY
    out = _set(src, column, _timestamps(ts + shift))
    n = src.num_rows
    if name == "accounts":
        out = _set(_set(out, "renewal_date", _constant(None, n)), "churned_at", _constant(None, n))
    elif name == "users":
        out = _set(out, "deactivated_at", _constant(None, n))
    elif name == "invoices":
        out = _set(out, "due_at", _timestamps(ts + shift + 30 * DAY))
        out = _set(_set(out, "paid_at", _constant(None, n)), "status", _constant("open", n))
    elif name == "tickets":
        out = _set(_set(out, "resolved_at", _constant(None, n)), "csat", _constant(None, n))
    elif name == "csm_ratings":
        out = _set(out, "is_override", _constant("false", n))
        out = _set(_set(out, "reason", _constant(None, n)), "expires_at", _constant(None, n))
    return out


def _dirty_rows(
    name: str, kind: str, src: pa.Table, ctx: DirtyContext, rng: np.random.Generator
) -> pa.Table:
    n = src.num_rows
    if kind == "exact_duplicate":
        return src
    if kind == "conflicting_duplicate":
        column = CONFLICT_COLUMN[name]
        return _set(src, column, _conflicting_values(name, src[column].combine_chunks(), rng))
    if kind == "null_key":
        return _set(src, TABLE_KEYS[name][0], _constant(None, n))
    out = _with_fresh_key(name, src, ctx, rng)
    if kind == "orphan_account":
        width = ctx.key_width("accounts")
        numbers = 10**width - 1 - rng.integers(0, max(1, n // 2), n)
        return _set(out, "account_id", _ids("acc_", numbers, width))
    if kind == "unknown_user":
        width = ctx.key_width("users")
        numbers = 10**width - 1 - rng.integers(0, max(1, n // 2), n)
        return _set(out, "user_id", _ids("usr_", numbers, width))
    if kind == "user_account_mismatch":
        account = pc.utf8_slice_codeunits(out["account_id"], 4).cast(pa.int64()).to_numpy() - 1
        user = rng.integers(0, len(ctx.user_account), n)
        for _ in range(20):
            same = ctx.user_account[user] == account
            if not same.any():
                break
            user[same] = rng.integers(0, len(ctx.user_account), int(same.sum()))
        out = _set(out, "user_id", ctx.user_ids.take(pa.array(user)))
        return out.filter(pa.array(ctx.user_account[user] != account))
    if kind == "unparseable_timestamp":
        bad = _choose(BAD_TIMESTAMPS, rng.integers(0, len(BAD_TIMESTAMPS), n))
        return _set(out, MAIN_TIMESTAMP[name], bad)
    if kind == "future_timestamp":
        return _in_2099(name, out)
    if kind == "unknown_enum":
        column, value = UNKNOWN_ENUM[name]
        return _set(out, column, _constant(value, n))
    if kind == "negative_seats":
        return _set(out, "seats", _text(-rng.integers(1, 50, n)))
    if kind == "negative_amount":
        return _set(out, "amount", pc.binary_join_element_wise("-", out["amount"], ""))
    if kind == "non_numeric_amount":
        return _set(out, "amount", _choose(BAD_AMOUNTS, rng.integers(0, len(BAD_AMOUNTS), n)))
    if kind == "csat_out_of_range":
        return _set(out, "csat", _choose(("0", "7"), rng.integers(0, 2, n)))
    if kind == "rating_out_of_range":
        return _set(out, "rating", _choose(("-5", "150"), rng.integers(0, 2, n)))
    if kind == "resolved_before_opened":
        opened = _parse_timestamps(out["opened_at"].combine_chunks())
        resolved = opened - rng.integers(HOUR, 72 * HOUR, n)
        return _set(out, "resolved_at", _timestamps(resolved))
    raise ValueError(f"unknown dirty kind {kind!r} for table {name}")


def make_dirty(
    name: str,
    sources: pa.Table,
    clean_rows: int,
    fraction: float,
    ctx: DirtyContext,
    rng: np.random.Generator,
) -> tuple[pa.Table, dict[str, int]]:
    """Dirty rows for a table, built from random rows of `sources` (clean rows).

    Returns the rows, shuffled, and the number of rows per kind.
    """
    kinds = DIRTY_KINDS[name]
    wanted = dirty_counts(kinds, clean_rows, fraction)
    resolved = np.ones(sources.num_rows, bool)
    if name == "tickets" and sources.num_rows:
        resolved = sources["resolved_at"].is_valid().to_numpy(zero_copy_only=False)
    parts: list[pa.Table] = []
    labels: list[np.ndarray] = []
    for number, kind in enumerate(kinds):
        needs_resolved = kind in ("csat_out_of_range", "resolved_before_opened")
        candidates = np.flatnonzero(resolved) if needs_resolved and resolved.any() else None
        if candidates is None:
            candidates = np.arange(sources.num_rows)
        take = min(wanted[kind], len(candidates))
        if take == 0:
            continue
        chosen = np.sort(rng.choice(candidates, take, replace=False))
        rows = _dirty_rows(name, kind, sources.take(pa.array(chosen)), ctx, rng)
        parts.append(rows)
        labels.append(np.full(rows.num_rows, number))
    if not parts:
        return _empty(name), dict.fromkeys(kinds, 0)
    dirty = pa.concat_tables(parts)
    label = np.concatenate(labels)
    if name == "csm_ratings":  # fresh grains must not collide with any other row's
        keep = _fresh_grain_is_unique(sources, dirty, label, kinds)
        dirty, label = dirty.filter(pa.array(keep)), label[keep]
    order = rng.permutation(dirty.num_rows)
    counts = {kind: int((label == number).sum()) for number, kind in enumerate(kinds)}
    return dirty.take(pa.array(order)), counts


def _fresh_grain_is_unique(
    clean: pa.Table, dirty: pa.Table, label: np.ndarray, kinds: tuple[str, ...]
) -> np.ndarray:
    fresh = ~np.isin(label, [kinds.index(k) for k in _COMMON_KINDS])
    seen = set(zip(clean["account_id"].to_pylist(), clean["rated_at"].to_pylist(), strict=True))
    keep = np.ones(dirty.num_rows, bool)
    for i, key in enumerate(
        zip(dirty["account_id"].to_pylist(), dirty["rated_at"].to_pylist(), strict=True)
    ):
        if fresh[i]:
            keep[i] = key not in seen
            seen.add(key)
    return keep


def _empty(name: str) -> pa.Table:
    return pa.table({c: pa.array([], pa.string()) for c in TABLE_COLUMNS[name]})


def _interleave(clean: pa.Table, dirty: pa.Table, rng: np.random.Generator) -> pa.Table:
    """The clean rows in order, with the dirty rows slipped in at random places."""
    position = np.concatenate(
        [
            np.arange(clean.num_rows, dtype=np.float64),
            rng.random(dirty.num_rows) * max(clean.num_rows, 1),
        ]
    )
    order = np.argsort(position, kind="stable")
    return pa.concat_tables([clean, dirty]).take(pa.array(order))


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


class TableWriter:
    """Writes one table in chunks to a temporary file, renamed into place on success."""

    def __init__(self, cfg: Config, name: str) -> None:
        self.name = name
        self.path = cfg.out / f"{name}.{cfg.fmt}"
        self.rows = 0
        self._tmp = cfg.out / f".{name}.{cfg.fmt}.tmp"
        self._schema = pa.schema([(column, pa.string()) for column in TABLE_COLUMNS[name]])
        self._writer: pq.ParquetWriter | pacsv.CSVWriter
        if cfg.fmt == "parquet":
            self._writer = pq.ParquetWriter(self._tmp, self._schema, compression="zstd")
        else:
            self._writer = pacsv.CSVWriter(self._tmp, self._schema)

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._writer.close()
        if exc_type is None:
            os.replace(self._tmp, self.path)
        else:
            self._tmp.unlink(missing_ok=True)

    def write(self, table: pa.Table) -> None:
        if table.schema != self._schema:
            raise ValueError(f"{self.name}: schema {table.schema} is not the raw contract")
        if table.num_rows:
            self._writer.write_table(table)
            self.rows += table.num_rows


def _write(cfg: Config, name: str, table: pa.Table, chunk_rows: int = 1_000_000) -> Path:
    with TableWriter(cfg, name) as writer:
        for offset in range(0, table.num_rows, chunk_rows):
            writer.write(table.slice(offset, chunk_rows))
    return writer.path


def _events_table(
    acc: Accounts,
    users: Users,
    first_id: int,
    account: np.ndarray,
    user: np.ndarray,
    feature: np.ndarray,
    ts: np.ndarray,
) -> pa.Table:
    return pa.table(
        {
            "event_id": _text(np.arange(first_id, first_id + len(account))),
            "account_id": acc.ids.take(pa.array(account)),
            "user_id": users.ids.take(pa.array(user)),
            "event_name": _choose(FEATURES, feature),
            "occurred_at": _timestamps(ts),
        }
    )


def write_events(
    cfg: Config, acc: Accounts, users: Users, ctx: DirtyContext
) -> tuple[Path, int, int, dict[str, int], tuple[np.ndarray, ...]]:
    """Stream the events out a batch of accounts at a time, dirty rows last.

    Returns the path, rows written, clean rows, dirty rows per kind, and the tickets' columns
    (drawn per batch too, as they share the batch's daily state).
    """
    pool: list[pa.Table] = []  # a sample of clean rows to copy the dirty rows from
    tickets: list[tuple[np.ndarray, ...]] = []
    next_event = 1
    with TableWriter(cfg, "events") as writer:
        for number, a0 in enumerate(range(0, acc.n, BATCH_ACCOUNTS)):
            batch = prepare_batch(cfg, acc, users, a0, min(acc.n, a0 + BATCH_ACCOUNTS))
            columns = batch_events(cfg, acc, users, batch, _rng(cfg.seed, S_EVENTS, number))
            table = _events_table(acc, users, next_event, *columns)
            writer.write(table)
            next_event += table.num_rows
            if cfg.dirty_fraction > 0:
                size = int(np.ceil(table.num_rows * cfg.dirty_fraction / 3)) + 20
                rows = _rng(cfg.seed, S_DIRTY_POOL, number).choice(
                    table.num_rows, min(size, table.num_rows), replace=False
                )
                pool.append(table.take(pa.array(np.sort(rows))))
            tickets.append(batch_tickets(cfg, acc, users, batch, _rng(cfg.seed, S_TICKETS, number)))
        ctx.clean_rows["events"] = next_event - 1
        sources = pa.concat_tables(pool) if pool else _empty("events")
        dirty, counts = make_dirty(
            "events", sources, next_event - 1, cfg.dirty_fraction, ctx, _dirty_rng(cfg, "events")
        )
        for offset in range(0, dirty.num_rows, 1_000_000):
            writer.write(dirty.slice(offset, 1_000_000))
    ticket_columns = tuple(np.concatenate([part[i] for part in tickets]) for i in range(4))
    return writer.path, writer.rows, next_event - 1, counts, ticket_columns


def generate(cfg: Config) -> dict[str, object]:
    """Write the six tables and the manifest to cfg.out; returns the manifest."""
    try:
        cfg.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GeneratorError(f"cannot create output directory {cfg.out}: {exc.strerror}") from exc
    if not os.access(cfg.out, os.W_OK):
        raise GeneratorError(f"output directory {cfg.out} is not writable")

    acc, accounts = build_accounts(cfg)
    users, users_table = build_users(cfg, acc, accounts["account_name"].combine_chunks())
    ctx = DirtyContext(clean_rows={}, user_ids=users.ids, user_account=users.account)
    stats: dict[str, dict[str, object]] = {}

    def record(name: str, path: Path, rows: int, clean_rows: int, dirty: dict[str, int]) -> None:
        stats[name] = {"file": path.name, "rows": rows, "clean_rows": clean_rows, "dirty": dirty}
        print(f"{name:<12} {rows:>12,} rows ({clean_rows:,} clean) -> {path}")

    def write_whole(name: str, clean: pa.Table) -> None:
        """A table built in memory: dirty rows slipped in at random places, written at once."""
        ctx.clean_rows[name] = clean.num_rows
        rng = _dirty_rng(cfg, name)
        dirty, counts = make_dirty(name, clean, clean.num_rows, cfg.dirty_fraction, ctx, rng)
        path = _write(cfg, name, _interleave(clean, dirty, rng))
        record(name, path, clean.num_rows + dirty.num_rows, clean.num_rows, counts)

    write_whole("accounts", accounts)  # accounts and users first: the others' dirty rows
    write_whole("users", users_table)  # need their key widths
    del accounts, users_table  # free the memory before the events
    write_whole("invoices", build_invoices(cfg, acc))
    write_whole("csm_ratings", build_csm_ratings(cfg, acc))

    events_path, rows, clean_events, counts, tickets = write_events(cfg, acc, users, ctx)
    record("events", events_path, rows, clean_events, counts)
    write_whole("tickets", build_tickets(cfg, acc, users, *tickets))

    after_end = acc.archetype == CHURNING_AFTER_END
    manifest: dict[str, object] = {
        "generator": "scripts/generate_demo_data.py",
        "arguments": {
            "accounts": cfg.accounts,
            "days": cfg.days,
            "format": cfg.fmt,
            "seed": cfg.seed,
            "end_date": cfg.end_date.isoformat(),
            "dirty_fraction": cfg.dirty_fraction,
        },
        "window": {"start_date": cfg.start_date.isoformat(), "end_date": cfg.end_date.isoformat()},
        "tables": {name: stats[name] for name in TABLE_COLUMNS},
        "ground_truth": {
            "archetypes": {
                label: int((acc.archetype == i).sum()) for i, label in enumerate(ARCHETYPES)
            },
            "churning_after_end_date": acc.ids.filter(pa.array(after_end)).to_pylist(),
        },
    }
    manifest_path = cfg.out / "_manifest.json"
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"{'manifest':<12} {'':>12}      -> {manifest_path}")
    return manifest


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def _int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is less than {minimum}")
        return value

    return parse


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 0.5:
        raise argparse.ArgumentTypeError(f"{value} is not between 0 and 0.5")
    return value


def parse_args(argv: list[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(
        description="Write deterministic demo data for the customer-health raw tables."
    )
    parser.add_argument(
        "--accounts", type=_int_at_least(1), default=300, help="number of accounts (default 300)"
    )
    parser.add_argument(
        "--days",
        type=_int_at_least(1),
        default=365,
        help="days of activity ending on --end-date (default 365)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("data/raw"), help="output directory (default data/raw)"
    )
    parser.add_argument(
        "--format",
        choices=("parquet", "csv"),
        default="parquet",
        help="file format (default parquet)",
    )
    parser.add_argument(
        "--seed", type=_int_at_least(0), default=42, help="random seed (default 42)"
    )
    parser.add_argument(
        "--end-date",
        type=_iso_date,
        default=date(2026, 10, 31),
        help="last day of the data, YYYY-MM-DD (default 2026-10-31)",
    )
    parser.add_argument(
        "--dirty-fraction",
        type=_fraction,
        default=0.01,
        help="extra dirty rows per table, as a fraction of its clean rows "
        "(default 0.01; 0 for none)",
    )
    args = parser.parse_args(argv)
    return Config(
        accounts=args.accounts,
        days=args.days,
        out=args.out,
        fmt=args.format,
        seed=args.seed,
        end_date=args.end_date,
        dirty_fraction=args.dirty_fraction,
    )


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(argv)  # bad arguments: argparse prints usage and exits with code 2
    try:
        generate(cfg)
    except (GeneratorError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
