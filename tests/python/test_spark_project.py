"""The whole project on Spark gives what it gives on DuckDB.

One data set, built once per engine: the hand-made fixture (tests/fixtures/raw_small: one
row per reject reason) and a small generated data set, in one set of raw Parquet files.
On each engine:

1. `dbt build` (seeds, models, data tests, unit tests) with `as_of_date` a week before the
   end of the data and two months of daily history;
2. `dbt run` of the intermediate and mart models with the default `as_of_date` (the last
   event date): the history marts take their incremental path (delete+insert on DuckDB,
   insert_overwrite of score_date partitions on Spark), then the history's data tests.

After each step every mart (models/marts/**) must hold the same rows on both engines:
columns matched by name (Spark puts partition columns last), doubles within 1e-6, every
other value equal as text (dates ISO, booleans true/false). After step 1, the staging and
data-quality models and a seed with awkward values must be equal too.

Then the same raw data, written as CSV, is registered on Spark: each raw table must read
as DuckDB's sources read the file (the fixture's quotes, commas and empty values), and a
CSV record with a field more than its header must make Spark's read fail (FAILFAST),
as it makes DuckDB's (test_raw_csv_shape.py).

Spark runs in-process through dbt-spark's `session` method, in a warehouse and Derby
metastore under the test's temporary directory, and the test reads the results through
that same session (Derby admits one process at a time). Skipped when Java or pyspark is
missing, or when CUSTOMER_HEALTH_SKIP_SPARK_TESTS=1.
"""

from __future__ import annotations

import importlib.util
import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from scripts.orchestrator.raw_files import describe_raw_table, reader_sql
from tests.python.dbt_env import dbt_env, generate_demo_data

PROJECT_DIR = Path(__file__).resolve().parents[2]
FIXTURE_DIR = PROJECT_DIR / "tests" / "fixtures" / "raw_small"
DBT = Path(sys.executable).parent / "dbt"
SCHEMA = "customer_health"
RAW_TABLES = ["accounts", "users", "events", "invoices", "tickets", "csm_ratings"]
# The generated data end on END_DATE; the first build scores FIRST_AS_OF_DATE, the
# second (incremental) one the last event date. Two months of daily history.
GENERATOR_ARGS = ["--accounts", "30", "--days", "60", "--dirty-fraction", "0.05", "--seed", "42"]
END_DATE = "2026-10-31"
FIRST_AS_OF_DATE = "2026-10-24"
HISTORY_DAYS = 60
FIRST_VARS = f"{{history_days: {HISTORY_DAYS}, as_of_date: '{FIRST_AS_OF_DATE}'}}"
SECOND_VARS = f"{{history_days: {HISTORY_DAYS}}}"
SECOND_RUN = [
    ["run", "--select", "intermediate", "marts", "--vars", SECOND_VARS],
    ["test", "--select", "marts.history", "--exclude", "test_type:unit", "--vars", SECOND_VARS],
]
MARTS = sorted(path.stem for path in (PROJECT_DIR / "models" / "marts").rglob("*.sql"))
STAGED_MODELS = [
    f"stg_{source}__{table}{suffix}"
    for source, table in [
        ("crm", "accounts"),
        ("crm", "csm_ratings"),
        ("product", "users"),
        ("product", "events"),
        ("billing", "invoices"),
        ("support", "tickets"),
    ]
    for suffix in ("", "_quarantined")
]
SUMMARY_MODELS = ["int_staging_rows_reconciled", "int_quarantine_reasons_counted"]
QUIRKY_SEED = "spark_seed_values"
QUIRKY_SEED_CSV = (
    "id,label,amount,flag,day\n"
    "1,the account's owner,1.5,true,2025-01-31\n"
    "2,,,false,\n"
    '3,"back\\slash, comma and ""quotes""",-2,,2025-02-01\n'
    "4,50% off,0,true,2025-03-01\n"
)
# Doubles may differ in the last bits between engines (summation order); scores 0-100.
ABS_TOLERANCE = 1e-6
FLOAT_TYPES = ("double", "float", "real")


def _skip_reason() -> str | None:
    if os.environ.get("CUSTOMER_HEALTH_SKIP_SPARK_TESTS") == "1":
        return "CUSTOMER_HEALTH_SKIP_SPARK_TESTS=1"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "Spark needs Java (17): no `java` on PATH and no JAVA_HOME"
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install -r requirements.txt)"
    if importlib.util.find_spec("dbt.adapters.spark") is None:
        return "dbt-spark is not installed (pip install -r requirements.txt)"
    return None


