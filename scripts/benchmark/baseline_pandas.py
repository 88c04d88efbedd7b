"""Plain-pandas baseline: the latest-date health scores, computed in memory.

Written apart from the dbt models (the rules of domain.md and README "Scoring"), for clean
raw data (the benchmark generates it with ``--dirty-fraction 0``: no quarantine here).
Dates are day numbers (days since 1970-01-01) so that windows are integer comparisons.

Run alone: ``python -m scripts.benchmark.baseline_pandas RAW_DIR SEEDS_DIR OUT.parquet``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

# Metrics whose computation is written out below; any other catalog row is an event aggregation.
BUILTIN = frozenset(
    {
        "active_users",
        "events_per_active_user",
        "days_since_last_activity",
        "usage_trend",
        "onboarding_goal",
        "overdue_invoices",
        "avg_days_to_pay",
        "open_tickets_per_user",
        "median_resolution_hours",
        "avg_csat",
        "days_since_csm_contact",
        "csm_rating",
    }
)
SCORE_COLUMNS = ["account_id", "as_of_date", "computed_score", "health_score", "band"]


def _ts(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, format="%Y-%m-%d %H:%M:%S")


def _day(values: pd.Series) -> pd.Series:
    """Timestamp text -> day number (NaN where null)."""
    ts = _ts(values)
    return (ts.dt.floor("D") - pd.Timestamp("1970-01-01")).dt.days


def _seed(seeds_dir: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(seeds_dir / f"{name}.csv", dtype=str)


def _specificity(segment: pd.Series, stage: pd.Series) -> pd.Series:
    return (segment == "*").astype(int) * 2 + (stage == "*").astype(int)


def _most_specific(rows: pd.DataFrame, keys: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per key (segment, stage) and `by`, the row of `rows` naming it most specifically."""
    pairs = keys.merge(rows, how="cross", suffixes=("", "_row"))
    pairs = pairs[pairs["segment_row"].isin(["*"]) | (pairs["segment_row"] == pairs["segment"])]
    pairs = pairs[
        (pairs["lifecycle_stage_row"] == "*") | (pairs["lifecycle_stage_row"] == pairs["stage"])
    ]
    pairs = pairs.assign(
        rank=_specificity(pairs["segment_row"], pairs["lifecycle_stage_row"])
    ).sort_values("rank", kind="stable")
    return pairs.drop_duplicates(["segment", "stage", *by], keep="first")


class Inputs:
    """The raw tables and seeds, parsed once."""

    def __init__(self, raw_dir: Path, seeds_dir: Path) -> None:
        events = pd.read_parquet(
            raw_dir / "events.parquet",
            columns=["account_id", "user_id", "event_name", "occurred_at"],
        )
        events["d"] = _day(events["occurred_at"])
        events["event_name"] = events["event_name"].str.lower()
        self.aud = (
            events.groupby(["account_id", "user_id", "d", "event_name"], observed=True)
            .size()
            .rename("n")
            .reset_index()
        )
        del events
        self.as_of = int(self.aud["d"].max())
        self.accounts = pd.read_parquet(raw_dir / "accounts.parquet")
        self.users = pd.read_parquet(raw_dir / "users.parquet")
        self.invoices = pd.read_parquet(raw_dir / "invoices.parquet")
        self.tickets = pd.read_parquet(raw_dir / "tickets.parquet")
        self.ratings = pd.read_parquet(raw_dir / "csm_ratings.parquet")
        self.catalog = _seed(seeds_dir, "metric_catalog")
        self.catalog["w"] = self.catalog["window_days"].astype(int)
        self.catalog["grp"] = self.catalog["measure_group"].fillna(self.catalog["signal_category"])
        self.catalog["event_name"] = self.catalog["event_name"].str.lower()
        self.scorecard = _seed(seeds_dir, "scorecard")
        self.weight_levels = _seed(seeds_dir, "weight_levels")
        self.plan_segments = _seed(seeds_dir, "plan_segments")
        self.group_weights = _seed(seeds_dir, "group_weights")
        self.bands = _seed(seeds_dir, "score_bands")


