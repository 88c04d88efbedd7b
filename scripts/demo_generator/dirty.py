"""Dirty rows: modified copies of clean rows, one defect each."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from scripts.demo_generator.arrays import (
    choose,
    id_array,
    id_width,
    money_array,
    parse_timestamps,
    text_array,
    timestamp_array,
)
from scripts.demo_generator.constants import (
    BAD_AMOUNTS,
    BAD_TIMESTAMPS,
    COMMON_KINDS,
    CONFLICT_COLUMN,
    DAY,
    DIRTY_KINDS,
    FEATURES,
    HOUR,
    ID_FORMAT,
    MAIN_TIMESTAMP,
    PRIORITIES,
    TABLE_COLUMNS,
    TABLE_KEYS,
    UNKNOWN_ENUM,
)


@dataclass
class DirtyContext:
    clean_rows: dict[str, int]  # fresh keys are numbered after the clean rows
    user_ids: pa.Array
    user_account: np.ndarray  # account index of each user
    fresh_keys: dict[str, int] = field(default_factory=dict)  # fresh keys handed out per table

    def key_width(self, name: str) -> int:
        return id_width(self.clean_rows[name], ID_FORMAT[name][1])


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
        rated = parse_timestamps(src["rated_at"].combine_chunks())
        return _set(src, "rated_at", timestamp_array(rated - rng.integers(HOUR, 6 * HOUR, n)))
    used = ctx.fresh_keys.get(name, 0)
    ctx.fresh_keys[name] = used + n
    numbers = ctx.clean_rows[name] + used + 1 + np.arange(n)
    prefix = ID_FORMAT[name][0]
    key = id_array(prefix, numbers, ctx.key_width(name)) if prefix else text_array(numbers)
    return _set(src, TABLE_KEYS[name][0], key)


def _conflicting_values(name: str, values: pa.Array, rng: np.random.Generator) -> pa.Array:
    n = len(values)
    if name == "accounts":
        return text_array(values.cast(pa.int64()).to_numpy() + rng.integers(1, 6, n))
    if name == "users":
        return pc.binary_join_element_wise("alt.", values, "")
    if name == "events":
        index = pc.index_in(values, pa.array(FEATURES)).to_numpy(zero_copy_only=False)
        return choose(FEATURES, (index + rng.integers(1, len(FEATURES), n)) % len(FEATURES))
    if name == "invoices":
        cents = np.rint(values.cast(pa.float64()).to_numpy() * 100).astype(np.int64)
        return money_array(cents + np.maximum(100, cents // 10))
    if name == "tickets":
        index = pc.index_in(values, pa.array(PRIORITIES)).to_numpy(zero_copy_only=False)
        return choose(PRIORITIES, (index + rng.integers(1, 4, n)) % 4)
    rating = values.cast(pa.int64()).to_numpy()
    return text_array((rating + rng.integers(10, 41, n)) % 101)


def _in_2099(name: str, src: pa.Table) -> pa.Table:
    """Move the main timestamp to the year 2099, keeping dependent columns consistent."""
    column = MAIN_TIMESTAMP[name]
    ts = parse_timestamps(src[column].combine_chunks())
    year_start = ts.astype("datetime64[s]").astype("datetime64[Y]").astype("datetime64[D]")
    shift = (np.datetime64("2099-01-01") - year_start).astype(np.int64) * DAY
    out = _set(src, column, timestamp_array(ts + shift))
    n = src.num_rows
    if name == "accounts":
        out = _set(_set(out, "renewal_date", _constant(None, n)), "churned_at", _constant(None, n))
    elif name == "users":
        out = _set(out, "deactivated_at", _constant(None, n))
    elif name == "invoices":
        out = _set(out, "due_at", timestamp_array(ts + shift + 30 * DAY))
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
        return _set(out, "account_id", id_array("acc_", numbers, width))
    if kind == "unknown_user":
        width = ctx.key_width("users")
        numbers = 10**width - 1 - rng.integers(0, max(1, n // 2), n)
        return _set(out, "user_id", id_array("usr_", numbers, width))
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
        bad = choose(BAD_TIMESTAMPS, rng.integers(0, len(BAD_TIMESTAMPS), n))
        return _set(out, MAIN_TIMESTAMP[name], bad)
    if kind == "future_timestamp":
        return _in_2099(name, out)
    if kind == "unknown_enum":
        column, value = UNKNOWN_ENUM[name]
        return _set(out, column, _constant(value, n))
    if kind == "negative_seats":
        return _set(out, "seats", text_array(-rng.integers(1, 50, n)))
    if kind == "negative_amount":
        return _set(out, "amount", pc.binary_join_element_wise("-", out["amount"], ""))
    if kind == "non_numeric_amount":
        return _set(out, "amount", choose(BAD_AMOUNTS, rng.integers(0, len(BAD_AMOUNTS), n)))
    if kind == "csat_out_of_range":
        return _set(out, "csat", choose(("0", "7"), rng.integers(0, 2, n)))
    if kind == "rating_out_of_range":
        return _set(out, "rating", choose(("-5", "150"), rng.integers(0, 2, n)))
    if kind == "resolved_before_opened":
        opened = parse_timestamps(out["opened_at"].combine_chunks())
        resolved = opened - rng.integers(HOUR, 72 * HOUR, n)
        return _set(out, "resolved_at", timestamp_array(resolved))
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
        return empty_table(name), dict.fromkeys(kinds, 0)
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
    fresh = ~np.isin(label, [kinds.index(k) for k in COMMON_KINDS])
    seen = set(zip(clean["account_id"].to_pylist(), clean["rated_at"].to_pylist(), strict=True))
    keep = np.ones(dirty.num_rows, bool)
    for i, key in enumerate(
        zip(dirty["account_id"].to_pylist(), dirty["rated_at"].to_pylist(), strict=True)
    ):
        if fresh[i]:
            keep[i] = key not in seen
            seen.add(key)
    return keep


def empty_table(name: str) -> pa.Table:
    return pa.table({c: pa.array([], pa.string()) for c in TABLE_COLUMNS[name]})


def interleave(clean: pa.Table, dirty: pa.Table, rng: np.random.Generator) -> pa.Table:
    """The clean rows in order, with the dirty rows slipped in at random places."""
    position = np.concatenate(
        [
            np.arange(clean.num_rows, dtype=np.float64),
            rng.random(dirty.num_rows) * max(clean.num_rows, 1),
        ]
    )
    order = np.argsort(position, kind="stable")
    return pa.concat_tables([clean, dirty]).take(pa.array(order))