SKIP_REASON = _skip_reason()
pytestmark = pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or "")


@dataclass
class Table:
    """A model's rows: columns sorted by name, doubles as floats, the rest as text."""

    columns: list[str]
    float_columns: set[str]
    rows: list[tuple[Any, ...]]


Snapshot = dict[str, Table]


# --- data and project ----------------------------------------------------------------


def copy_project(destination: Path) -> Path:
    """The dbt project without its Python tests and build outputs, plus a quirky seed."""
    for folder in ("models", "macros", "seeds", "analyses"):
        shutil.copytree(PROJECT_DIR / folder, destination / folder)
    shutil.copytree(
        PROJECT_DIR / "tests",
        destination / "tests",
        ignore=shutil.ignore_patterns("python", "fixtures", "__pycache__"),
    )
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(PROJECT_DIR / name, destination / name)
    # Values that dbt-spark's own seed loader mangles on the session method (see
    # macros/spark/load_csv_rows.sql): quotes, backslashes, empty cells.
    (destination / "seeds" / f"{QUIRKY_SEED}.csv").write_text(QUIRKY_SEED_CSV)
    return destination


def generate_parquet(out_dir: Path) -> Path:
    return generate_demo_data(out_dir, *GENERATOR_ARGS, "--end-date", END_DATE, timeout=120)


def write_raw(out_dir: Path, rows_of: Callable[[str], str], file_format: str) -> Path:
    """One file per raw table in out_dir, holding the rows of the query `rows_of(table)`."""
    options = "format csv, header" if file_format == "csv" else "format parquet"
    out_dir.mkdir()
    with duckdb.connect() as connection:
        for table in RAW_TABLES:
            connection.execute(
                f"copy ({rows_of(table)}) to '{out_dir / table}.{file_format}' ({options})"
            )
    return out_dir


def combine_raw(generated_dir: Path, out_dir: Path) -> Path:
    """The fixture's rows and the generated rows, one Parquet file per table, all text."""
    return write_raw(
        out_dir,
        lambda table: (
            f"select * from {reader_sql(FIXTURE_DIR / f'{table}.csv', 'csv')}"
            f" union all by name select * from read_parquet('{generated_dir / table}.parquet')"
        ),
        "parquet",
    )


# --- reading tables ---------------------------------------------------------------------


def select_sql(
    table: str, types: dict[str, str], string_type: str, quote: str
) -> tuple[str, list[str]]:
    """A select of the table's columns by name, doubles as they are, the rest as text."""
    columns = sorted(types)
    quoted = {column: f"{quote}{column}{quote}" for column in columns}
    parts = [
        quoted[column]
        if types[column].lower() in FLOAT_TYPES
        else f"cast({quoted[column]} as {string_type}) as {quoted[column]}"
        for column in columns
    ]
    return f"select {', '.join(parts)} from {table}", columns


def _float_columns(types: dict[str, str]) -> set[str]:
    return {column for column, kind in types.items() if kind.lower() in FLOAT_TYPES}


def read_duckdb(database: Path, tables: list[str]) -> Snapshot:
    snapshot: Snapshot = {}
    with duckdb.connect(str(database), read_only=True) as connection:
        for table in tables:
            types = dict(
                connection.execute(
                    "select column_name, data_type from information_schema.columns"
                    " where table_schema = 'main' and table_name = ?",
                    [table],
                ).fetchall()
            )
            assert types, f"{table} is missing on DuckDB"
            sql, columns = select_sql(f"main.{table}", types, "varchar", '"')
            rows = connection.execute(sql).fetchall()
            snapshot[table] = Table(columns, _float_columns(types), rows)
    return snapshot


def read_spark(tables: list[str], schema: str = SCHEMA) -> Snapshot:
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()  # the session dbt started
    snapshot: Snapshot = {}
    for table in tables:
        types = dict(spark.table(f"{schema}.{table}").dtypes)
        sql, columns = select_sql(f"{schema}.{table}", types, "string", "`")
        rows = [tuple(row) for row in spark.sql(sql).collect()]
        snapshot[table] = Table(columns, _float_columns(types), rows)
    return snapshot