def accounts_in_scope(inp: Inputs) -> pd.DataFrame:
    acc = inp.accounts
    created = _day(acc["created_at"])
    churned = _day(acc["churned_at"])
    age = inp.as_of - created
    out = pd.DataFrame(
        {
            "account_id": acc["account_id"],
            "seats": pd.to_numeric(acc["seats"]).astype(float),
            "created_on": created,
            "age": age,
            "stage": np.where(age < 90, "onboarding", np.where(age < 180, "adoption", "mature")),
            "segment": acc["plan"].map(inp.plan_segments.set_index("plan")["segment"]),
        }
    )
    keep = (age >= 0) & ~(churned < inp.as_of)
    return out[keep.to_numpy()].set_index("account_id")


def activity(inp: Inputs, index: pd.Index, w: int) -> pd.DataFrame:
    """Per account, over the w days ending on as_of: users, events, last day; events before."""
    aud, as_of = inp.aud, inp.as_of
    cur = aud[(aud["d"] > as_of - w) & (aud["d"] <= as_of)]
    prev = aud[(aud["d"] > as_of - 2 * w) & (aud["d"] <= as_of - w)]
    grouped = cur.groupby("account_id")
    out = pd.DataFrame(
        {
            "users": grouped["user_id"].nunique(),
            "events": grouped["n"].sum(),
            "last_d": grouped["d"].max(),
        }
    ).reindex(index)
    out["users"] = out["users"].fillna(0)
    out["events"] = out["events"].fillna(0)
    out["prev_events"] = prev.groupby("account_id")["n"].sum().reindex(index).fillna(0)
    return out


def _in_window(days: pd.Series, as_of: int, w: int) -> pd.Series:
    return (days > as_of - w) & (days <= as_of)


