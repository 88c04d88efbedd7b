"""Register the raw input files as tables in the Spark schema `raw`.

On Spark the staging sources read `raw.<table>` (DuckDB reads the files
directly). This command checks that the raw directory holds one file per raw
table in the chosen format, then runs the dbt macro `create_raw_tables` on the
`spark` target, which creates one external table per file (nothing is copied;
every column is text).

The loading happens inside dbt's own Spark session on purpose: dbt-spark's
`session` method starts Spark in the dbt process, and the local Hive metastore
is an embedded Derby database that only one process can open at a time. A
loader with a Spark session of its own would have to run strictly before or
after dbt and repeat the profile's settings; the macro needs neither.

    python -m scripts.spark.load_raw --raw-dir data/raw --format parquet
    dbt build --target spark
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from scripts.orchestrator.settings import RAW_FORMATS, RAW_TABLES

PROJECT_DIR = Path(__file__).resolve().parents[2]


class LoadError(Exception):
    """A problem with the raw directory or the dbt run, with a readable message."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--raw-dir",
        type=Path,
        default=Path(os.environ.get("CUSTOMER_HEALTH_RAW_DIR", "data/raw")),
        help="directory of <table>.parquet / <table>.csv files"
        " (default $CUSTOMER_HEALTH_RAW_DIR or data/raw)",
    )
    parser.add_argument(
        "--format",
        choices=RAW_FORMATS,
        default=os.environ.get("CUSTOMER_HEALTH_RAW_FORMAT", "parquet"),
        help="raw file format (default $CUSTOMER_HEALTH_RAW_FORMAT or parquet)",
    )
    parser.add_argument("--target", default="spark", help="dbt target (default spark)")
    parser.add_argument(
        "--project-dir", type=Path, default=PROJECT_DIR, help="dbt project directory"
    )
    parser.add_argument(
        "--profiles-dir",
        type=Path,
        default=None,
        help="dbt profiles directory (default $DBT_PROFILES_DIR or the project directory)",
    )
    return parser.parse_args(argv)


def check_raw_files(raw_dir: Path, fmt: str) -> list[Path]:
    """The raw files, one per table; raises LoadError naming any that is missing."""
    if not raw_dir.is_dir():
        raise LoadError(f"raw directory {raw_dir} does not exist")
    files = [raw_dir / f"{table}.{fmt}" for table in RAW_TABLES]
    missing = [path.name for path in files if not path.is_file()]
    if missing:
        raise LoadError(f"{raw_dir}: no {', '.join(missing)} (format {fmt})")
    return files


def check_csv_files(files: list[Path]) -> None:
    """Reads each CSV file once with DuckDB, as the DuckDB sources read it, before Spark
    gets it: Spark reads a byte that is not UTF-8 as U+FFFD without a word, and stops at
    a misshapen record only in the middle of the build. Raises LoadError naming the file
    and the line."""
    import duckdb

    from scripts.orchestrator.raw_files import csv_read_error, describe_raw_table

    for path in files:
        try:
            describe_raw_table(path, "csv")
        except duckdb.Error as error:
            raise LoadError(f"{path}: {csv_read_error(path, error)}") from error


def create_raw_tables(
    raw_dir: Path, fmt: str, target: str, project_dir: Path, profiles_dir: Path
) -> None:
    """Runs the create_raw_tables macro in-process; raises LoadError when it fails."""
    from dbt.cli.main import dbtRunner  # imported late: dbt takes ~2 s to import

    macro_args = f"{{raw_path: '{raw_dir.resolve()}', raw_format: '{fmt}'}}"
    result = dbtRunner().invoke(
        [
            "run-operation",
            "create_raw_tables",
            "--args",
            macro_args,
            "--target",
            target,
            "--project-dir",
            str(project_dir),
            "--profiles-dir",
            str(profiles_dir),
        ]
    )
    if not result.success:
        # A macro error leaves result.exception empty: dbt has printed it above.
        reason = result.exception or "dbt printed the error above"
        raise LoadError(f"dbt run-operation create_raw_tables failed: {reason}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    profiles_dir = args.profiles_dir or Path(
        os.environ.get("DBT_PROFILES_DIR", str(args.project_dir))
    )
    try:
        files = check_raw_files(args.raw_dir, args.format)
        if args.format == "csv":
            check_csv_files(files)
        create_raw_tables(args.raw_dir, args.format, args.target, args.project_dir, profiles_dir)
    except LoadError as error:
        print(f"load_raw: {error}", file=sys.stderr)
        return 1
    print(f"load_raw: raw tables point at {args.raw_dir.resolve()} ({args.format})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