def read_duckdb_csv(raw_dir: Path) -> Snapshot:
    """The raw CSV files as dbt's DuckDB sources read them (and the orchestrator)."""
    snapshot: Snapshot = {}
    with duckdb.connect() as connection:
        for table in RAW_TABLES:
            types, _ = describe_raw_table(raw_dir / f"{table}.csv", "csv")
            reader = reader_sql(raw_dir / f"{table}.csv", "csv")
            sql, columns = select_sql(reader, types, "varchar", '"')
            snapshot[table] = Table(columns, set(), connection.execute(sql).fetchall())
    return snapshot


def write_csv(parquet_dir: Path, out_dir: Path) -> Path:
    """The raw Parquet files as RFC 4180 CSV (DuckDB quotes what needs it)."""
    return write_raw(
        out_dir, lambda table: f"select * from read_parquet('{parquet_dir / table}.parquet')", "csv"
    )


def with_wider_record(csv_dir: Path, out_dir: Path) -> Path:
    """The CSV files again, the accounts with one record of a field more than the header."""
    shutil.copytree(csv_dir, out_dir)
    accounts = out_dir / "accounts.csv"
    fields = accounts.read_text().splitlines()[0].count(",") + 1
    with accounts.open("a") as handle:
        handle.write(",".join(["zz1", *("x" for _ in range(fields))]) + "\n")
    return out_dir


def spark_read_error(sql: str) -> str:
    """The error a Spark query raises, or '' when it runs."""
    from pyspark.sql import SparkSession

    try:
        SparkSession.builder.getOrCreate().sql(sql).collect()
    except Exception as exc:  # noqa: BLE001 - whatever Spark raises is the finding
        return str(exc)
    return ""


def register_raw(raw_dir: Path, raw_format: str, project: Path) -> None:
    dbt_spark(
        [
            "run-operation",
            "create_raw_tables",
            "--args",
            f"{{raw_path: '{raw_dir}', raw_format: {raw_format}}}",
        ],
        project,
    )


# --- builds -----------------------------------------------------------------------------


