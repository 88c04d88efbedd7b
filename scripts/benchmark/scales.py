"""The named data scales (the generator writes about 1,000 events per account per 365 days)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

# Accounts per bucket of the models built in account buckets (var account_buckets,
# README "Performance"). At M (models only, 12 GB): 2 buckets of 5,000 accounts 310.7 s,
# 10 of 1,000 221.8 s, 20 of 500 221.7 s, 60 of 167 290.5 s (DECISIONLOG, Performance).
ACCOUNTS_PER_BUCKET = 1_000
# Raw events per key bucket of the staged events (var events_key_buckets): a daily run
# parses again the buckets its new events fall in, about this many rows per new event,
# and compares every bucket's fingerprint; the power of two nearest events / 10.
EVENTS_PER_KEY_BUCKET = 10


@dataclass(frozen=True)
class Scale:
    """Arguments of scripts/generate_demo_data.py for one named scale."""

    name: str
    accounts: int
    days: int
    approx_events: int

    @property
    def account_buckets(self) -> int:
        """The var account_buckets the benchmark builds this scale with."""
        return max(1, math.ceil(self.accounts / ACCOUNTS_PER_BUCKET))

    @property
    def events_key_buckets(self) -> int:
        """The var events_key_buckets the benchmark builds this scale with."""
        return 2 ** max(0, round(math.log2(self.approx_events / EVENTS_PER_KEY_BUCKET)))

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "accounts": self.accounts,
            "days": self.days,
            "approx_events": self.approx_events,
            "account_buckets": self.account_buckets,
            "events_key_buckets": self.events_key_buckets,
        }


SCALES: dict[str, Scale] = {
    # XS: tests, and dbt's fixed cost (the same build on a tiny data set)
    "XS": Scale("XS", accounts=50, days=60, approx_events=8_000),
    "S": Scale("S", accounts=1_000, days=365, approx_events=1_000_000),
    "M": Scale("M", accounts=10_000, days=365, approx_events=10_000_000),
    "L": Scale("L", accounts=100_000, days=365, approx_events=100_000_000),
}

# The last day of the data before the appended day (the generator's default end date).
DEFAULT_END_DATE = date(2026, 10, 31)
DEFAULT_SEED = 42
