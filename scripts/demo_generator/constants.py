"""The raw contract (tables, columns, keys, defects) and the parameters of the demo world."""

from __future__ import annotations

import numpy as np

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
COMMON_KINDS = ("exact_duplicate", "conflicting_duplicate", "null_key")
_TS_KINDS = ("unparseable_timestamp", "future_timestamp")
DIRTY_KINDS: dict[str, tuple[str, ...]] = {
    "accounts": (*COMMON_KINDS, *_TS_KINDS, "unknown_enum", "negative_seats"),
    "users": (*COMMON_KINDS, "orphan_account", *_TS_KINDS),
    "events": (
        *COMMON_KINDS,
        "orphan_account",
        "unknown_user",
        "user_account_mismatch",
        *_TS_KINDS,
        "unknown_enum",
    ),
    "invoices": (
        *COMMON_KINDS,
        "orphan_account",
        *_TS_KINDS,
        "unknown_enum",
        "negative_amount",
        "non_numeric_amount",
    ),
    "tickets": (
        *COMMON_KINDS,
        "orphan_account",
        *_TS_KINDS,
        "unknown_enum",
        "csat_out_of_range",
        "resolved_before_opened",
    ),
    "csm_ratings": (*COMMON_KINDS, "orphan_account", *_TS_KINDS, "rating_out_of_range"),
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
