"""Hand-written DuckDB baseline for the score history: runs baseline_duckdb_history.sql.

The script's first part (load, seeds, small tables) runs once; its second part scores one
bucket of consecutive accounts and runs once per bucket, so that memory stays bounded at
scale L (every number is per account: buckets change nothing in the result). The history
is written straight from DuckDB to Parquet (account_id, score_date, segment,
lifecycle_stage, computed_score, health_score, band).

Run alone: ``python -m scripts.benchmark.baseline_duckdb_history RAW_DIR SEEDS_DIR
OUT.parquet [TEMP_DIR] [--history-days N] [--accounts-per-bucket N]``. Prints
``compute_seconds=...`` (the SQL alone, without interpreter start-up or the Parquet write).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from scripts.benchmark.baseline_duckdb import connect, quoted_path, render_sql

SQL_PATH = Path(__file__).with_name("baseline_duckdb_history.sql")
RESULT_TABLE = "baseline_history"
BUCKET_MARKER = "-- @@ per account bucket"
DEFAULT_HISTORY_DAYS = 365  # dbt_project.yml var history_days (the runner passes the project's)
DEFAULT_HISTORY_WARMUP_DAYS = 29  # and var history_warmup_days
# About 1 MB of DuckDB memory per account with a year of data (S, one bucket of 1,000
# accounts: 1.3 GB peak; four of 250: 0.7 GB): a bucket of 2,500 accounts needs 2-3 GB
# whatever the scale (L: 40 buckets), and fewer, larger buckets would hardly be faster.
DEFAULT_ACCOUNTS_PER_BUCKET = 2_500


def buckets(accounts: int, per_bucket: int) -> list[tuple[int, int]]:
    """Consecutive ranges of account keys (1-based, inclusive) covering 1..accounts."""
    if per_bucket < 1:
        raise ValueError(f"accounts per bucket must be at least 1, got {per_bucket}")
    return [
        (first, min(first + per_bucket - 1, accounts))
        for first in range(1, accounts + 1, per_bucket)
    ]


def split_sql(sql: str) -> tuple[str, str]:
    """The once part and the per-bucket part of the script."""
    once, marker, per_bucket = sql.partition(BUCKET_MARKER)
    if not marker:
        raise ValueError(f"{SQL_PATH}: no line {BUCKET_MARKER!r}")
    return once, per_bucket


def compute(
    raw_dir: Path,
    seeds_dir: Path,
    out: Path,
    *,
    temp_dir: Path | None = None,
    history_days: int = DEFAULT_HISTORY_DAYS,
    history_warmup_days: int = DEFAULT_HISTORY_WARMUP_DAYS,
    accounts_per_bucket: int = DEFAULT_ACCOUNTS_PER_BUCKET,
) -> tuple[int, float]:
    """Write the history to `out` (Parquet); returns (rows, seconds of SQL)."""
    sql = (
        render_sql(raw_dir, seeds_dir, SQL_PATH)
        .replace("__HISTORY_DAYS__", str(int(history_days)))
        .replace("__HISTORY_WARMUP_DAYS__", str(int(history_warmup_days)))
    )
    once, per_bucket = split_sql(sql)
    con = connect(temp_dir)
    try:
        started = time.perf_counter()
        con.execute(once)
        found = con.execute("select count(*) from acc").fetchone()
        for first, last in buckets(int(found[0]) if found else 0, accounts_per_bucket):
            con.execute(
                per_bucket.replace("__FIRST_ACCOUNT__", str(first)).replace(
                    "__LAST_ACCOUNT__", str(last)
                )
            )
        seconds = time.perf_counter() - started
        con.execute(f"copy {RESULT_TABLE} to '{quoted_path(out)}' (format parquet)")
        counted = con.execute(f"select count(*) from {RESULT_TABLE}").fetchone()
        return (int(counted[0]) if counted else 0), seconds
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.benchmark.baseline_duckdb_history",
        description="The score history from the raw files, in hand-written DuckDB SQL.",
    )
    parser.add_argument("raw_dir", type=Path)
    parser.add_argument("seeds_dir", type=Path)
    parser.add_argument("out", type=Path, help="the history, as Parquet")
    parser.add_argument("temp_dir", type=Path, nargs="?", help="DuckDB temp directory")
    parser.add_argument("--history-days", type=int, default=DEFAULT_HISTORY_DAYS)
    parser.add_argument("--history-warmup-days", type=int, default=DEFAULT_HISTORY_WARMUP_DAYS)
    parser.add_argument("--accounts-per-bucket", type=int, default=DEFAULT_ACCOUNTS_PER_BUCKET)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    rows, seconds = compute(
        args.raw_dir,
        args.seeds_dir,
        args.out,
        temp_dir=args.temp_dir,
        history_days=args.history_days,
        history_warmup_days=args.history_warmup_days,
        accounts_per_bucket=args.accounts_per_bucket,
    )
    print(f"compute_seconds={seconds:.3f} rows={rows}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
