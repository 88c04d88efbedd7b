"""Raw Parquet files with native column types stage exactly as the same data written as text.

The raw contract lets values arrive as text, but loaders and pandas write Parquet with
types: integers, doubles (a pandas integer column holding a null becomes one: `4.0`),
booleans, timestamps with and without a time zone. Staging casts every raw column to text
before parsing it, so the staged rows must not depend on the file's types. Every staged
model is compared: everything downstream reads only those.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from scripts.orchestrator.raw_files import describe_raw_table
from tests.python import dbt_env

PROJECT_DIR = Path(__file__).resolve().parents[2]
GENERATOR_ARGS = ["--accounts", "40", "--days", "60", "--dirty-fraction", "0", "--seed", "7"]
# Per raw table: the columns written with a native type instead of text.
NATIVE_TYPES = {
    "accounts": {
        "seats": "bigint",
        "created_at": "timestamp",
        "renewal_date": "date",
        "churned_at": "timestamp",
    },
    "users": {"created_at": "timestamp", "deactivated_at": "timestamp"},
    "events": {"occurred_at": "timestamptz"},
    "invoices": {
        "issued_at": "timestamp",
        "due_at": "timestamp",
        "paid_at": "timestamp",
        "amount": "double",
    },
    "tickets": {"opened_at": "timestamp", "resolved_at": "timestamp", "csat": "double"},
    "csm_ratings": {
        "rated_at": "timestamp",
        "rating": "bigint",
        "is_override": "boolean",
        "expires_at": "timestamp",
    },
}
STAGED = [
    "stg_crm__accounts",
    "stg_crm__csm_ratings",
    "stg_product__users",
    "stg_product__events",
    "stg_billing__invoices",
    "stg_support__tickets",
]


def write_typed(text_dir: Path, out_dir: Path) -> Path:
    out_dir.mkdir()
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        for table, types in NATIVE_TYPES.items():
            replaced = ", ".join(
                f"cast({column} as {kind}) as {column}" for column, kind in types.items()
            )
            connection.execute(
                f"copy (select * replace ({replaced})"
                f" from read_parquet('{text_dir / table}.parquet'))"
                f" to '{out_dir / table}.parquet' (format parquet)"
            )
            written, _ = describe_raw_table(out_dir / f"{table}.parquet", "parquet")
            assert all(written[column] != "VARCHAR" for column in types), (table, written)
    return out_dir


def build_staging(raw_dir: Path, work_dir: Path) -> Path:
    result = dbt_env.run_dbt(
        ["build", "--select", "plan_segments", "staging", "--exclude-resource-type", "unit_test"],
        PROJECT_DIR,
        work_dir,
        raw_dir,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    return work_dir / "warehouse.duckdb"


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("typed_raw")
    text_dir = dbt_env.generate_demo_data(root / "text", *GENERATOR_ARGS, timeout=120)
    typed_dir = write_typed(text_dir, root / "typed")
    return build_staging(text_dir, root / "build_text"), build_staging(
        typed_dir, root / "build_typed"
    )


@pytest.mark.parametrize("model", STAGED)
def test_native_types_stage_as_text_does(warehouses: tuple[Path, Path], model: str) -> None:
    text, typed = warehouses
    with duckdb.connect() as connection:
        connection.execute(f"attach '{text}' as text_build (read_only)")
        connection.execute(f"attach '{typed}' as typed_build (read_only)")
        rows = connection.execute(f"select count(*) from text_build.main.{model}").fetchone()[0]
        differing = connection.execute(
            f"select count(*) from (select * from text_build.main.{model}"
            f" except all select * from typed_build.main.{model})"
        ).fetchone()[0]
        extra = connection.execute(
            f"select count(*) from (select * from typed_build.main.{model}"
            f" except all select * from text_build.main.{model})"
        ).fetchone()[0]
    assert rows > 0
    assert (differing, extra) == (0, 0), f"{model}: {differing} rows differ of {rows}"
