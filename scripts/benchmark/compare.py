"""Do two sets of latest-date scores agree? Same accounts, scores within a tolerance, same band."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

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