def dbt_duckdb(args: list[str], project: Path, work_dir: Path, raw_dir: Path) -> None:
    env = dbt_env(project, work_dir, raw_dir)
    result = subprocess.run(
        [str(DBT), *args, "--project-dir", str(project), "--target", "duckdb"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, (
        f"dbt {' '.join(args)} failed on DuckDB:\n" + result.stdout[-5000:] + result.stderr[-2000:]
    )


def dbt_spark(args: list[str], project: Path) -> None:
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(
        [*args, "--project-dir", str(project), "--profiles-dir", str(project), "--target", "spark"]
    )
    failed = [
        f"{item.status} {item.node.name}: {' '.join(str(item.message).split())[:400]}"
        for item in getattr(result.result, "results", None) or []
        if str(getattr(item.status, "value", item.status)) in ("error", "fail", "runtime error")
    ]
    assert result.success, (
        f"dbt {' '.join(args)} failed on Spark: {result.exception}\n" + "\n".join(failed[:20])
    )


@dataclass
class Builds:
    """Per step ("full", "incremental"): (DuckDB snapshot, Spark snapshot); seconds.

    `csv_raw`: the raw files written as CSV, read by each engine's raw reader;
    `malformed_csv_error`: what Spark raised reading a CSV file with a wider record.
    """

    snapshots: dict[str, tuple[Snapshot, Snapshot]]
    spark_seconds: float
    csv_raw: tuple[Snapshot, Snapshot]
    malformed_csv_error: str


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builds]:
    work = tmp_path_factory.mktemp("spark_project")
    project = copy_project(work / "project")
    raw_dir = combine_raw(generate_parquet(work / "generated"), work / "raw")
    csv_dir = write_csv(raw_dir, work / "raw_csv")
    duck_dir = work / "duckdb"
    first_tables = MARTS + STAGED_MODELS + SUMMARY_MODELS + [QUIRKY_SEED]

    dbt_duckdb(["build", "--vars", FIRST_VARS], project, duck_dir, raw_dir)
    duck_full = read_duckdb(duck_dir / "warehouse.duckdb", first_tables)
    for args in SECOND_RUN:
        dbt_duckdb(args, project, duck_dir, raw_dir)
    duck_incremental = read_duckdb(duck_dir / "warehouse.duckdb", MARTS)

    spark_env = {
        "DO_NOT_TRACK": "1",
        "CUSTOMER_HEALTH_SPARK_WAREHOUSE": str(work / "spark"),
        "CUSTOMER_HEALTH_SPARK_MEMORY": "2g",
        "CUSTOMER_HEALTH_SPARK_SHUFFLE_PARTITIONS": "1",
        "DBT_TARGET_PATH": str(work / "spark_target"),
        "DBT_LOG_PATH": str(work / "spark_logs"),
    }
    started = time.perf_counter()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in spark_env.items():
            patch.setenv(name, value)
        patch.chdir(project)  # Spark writes nothing outside the temporary directory
        try:
            register_raw(raw_dir, "parquet", project)
            dbt_spark(["build", "--vars", FIRST_VARS], project)
            spark_full = read_spark(first_tables)
            for args in SECOND_RUN:
                dbt_spark(args, project)
            spark_incremental = read_spark(MARTS)
            # The same raw data as CSV: both engines' CSV readers must read the same text.
            register_raw(csv_dir, "csv", project)
            csv_raw = (read_duckdb_csv(csv_dir), read_spark(RAW_TABLES, schema="raw"))
            register_raw(with_wider_record(csv_dir, work / "raw_csv_wider"), "csv", project)
            malformed_csv_error = spark_read_error("select * from raw.accounts")
        finally:
            from pyspark.sql import SparkSession

            active = SparkSession.getActiveSession()
            if active is not None:
                active.stop()
    seconds = time.perf_counter() - started
    print(f"\nspark: whole project built, run incrementally and read in {seconds:.1f} s")
    yield Builds(
        snapshots={
            "full": (duck_full, spark_full),
            "incremental": (duck_incremental, spark_incremental),
        },
        spark_seconds=seconds,
        csv_raw=csv_raw,
        malformed_csv_error=malformed_csv_error,
    )


# --- comparing --------------------------------------------------------------------------


def _sort_key(row: tuple[Any, ...]) -> tuple:
    return tuple((value is None, value if isinstance(value, str) else repr(value)) for value in row)


def _floats_close(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return left is None and right is None
    if math.isnan(left) or math.isnan(right):
        return math.isnan(left) and math.isnan(right)
    return math.isclose(left, right, rel_tol=1e-9, abs_tol=ABS_TOLERANCE)


def table_differences(duck: Table, spark: Table, limit: int = 5) -> list[str]:
    """What differs between two reads of one table; empty when they agree."""
    if duck.columns != spark.columns:
        only_duck = sorted(set(duck.columns) - set(spark.columns))
        only_spark = sorted(set(spark.columns) - set(duck.columns))
        return [f"columns only on DuckDB: {only_duck}; only on Spark: {only_spark}"]
    if duck.float_columns != spark.float_columns:
        return [f"double columns: DuckDB {duck.float_columns}, Spark {spark.float_columns}"]
    text_at = [i for i, column in enumerate(duck.columns) if column not in duck.float_columns]
    float_at = [i for i, column in enumerate(duck.columns) if column in duck.float_columns]

    def ordered(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        # By the text columns first, so that rows pair up even when doubles differ a little.
        return sorted(
            rows,
            key=lambda row: (_sort_key(tuple(row[i] for i in text_at)), _sort_key(row)),
        )

    problems: list[str] = []
    if len(duck.rows) != len(spark.rows):
        problems.append(f"{len(duck.rows)} rows on DuckDB, {len(spark.rows)} on Spark")
    for duck_row, spark_row in zip(ordered(duck.rows), ordered(spark.rows), strict=False):
        differing = [
            f"{duck.columns[i]}: DuckDB {duck_row[i]!r}, Spark {spark_row[i]!r}"
            for i in text_at
            if duck_row[i] != spark_row[i]
        ] + [
            f"{duck.columns[i]}: DuckDB {duck_row[i]!r}, Spark {spark_row[i]!r}"
            for i in float_at
            if not _floats_close(duck_row[i], spark_row[i])
        ]
        if differing:
            key = {duck.columns[i]: duck_row[i] for i in text_at if duck.columns[i].endswith("id")}
            problems.append(f"row {key}: " + "; ".join(differing))
        if len(problems) >= limit:
            break
    return problems


def assert_same(duck: Table, spark: Table, what: str) -> None:
    problems = table_differences(duck, spark)
    assert not problems, f"{what} differs between DuckDB and Spark:\n  " + "\n  ".join(problems)


# --- tests ------------------------------------------------------------------------------


def test_marts_are_discovered() -> None:
    assert {"dim_accounts", "fct_health_scores", "fct_health_score_history"} <= set(MARTS)


@pytest.mark.parametrize("step", ["full", "incremental"])
@pytest.mark.parametrize("mart", MARTS)
def test_marts_agree(builds: Builds, step: str, mart: str) -> None:
    duck, spark = builds.snapshots[step]
    assert duck[mart].rows, f"{mart} is empty on DuckDB after the {step} build"
    assert_same(duck[mart], spark[mart], f"{mart} ({step} build)")


def test_incremental_run_scored_the_later_dates(builds: Builds) -> None:
    """The second run moved as_of_date to the end of the data and kept the earlier history."""
    duck_full, _ = builds.snapshots["full"]
    duck_incremental, _ = builds.snapshots["incremental"]

    def score_dates(table: Table) -> set[str]:
        at = table.columns.index("score_date")
        return {row[at] for row in table.rows}

    before = score_dates(duck_full["fct_health_score_history"])
    after = score_dates(duck_incremental["fct_health_score_history"])
    assert max(before) == FIRST_AS_OF_DATE
    assert max(after) == END_DATE
    assert before < after


def test_rows_staged_quarantined_and_removed_agree(builds: Builds) -> None:
    duck, spark = builds.snapshots["full"]
    assert_same(duck["int_staging_rows_reconciled"], spark["int_staging_rows_reconciled"], "")
    table = spark["int_staging_rows_reconciled"]
    assert all(row[table.columns.index("is_reconciled")] == "true" for row in table.rows)


def test_quarantine_reasons_agree(builds: Builds) -> None:
    duck, spark = builds.snapshots["full"]
    # The fixture alone has 81 (table, reason) pairs: the data exercises every reason.
    assert len(duck["int_quarantine_reasons_counted"].rows) >= 81
    assert_same(
        duck["int_quarantine_reasons_counted"],
        spark["int_quarantine_reasons_counted"],
        "int_quarantine_reasons_counted",
    )


@pytest.mark.parametrize("model", STAGED_MODELS)
def test_staged_rows_agree(builds: Builds, model: str) -> None:
    duck, spark = builds.snapshots["full"]
    assert duck[model].rows or model.endswith("_quarantined"), f"{model} is empty on DuckDB"
    assert_same(duck[model], spark[model], model)


def test_seed_values_load_alike(builds: Builds) -> None:
    duck, spark = builds.snapshots["full"]
    assert len(duck[QUIRKY_SEED].rows) == 4
    assert_same(duck[QUIRKY_SEED], spark[QUIRKY_SEED], QUIRKY_SEED)


@pytest.mark.parametrize("table", RAW_TABLES)
def test_raw_csv_reads_alike(builds: Builds, table: str) -> None:
    duck, spark = builds.csv_raw
    assert len(duck[table].rows) > 0
    assert_same(duck[table], spark[table], f"raw.{table} read from CSV")


def test_spark_refuses_a_csv_record_wider_than_the_header(builds: Builds) -> None:
    """Spark's default (PERMISSIVE) dropped the extra field without a word."""
    assert "MALFORMED_CSV_RECORD" in builds.malformed_csv_error, builds.malformed_csv_error[:2000]


def test_comparison_catches_a_difference() -> None:
    """The comparison itself: a score off by more than the tolerance, a band changed."""
    duck = Table(["account_id", "band", "score"], {"score"}, [("a1", "red", 10.0)])
    assert not table_differences(duck, Table(duck.columns, {"score"}, [("a1", "red", 10.0)]))
    close = Table(duck.columns, {"score"}, [("a1", "red", 10.0 + 1e-9)])
    assert not table_differences(duck, close)
    off = Table(duck.columns, {"score"}, [("a1", "red", 10.00001)])
    assert table_differences(duck, off)
    band = Table(duck.columns, {"score"}, [("a1", "green", 10.0)])
    assert table_differences(duck, band)
    missing = Table(duck.columns, {"score"}, [])
    assert table_differences(duck, missing)
