"""Small numpy and Arrow helpers: seeded generators, ids, text columns."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from scripts.demo_generator.config import Config
from scripts.demo_generator.constants import DAY, HOUR, ID_FORMAT, NEVER, S_DIRTY, TABLE_COLUMNS


def seeded_rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, *stream])


def dirty_rng(cfg: Config, table: str) -> np.random.Generator:
    return seeded_rng(cfg.seed, S_DIRTY, list(TABLE_COLUMNS).index(table))


def floor_day(ts: np.ndarray) -> np.ndarray:
    return ts - ts % DAY


def office_seconds(
    rng: np.random.Generator, size: int | tuple[int, ...], first: float = 8.0, last: float = 18.0
) -> np.ndarray:
    return (rng.uniform(first, last, size) * HOUR).astype(np.int64)


def id_array(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pa.array(numbers, pa.int64()).cast(pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def text_array(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    mask = None if valid is None else ~valid
    return pa.array(values, pa.int64(), mask=mask).cast(pa.string())


def timestamp_array(ts: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    mask = None if valid is None else ~valid
    return pa.array(np.where(ts >= NEVER, 0, ts), pa.timestamp("s"), mask=mask).cast(pa.string())


def date_array(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    mask = None if valid is None else ~valid
    return pa.array(days.astype(np.int32), pa.date32(), mask=mask).cast(pa.string())


def money_array(cents: np.ndarray) -> pa.Array:
    whole = pa.array(cents // 100, pa.int64()).cast(pa.string())
    part = pc.utf8_lpad(pa.array(cents % 100, pa.int64()).cast(pa.string()), width=2, padding="0")
    return pc.binary_join_element_wise(whole, part, ".")


def choose(labels: tuple[str, ...], index: np.ndarray) -> pa.Array:
    return pa.array(labels, pa.string()).take(pa.array(index, pa.int64()))


def optional_labels(labels: pa.Array, index: np.ndarray) -> pa.Array:
    """labels[index], null where index is negative."""
    index = np.asarray(index, np.int64)
    return labels.take(pa.array(index, pa.int64(), mask=index < 0))


def parse_timestamps(values: pa.Array) -> np.ndarray:
    parsed = pc.strptime(values, format="%Y-%m-%d %H:%M:%S", unit="s")
    return parsed.cast(pa.int64()).to_numpy(zero_copy_only=False)


def sample_categorical(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One draw per row of a (rows, categories) probability matrix."""
    cum = np.cumsum(probabilities, axis=1)
    draw = rng.random(len(probabilities))[:, None] * cum[:, -1:]
    return np.minimum((draw >= cum).sum(axis=1), probabilities.shape[1] - 1)


def decline_factor(decline_ts: np.ndarray, churn_ts: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """1 before the decline starts, falling linearly to 0.1 at churn (arrays broadcast)."""
    span = np.maximum(churn_ts - decline_ts, 1).astype(np.float64)
    progress = (ts - decline_ts) / span
    return np.where(ts < decline_ts, 1.0, np.clip(1.0 - 0.9 * progress, 0.1, 1.0))


def anniversary_after(created_ts: np.ndarray, ref_ts: np.ndarray) -> np.ndarray:
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


def id_width(count: int, minimum: int) -> int:
    """Digits for ids, leaving the top of the range free for orphan / unknown ids."""
    return max(minimum, len(str(2 * count + 1000)))


def key_ids(name: str, count: int) -> pa.Array:
    """The keys of a table's `count` clean rows: acc_000001, acc_000002, ..."""
    prefix, minimum = ID_FORMAT[name]
    return id_array(prefix, np.arange(1, count + 1), id_width(count, minimum))
