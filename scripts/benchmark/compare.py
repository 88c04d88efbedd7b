"""Do two sets of scores agree? Latest date (per account, in pandas) and history (per account x
score date, in DuckDB): same rows, scores within a tolerance, same band."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

SCORE_COLUMNS = ("computed_score", "health_score")
TOLERANCE = 1e-6


@dataclass
class Comparison:
    """The differences between dbt's scores and a baseline's, by account."""

    rows_dbt: int
    rows_baseline: int
    only_in_dbt: list[str] = field(default_factory=list)
    only_in_baseline: list[str] = field(default_factory=list)
    mismatches: list[dict[str, object]] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return not (self.only_in_dbt or self.only_in_baseline or self.mismatches)

    def as_dict(self, limit: int = 20) -> dict[str, object]:
        return {
            "equal": self.equal,
            "rows_dbt": self.rows_dbt,
            "rows_baseline": self.rows_baseline,
            "accounts_only_in_dbt": self.only_in_dbt[:limit],
            "accounts_only_in_baseline": self.only_in_baseline[:limit],
            "mismatch_count": len(self.mismatches),
            "mismatches": self.mismatches[:limit],
            "tolerance": TOLERANCE,
        }


def _same(a: object, b: object) -> bool:
    a_missing = a is None or (isinstance(a, float) and math.isnan(a))
    b_missing = b is None or (isinstance(b, float) and math.isnan(b))
    if a_missing or b_missing:
        return a_missing and b_missing
    return abs(float(a) - float(b)) <= TOLERANCE  # type: ignore[arg-type]


def _day(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return pd.Timestamp(value).date().isoformat()  # type: ignore[arg-type]


def _number(value: object) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)  # type: ignore[arg-type]


def compare(dbt_scores: pd.DataFrame, baseline: pd.DataFrame) -> Comparison:
    """Compare per account: presence, computed_score and health_score (1e-6), band."""
    merged = dbt_scores.merge(
        baseline, on="account_id", how="outer", suffixes=("_dbt", "_baseline"), indicator=True
    )
    result = Comparison(rows_dbt=len(dbt_scores), rows_baseline=len(baseline))
    result.only_in_dbt = sorted(merged.loc[merged["_merge"] == "left_only", "account_id"])
    result.only_in_baseline = sorted(merged.loc[merged["_merge"] == "right_only", "account_id"])
    both = merged[merged["_merge"] == "both"].sort_values("account_id")
    for row in both.to_dict("records"):
        for column in SCORE_COLUMNS:
            ours, theirs = row[f"{column}_dbt"], row[f"{column}_baseline"]
            if not _same(ours, theirs):
                result.mismatches.append(
                    {
                        "account_id": row["account_id"],
                        "column": column,
                        "dbt": _number(ours),
                        "baseline": _number(theirs),
                    }
                )
        if row["band_dbt"] != row["band_baseline"]:
            result.mismatches.append(
                {
                    "account_id": row["account_id"],
                    "column": "band",
                    "dbt": row["band_dbt"],
                    "baseline": row["band_baseline"],
                }
            )
        ours_date, their_date = _day(row["as_of_date_dbt"]), _day(row["as_of_date_baseline"])
        if ours_date != their_date:
            result.mismatches.append(
                {
                    "account_id": row["account_id"],
                    "column": "as_of_date",
                    "dbt": ours_date,
                    "baseline": their_date,
                }
            )
    return result


HISTORY_TABLE = "fct_health_score_history"
HISTORY_KEY = ("account_id", "score_date")


def compare_history(database: Path, baseline_parquet: Path, limit: int = 20) -> dict[str, object]:
    """Compare dbt's fct_health_score_history with a baseline's history, in DuckDB (tens of
    millions of rows at scale L): the same account x score_date rows, computed_score and
    health_score within TOLERANCE, the same band. Returns counts and the first `limit`
    differences of each kind."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{database}' as dbt (read_only)")
        found = con.execute(
            "select schema_name from duckdb_tables() "
            "where database_name = 'dbt' and table_name = ?",
            [HISTORY_TABLE],
        ).fetchone()
        if found is None:
            return {"equal": None, "note": f"{HISTORY_TABLE} was not built"}
        con.execute(f'create temp view h_dbt as select * from dbt."{found[0]}".{HISTORY_TABLE}')
        con.execute(
            "create temp view h_base as select * replace (cast(score_date as date) as "
            f"score_date) from read_parquet('{baseline_parquet}')"
        )
        con.execute(
            f"""
            create temp table h_diff as
            with joined as (
                select
                    coalesce(d.account_id, b.account_id) as account_id,
                    coalesce(d.score_date, b.score_date) as score_date,
                    d.account_id is not null as in_dbt,
                    b.account_id is not null as in_baseline,
                    d.computed_score as computed_score_dbt,
                    b.computed_score as computed_score_baseline,
                    d.health_score as health_score_dbt,
                    b.health_score as health_score_baseline,
                    d.band as band_dbt,
                    b.band as band_baseline
                from h_dbt as d
                full join h_base as b
                    on d.account_id = b.account_id and d.score_date = b.score_date
            )
            select
                *,
                case
                    when not in_dbt then 'only_in_baseline'
                    when not in_baseline then 'only_in_dbt'
                end as presence,
                not (
                    (computed_score_dbt is null and computed_score_baseline is null)
                    or abs(computed_score_dbt - computed_score_baseline) <= {TOLERANCE}
                ) as computed_score_differs,
                not (
                    (health_score_dbt is null and health_score_baseline is null)
                    or abs(health_score_dbt - health_score_baseline) <= {TOLERANCE}
                ) as health_score_differs,
                band_dbt is distinct from band_baseline as band_differs
            from joined
            where
                not (in_dbt and in_baseline)
                or not (
                    (computed_score_dbt is null and computed_score_baseline is null)
                    or abs(computed_score_dbt - computed_score_baseline) <= {TOLERANCE}
                )
                or not (
                    (health_score_dbt is null and health_score_baseline is null)
                    or abs(health_score_dbt - health_score_baseline) <= {TOLERANCE}
                )
                or band_dbt is distinct from band_baseline
            """
        )
        rows_dbt = _count(con, "select count(*) from h_dbt")
        rows_baseline = _count(con, "select count(*) from h_base")
        only = {
            side: _count(con, f"select count(*) from h_diff where presence = '{side}'")
            for side in ("only_in_dbt", "only_in_baseline")
        }
        mismatches: list[dict[str, object]] = []
        mismatch_count = 0
        for column in ("computed_score", "health_score", "band"):
            where = f"presence is null and {column}_differs"
            mismatch_count += _count(con, f"select count(*) from h_diff where {where}")
            for account_id, score_date, ours, theirs in con.execute(
                f"select account_id, score_date, {column}_dbt, {column}_baseline "
                f"from h_diff where {where} order by score_date, account_id limit {limit}"
            ).fetchall():
                mismatches.append(
                    {
                        "account_id": account_id,
                        "score_date": score_date.isoformat(),
                        "column": column,
                        "dbt": ours,
                        "baseline": theirs,
                    }
                )
        examples = {
            side: [
                {"account_id": account_id, "score_date": score_date.isoformat()}
                for account_id, score_date in con.execute(
                    "select account_id, score_date from h_diff where presence = ? "
                    f"order by score_date, account_id limit {limit}",
                    [side],
                ).fetchall()
            ]
            for side in ("only_in_dbt", "only_in_baseline")
        }
        dates = con.execute("select min(score_date), max(score_date) from h_dbt").fetchone()
        return {
            "equal": not (only["only_in_dbt"] or only["only_in_baseline"] or mismatch_count),
            "rows_dbt": rows_dbt,
            "rows_baseline": rows_baseline,
            "score_dates_dbt": [d.isoformat() if d else None for d in (dates or (None, None))],
            "rows_only_in_dbt_count": only["only_in_dbt"],
            "rows_only_in_baseline_count": only["only_in_baseline"],
            "rows_only_in_dbt": examples["only_in_dbt"],
            "rows_only_in_baseline": examples["only_in_baseline"],
            "mismatch_count": mismatch_count,
            "mismatches": mismatches,
            "tolerance": TOLERANCE,
        }
    finally:
        con.close()


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    found = con.execute(sql).fetchone()
    return int(found[0]) if found else 0