def raw_values(inp: Inputs, acc: pd.DataFrame, act: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """The raw value of every catalog metric for every account in scope (NaN = no data)."""
    as_of, idx = inp.as_of, acc.index
    inv = inp.invoices[~inp.invoices["status"].isin(["draft", "void"])]
    inv_issued, inv_paid = _day(inv["issued_at"]), _day(inv["paid_at"])
    tk = inp.tickets
    tk_opened, tk_resolved = _day(tk["opened_at"]), _day(tk["resolved_at"])
    rt = inp.ratings
    rt_day = _day(rt["rated_at"])
    is_override = rt["is_override"].str.lower() == "true"
    values: dict[str, pd.Series] = {}
    for row in inp.catalog.itertuples():
        m, w = row.metric_id, row.w
        a = act[w]
        if m == "active_users":
            v = a["users"]
        elif m == "events_per_active_user":
            v = a["events"]
        elif m == "days_since_last_activity":
            v = as_of - a["last_d"]
        elif m == "usage_trend":
            trend = 100.0 * (a["events"] - a["prev_events"]) / a["prev_events"].replace(0, np.nan)
            v = trend.where(acc["created_on"] <= as_of - 2 * w + 1)
        elif m == "onboarding_goal":
            first = inp.aud.groupby(["account_id", "user_id"])["d"].min().reset_index()
            first = first[first["d"] <= as_of]
            deact = _day(inp.users.set_index("user_id")["deactivated_at"])
            active = ~(first["user_id"].map(deact) <= as_of)
            n = first[active.to_numpy()].groupby("account_id").size().reindex(idx).fillna(0)
            pace = np.where(acc["age"] >= w, 1.0, acc["age"] / w)
            due = (float(row.goal_target) * pd.Series(pace, index=idx)).replace(0, np.nan)
            v = 100.0 * (n / acc["seats"].replace(0, np.nan)) / due
        elif m == "overdue_invoices":
            sel = _in_window(inv_issued, as_of, w)
            due, paid = _day(inv["due_at"]), inv_paid
            open_late = ~((due >= as_of) | (paid <= as_of))
            v = open_late[sel].astype(float).groupby(inv["account_id"][sel]).sum()
        elif m == "avg_days_to_pay":
            sel = _in_window(inv_paid, as_of, w)
            days = (inv_paid - _day(inv["issued_at"]))[sel]
            v = days.groupby(inv["account_id"][sel]).mean()
        elif m == "open_tickets_per_user":
            sel = _in_window(tk_opened, as_of, w) & ~(tk_resolved <= as_of)
            v = tk["account_id"][sel].value_counts().reindex(idx).fillna(0)
        elif m in ("median_resolution_hours", "avg_csat"):
            sel = _in_window(tk_resolved, as_of, w)
            if m == "median_resolution_hours":
                seconds = (
                    _ts(tk["resolved_at"]).dt.floor("s") - _ts(tk["opened_at"]).dt.floor("s")
                ) / pd.Timedelta(seconds=1)
                v = (seconds[sel] / 3600.0).groupby(tk["account_id"][sel]).median()
            else:
                csat = pd.to_numeric(tk["csat"])
                sel = sel & csat.notna()
                v = csat[sel].groupby(tk["account_id"][sel]).mean()
        elif m == "days_since_csm_contact":
            sel = _in_window(rt_day, as_of, w)
            v = (as_of - rt_day[sel]).groupby(rt["account_id"][sel]).min()
        elif m == "csm_rating":
            sel = _in_window(rt_day, as_of, w) & ~is_override
            latest = rt[sel].assign(ts=_ts(rt["rated_at"][sel])).sort_values("ts")
            v = pd.to_numeric(latest.groupby("account_id")["rating"].last())
        elif m not in BUILTIN and isinstance(row.event_name, str):
            aud = inp.aud
            sel = aud[(aud["event_name"] == row.event_name) & _in_window(aud["d"], as_of, w)]
            grouped = sel.groupby("account_id")
            v = {
                "count": grouped["n"].sum(),
                "distinct_users": grouped["user_id"].nunique(),
                "distinct_active_days": grouped["d"].nunique(),
            }[row.aggregation]
            v = v.reindex(idx).fillna(0)
        else:
            continue
        values[m] = v.reindex(idx).astype(float)
    return pd.DataFrame(values, index=idx)


def metric_scores(inp: Inputs, acc: pd.DataFrame, act: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """One row per account x enabled scorecard metric: group, weight, score (NaN = no score)."""
    raw = raw_values(inp, acc, act)
    card = inp.scorecard.rename(
        columns={"segment": "segment_row", "lifecycle_stage": "lifecycle_stage_row"}
    )
    keys = acc[["segment", "stage"]].drop_duplicates()
    card = _most_specific(card, keys, ["metric_id"])
    card = card[card["is_enabled"].fillna("true").str.lower() == "true"]
    levels = inp.weight_levels.set_index("weight_level")["weight"].astype(float)
    weight_text = card["weight"].str.strip().str.lower()
    card = card.assign(
        weight=weight_text.map(levels).fillna(pd.to_numeric(card["weight"], errors="coerce"))
    )
    for col in ("worst_value", "red_threshold", "green_threshold", "best_value"):
        card[col] = pd.to_numeric(card[col], errors="coerce")
    rows = acc.reset_index().merge(card, on=["segment", "stage"])
    rows = rows.merge(inp.catalog.drop(columns=["weight"], errors="ignore"), on="metric_id")
    stacked = raw.stack(future_stack=True).rename("raw").reset_index()
    stacked.columns = ["account_id", "metric_id", "raw"]
    rows = rows.merge(stacked, on=["account_id", "metric_id"], how="left")
    value = np.where(
        rows["measure_type"] == "boolean",
        np.where(rows["raw"].isna(), np.nan, (rows["raw"] > 0).astype(float)),
        rows["raw"],
    )
    users = np.full(len(rows), np.nan)
    for w, a in act.items():
        sel = (rows["w"] == w).to_numpy()
        users[sel] = rows.loc[sel, "account_id"].map(a["users"]).to_numpy()
    divisor = np.select(
        [rows["normalization"] == "per_active_user", rows["normalization"] == "per_seat"],
        [users, rows["seats"].to_numpy()],
        1.0,
    )
    x = value / np.where(divisor == 0, np.nan, divisor)
    bands = inp.bands.set_index("band")["min_score"].astype(float)
    yellow, green = bands["yellow"], bands["green"]
    sgn = np.where(rows["direction"] == "lower_is_better", -1.0, 1.0)
    ox = sgn * x
    ow, orr = sgn * rows["worst_value"], sgn * rows["red_threshold"]
    og, ob = sgn * rows["green_threshold"], sgn * rows["best_value"]
    with np.errstate(divide="ignore", invalid="ignore"):
        piecewise = np.select(
            [ox >= ob, ox >= og, ox >= orr, ox > ow],
            [
                100.0,
                green + (100 - green) * (ox - og) / (ob - og).replace(0, np.nan),
                yellow + (green - yellow) * (ox - orr) / (og - orr).replace(0, np.nan),
                yellow * (ox - ow) / (orr - ow).replace(0, np.nan),
            ],
            0.0,
        )
    missing = np.isnan(x)
    score = np.where(
        missing,
        np.where(rows["missing_data_policy"] == "worst", 0.0, np.nan),
        np.where(
            rows["measure_type"] == "boolean", np.where((x > 0) == (sgn > 0), 100.0, 0.0), piecewise
        ),
    )
    return rows[["account_id", "segment", "stage", "grp", "weight"]].assign(score=score)


def health_scores(inp: Inputs) -> pd.DataFrame:
    acc = accounts_in_scope(inp)
    act = {w: activity(inp, acc.index, w) for w in sorted(inp.catalog["w"].unique())}
    ms = metric_scores(inp, acc, act)
    counts = ms["score"].notna() & (ms["weight"] > 0)
    ms = ms.assign(
        wt=ms["weight"].where(counts, 0.0), ws=(ms["weight"] * ms["score"]).where(counts, 0.0)
    )
    groups = ms.groupby(["account_id", "segment", "stage", "grp"], as_index=False)[
        ["wt", "ws"]
    ].sum()
    groups["gs"] = groups["ws"] / groups["wt"].replace(0, np.nan)

    gw = inp.group_weights.rename(
        columns={"segment": "segment_row", "lifecycle_stage": "lifecycle_stage_row"}
    )
    sets = _most_specific(
        gw[["segment_row", "lifecycle_stage_row"]].drop_duplicates(),
        acc[["segment", "stage"]].drop_duplicates(),
        [],
    )
    groups = groups.merge(
        sets[["segment", "stage", "segment_row", "lifecycle_stage_row"]],
        on=["segment", "stage"],
        how="left",
    )
    groups = groups.merge(
        gw.rename(columns={"measure_group": "grp", "weight": "set_weight"}),
        on=["segment_row", "lifecycle_stage_row", "grp"],
        how="left",
    )
    has_set = groups["segment_row"].notna()
    weight = np.where(has_set, pd.to_numeric(groups["set_weight"]).fillna(0.0), groups["wt"])
    scored = groups["gs"].notna()
    groups = groups.assign(
        num=np.where(scored, weight * groups["gs"], 0.0), den=np.where(scored, weight, 0.0)
    )
    totals = groups.groupby("account_id")[["num", "den"]].sum()
    # 9 decimals, as dbt (var score_decimals): float sums depend on the order of the terms
    computed = (totals["num"] / totals["den"].replace(0, np.nan)).round(9).reindex(acc.index)

    rt = inp.ratings
    rt_day, exp_day = _day(rt["rated_at"]), _day(rt["expires_at"])
    live = (
        (rt["is_override"].str.lower() == "true") & (rt_day <= inp.as_of) & ~(exp_day <= inp.as_of)
    )
    overrides = (
        rt[live]
        .assign(ts=_ts(rt["rated_at"][live]))
        .sort_values("ts")
        .groupby("account_id")["rating"]
        .last()
    )
    health = pd.to_numeric(overrides).reindex(acc.index).fillna(computed)

    bands = inp.bands.assign(lo=inp.bands["min_score"].astype(float)).sort_values("lo")
    band = pd.Series("unknown", index=acc.index)
    for row in bands.itertuples():
        band[health >= row.lo] = row.band
    as_of_date = pd.Timestamp("1970-01-01") + pd.Timedelta(days=inp.as_of)
    return pd.DataFrame(
        {
            "account_id": acc.index,
            "as_of_date": as_of_date.date(),
            "computed_score": computed.to_numpy(),
            "health_score": health.to_numpy(),
            "band": band.to_numpy(),
        }
    )


def compute(raw_dir: Path, seeds_dir: Path) -> pd.DataFrame:
    """The latest-date scores of every account in scope (SCORE_COLUMNS)."""
    return health_scores(Inputs(raw_dir, seeds_dir))[SCORE_COLUMNS]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print("usage: python -m scripts.benchmark.baseline_pandas RAW_DIR SEEDS_DIR OUT.parquet")
        return 2
    started = time.perf_counter()
    scores = compute(Path(args[0]), Path(args[1]))
    scores.to_parquet(args[2], index=False)
    print(f"compute_seconds={time.perf_counter() - started:.3f} rows={len(scores)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
