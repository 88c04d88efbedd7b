"""Per-account and per-user arrays shared by the table builders."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa


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
