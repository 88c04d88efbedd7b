"""The environment of a test's dbt subprocess: its own warehouse file, target, logs and spill
directory under the test's work directory, so no test reads or writes the repository's
warehouse, and a raw directory when the test builds from raw files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def dbt_env(
    project_dir: Path,
    work_dir: Path,
    raw_dir: Path | None = None,
    *,
    raw_format: str = "parquet",
    database: Path | None = None,
) -> dict[str, str]:
    """os.environ plus the project's profile and paths under work_dir (the warehouse file is
    work_dir/warehouse.duckdb unless `database` says otherwise)."""
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "DBT_PROFILES_DIR": str(project_dir),
        "DBT_TARGET_PATH": str(work_dir / "target"),
        "DBT_LOG_PATH": str(work_dir / "logs"),
        "CUSTOMER_HEALTH_DB": str(database or work_dir / "warehouse.duckdb"),
        "CUSTOMER_HEALTH_DUCKDB_TMP": str(work_dir / "duckdb_tmp"),
    }
    if raw_dir is not None:
        env["CUSTOMER_HEALTH_RAW_DIR"] = str(raw_dir)
        env["CUSTOMER_HEALTH_RAW_FORMAT"] = raw_format
    return env


DBT = Path(sys.executable).parent / "dbt"
GENERATOR = Path(__file__).resolve().parents[2] / "scripts" / "generate_demo_data.py"


def generate_demo_data(out_dir: Path, *args: str, timeout: float | None = None) -> Path:
    """Demo raw files in out_dir from scripts/generate_demo_data.py with the given arguments
    (--accounts, --days, --seed, --end-date...); a failure raises with the script's output."""
    subprocess.run(
        [sys.executable, str(GENERATOR), *args, "--out", str(out_dir)],
        check=True,
        capture_output=True,
        timeout=timeout,
    )
    return out_dir


def run_dbt(
    args: list[str],
    project_dir: Path,
    work_dir: Path,
    raw_dir: Path | None = None,
    *,
    raw_format: str = "parquet",
    database: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Runs dbt on project_dir in the environment of dbt_env, output captured."""
    env = dbt_env(project_dir, work_dir, raw_dir, raw_format=raw_format, database=database)
    return subprocess.run(
        [str(DBT), *args, "--project-dir", str(project_dir)],
        cwd=project_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def copy_staging_project(source: Path, target: Path, *folders: str) -> Path:
    """A copy of the project's staging models, macros and generic tests (plus `folders`), with
    its config files and the plan_segments seed staging checks plans against: a project a test
    may change without touching the repository."""
    for folder in ("models/staging", "macros", "tests/generic", *folders):
        shutil.copytree(source / folder, target / folder)
    for name in ("dbt_project.yml", "profiles.yml", "models/_groups.yml"):
        shutil.copy(source / name, target / name)
    (target / "seeds").mkdir()
    shutil.copy(source / "seeds/plan_segments.csv", target / "seeds/plan_segments.csv")
    return target


def _constraints(database: Path | str, constraint_type: str) -> list[tuple[str, list[str]]]:
    """(table, columns) of each constraint of a type in the main schema of a DuckDB file."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute(
            "select table_name, constraint_column_names from duckdb_constraints()"
            " where schema_name = 'main' and constraint_type = ?",
            [constraint_type],
        ).fetchall()


def not_null_constraints(database: Path | str) -> set[tuple[str, str]]:
    """(table, column) of every NOT NULL constraint in the main schema of a DuckDB file."""
    rows = _constraints(database, "NOT NULL")
    return {(table, column) for table, columns in rows for column in columns}


def primary_keys(database: Path | str) -> dict[str, set[str]]:
    """Each table's primary key columns, in the main schema of a DuckDB file."""
    return {table: set(columns) for table, columns in _constraints(database, "PRIMARY KEY")}
