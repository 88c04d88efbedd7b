"""The model-level not-null test (tests/generic/test_not_null_columns.sql): one node checks all
the listed columns of a model and, when it fails, names each column holding nulls with its
number of null rows.

It runs on the staging models of the hand-made raw set (tests/fixtures/raw_small), against
stg_product__users (a view over base_product__users_parsed), whose account_id, email_hash and
created_at must never be null; nulls are planted in the base table of a copy of the warehouse.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from tests.python import dbt_env

PROJECT_DIR = Path(__file__).resolve().parents[2]
FIXTURE_DIR = PROJECT_DIR / "tests" / "fixtures" / "raw_small"
MODEL = "stg_product__users"
SELECT = f"{MODEL},test_name:not_null_columns"


def run_dbt(args: list[str], work_dir: Path, database: Path) -> subprocess.CompletedProcess[str]:
    return dbt_env.run_dbt(
        args, PROJECT_DIR, work_dir, FIXTURE_DIR, raw_format="csv", database=database
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work_dir = tmp_path_factory.mktemp("not_null_columns")
    database = work_dir / "warehouse.duckdb"
    for args in (["seed", "--select", "plan_segments"], ["run", "--select", "staging"]):
        result = run_dbt(args, work_dir, database)
        assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    return {"work": work_dir, "db": database}


def test_columns_without_nulls_pass(built: dict) -> None:
    result = run_dbt(["test", "--select", SELECT], built["work"], built["db"])
    assert result.returncode == 0, result.stdout[-5000:]
    assert "PASS=1 " in result.stdout, result.stdout[-3000:]


def test_each_column_with_nulls_is_named_with_its_count(built: dict, tmp_path: Path) -> None:
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(built["db"], copy)
    with duckdb.connect(str(copy)) as con:
        usable = [
            user_id
            for (user_id,) in con.execute(
                f"select user_id from main.{MODEL} order by user_id limit 3"
            ).fetchall()
        ]
        assert len(usable) == 3, "the fixture has fewer than 3 usable users"
        con.execute(
            "update main.base_product__users_parsed set email_hash = null"
            f" where user_id in ('{usable[0]}', '{usable[1]}')"
        )
        con.execute(
            "update main.base_product__users_parsed set created_at = null"
            f" where user_id = '{usable[2]}'"
        )
    result = run_dbt(["test", "--select", SELECT, "--store-failures"], built["work"], copy)
    assert result.returncode != 0 and "FAIL 2" in result.stdout, result.stdout[-5000:]
    with duckdb.connect(str(copy), read_only=True) as con:
        (schema, table), *others = con.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema like '%dbt_test__audit' and table_name like 'not_null_columns%'"
        ).fetchall()
        assert not others, others
        failures = con.execute(
            f'select column_name, null_rows from "{schema}"."{table}" order by column_name'
        ).fetchall()
    assert failures == [("created_at", 1), ("email_hash", 2)]


def test_a_column_list_that_is_not_a_list_names_the_model(built: dict) -> None:
    result = run_dbt(
        [
            "run-operation",
            "test_not_null_columns",
            "--args",
            "{model: main.stg_product__users, column_names: account_id}",
        ],
        built["work"],
        built["db"],
    )
    assert result.returncode != 0
    assert "column_names must be a non-empty list of columns" in result.stdout, result.stdout
