"""The environment of a test's dbt subprocess: its own warehouse file, target, logs and spill
directory under the test's work directory, so no test reads or writes the repository's
warehouse, and a raw directory when the test builds from raw files."""

from __future__ import annotations

import os
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
