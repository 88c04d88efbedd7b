"""Hand-written DuckDB baseline: runs baseline_duckdb.sql on the raw files, in memory.

Run alone: ``python -m scripts.benchmark.baseline_duckdb RAW_DIR SEEDS_DIR OUT.parquet
[TEMP_DIR]``. Prints ``compute_seconds=...`` (the script alone, without interpreter start-up).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import duckdb

SQL_PATH = Path(__file__).with_name("baseline_duckdb.sql")
RESULT_TABLE = "baseline_scores"


def quoted_path(path: Path) -> str:
    text = str(path.resolve())
    if "'" in text:
        raise ValueError(f"{text}: a path with a quote cannot go into the baseline SQL")
    return text


def render_sql(raw_dir: Path, seeds_dir: Path, sql_path: Path = SQL_PATH) -> str:
    sql = sql_path.read_text(encoding="utf-8")
    return sql.replace("__RAW_DIR__", quoted_path(raw_dir)).replace(
        "__SEEDS_DIR__", quoted_path(seeds_dir)
    )


def connect(temp_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB set up like the dbt profile (UTC, streaming, spills to temp_dir)."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute("set preserve_insertion_order = false")
    if temp_dir is not None:
        con.execute(f"set temp_directory = '{quoted_path(temp_dir)}'")
    return con


def compute(raw_dir: Path, seeds_dir: Path, temp_dir: Path | None = None) -> object:
    """The latest-date scores (pandas DataFrame: account_id, as_of_date, computed_score,
    health_score, band)."""
    con = connect(temp_dir)
    try:
        con.execute(render_sql(raw_dir, seeds_dir))
        return con.execute(f"select * from {RESULT_TABLE}").df()
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (3, 4):
        print(
            "usage: python -m scripts.benchmark.baseline_duckdb RAW_DIR SEEDS_DIR OUT.parquet"
            " [TEMP_DIR]"
        )
        return 2
    started = time.perf_counter()
    scores = compute(Path(args[0]), Path(args[1]), Path(args[3]) if len(args) == 4 else None)
    seconds = time.perf_counter() - started
    scores.to_parquet(args[2], index=False)
    print(f"compute_seconds={seconds:.3f} rows={len(scores)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
