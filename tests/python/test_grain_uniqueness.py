"""The uniqueness test of a composite grain (tests/generic/test_unique_combination_of_columns.sql)
on each of its paths: the rows whose `grain_hash` repeats, found by sorting the hashes (DuckDB)
or by grouping them (Spark: a copy of the project without duckdb__repeated_grain_hashes), then
compared column by column; and the plain `group by` of the engines without a hash (a copy
whose duckdb__grain_hash returns none). On each path a unique grain passes, and a duplicate
row fails the test, also when one of its grain columns is null.

It runs on the staging models of the hand-made raw set (tests/fixtures/raw_small), against
base_product__users_parsed, whose grain is five columns and whose deactivated_at_raw is null
for most users.
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
MODEL = "base_product__users_parsed"
SELECT = f"{MODEL},test_name:unique_combination_of_columns"
HASHED_MACRO = "{{- return('hash(' ~ columns | join(', ') ~ ')') -}}"
SORTED_MACRO = "{% macro duckdb__repeated_grain_hashes("


def run_dbt(
    args: list[str], project_dir: Path, work_dir: Path, database: Path
) -> subprocess.CompletedProcess[str]:
    """dbt on the fixture, against the given warehouse file."""
    return dbt_env.run_dbt(
        args, project_dir, work_dir, FIXTURE_DIR, raw_format="csv", database=database
    )


def patched_project(target: Path, macro_text: str, replacement: str) -> Path:
    """A copy of the staging part of the project with one macro of grain_hash.sql changed."""
    dbt_env.copy_staging_project(PROJECT_DIR, target)
    macro = target / "macros/testing/grain_hash.sql"
    sql = macro.read_text()
    assert sql.count(macro_text) == 1, f"{macro_text!r} changed: update this test"
    macro.write_text(sql.replace(macro_text, replacement))
    return target


# path -> (macro text replaced in the copy, its replacement); "sorted" is the project itself
PATCHES = {
    # no DuckDB variant: dispatch takes the default, which groups the hashes (as on Spark)
    "grouped": (SORTED_MACRO, "{% macro unused__repeated_grain_hashes("),
    # no hash: the test groups by the columns themselves
    "plain": (HASHED_MACRO, "{{- return(none) -}}"),
}


@pytest.fixture(scope="module", params=["sorted", "grouped", "plain"])
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The staging models built on the fixture, by the project or by a patched copy."""
    work_dir = tmp_path_factory.mktemp(f"grain_{request.param}")
    project_dir = PROJECT_DIR
    if request.param in PATCHES:
        project_dir = patched_project(work_dir / "project", *PATCHES[request.param])
    database = work_dir / "warehouse.duckdb"
    for args in (["seed", "--select", "plan_segments"], ["run", "--select", "staging"]):
        result = run_dbt(args, project_dir, work_dir, database)
        assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    return {"path": request.param, "project": project_dir, "work": work_dir, "db": database}


def test_the_compiled_test_takes_its_path(built: dict) -> None:
    result = run_dbt(["compile", "--select", SELECT], built["project"], built["work"], built["db"])
    assert result.returncode == 0, result.stdout[-5000:]
    # dbt names a test with a long name by a hash: pick it by the model it reads
    compiled = [
        path
        for path in (built["work"] / "target" / "compiled").rglob("unique_combination_*.sql")
        if MODEL in path.read_text()
    ]
    assert len(compiled) == 1, compiled
    sql = " ".join(compiled[0].read_text().split())
    assert ("hash(user_id_raw" in sql) == (built["path"] != "plain"), sql
    sorts = "over (order by hashed.grain_hash)" in sql
    groups_hashes = "group by 1 having count(*) > 1" in sql
    assert (sorts, groups_hashes) == (built["path"] == "sorted", built["path"] == "grouped"), sql


def test_a_unique_grain_passes(built: dict) -> None:
    result = run_dbt(["test", "--select", SELECT], built["project"], built["work"], built["db"])
    assert result.returncode == 0, result.stdout[-5000:]


@pytest.mark.parametrize("null_column", [False, True])
def test_a_duplicate_row_fails(built: dict, null_column: bool, tmp_path: Path) -> None:
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(built["db"], copy)
    condition = "deactivated_at_raw is null" if null_column else "deactivated_at_raw is not null"
    with duckdb.connect(str(copy)) as con:
        rows = con.execute(f"select count(*) from main.{MODEL} where {condition}").fetchone()
        assert rows is not None and rows[0] > 0, f"the fixture has no user with {condition}"
        con.execute(
            f"insert into main.{MODEL} select * from main.{MODEL} where {condition} limit 1"
        )
    result = run_dbt(["test", "--select", SELECT], built["project"], built["work"], copy)
    assert result.returncode != 0 and "FAIL 1" in result.stdout, result.stdout[-5000:]
