"""The incremental events base model decides again exactly the rows a full build would decide
otherwise, and keeps the rest.

The staging models are built on the hand-made raw set (tests/fixtures/raw_small), then the raw
data change the ways a daily export changes: a new event, a new exact copy, a later version of
an event that wins, an event gone, a user who arrives late, an account that becomes unusable.
A recorded row is also given a reason the clock has since made wrong (future_occurred_at on a
past event), which no raw change shows. The incremental run must then hold the same rows as a
full build of the changed data, with only the changed key buckets written again.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.python import dbt_env

PROJECT_DIR = Path(__file__).resolve().parents[2]
FIXTURE_DIR = PROJECT_DIR / "tests" / "fixtures" / "raw_small"
SELECTION = ["plan_segments", "staging"]
BASE = "main.base_product__events_parsed"
DECIDED_COLUMNS = (
    "event_id_raw, account_id_raw, user_id_raw, event_name_raw, occurred_at_raw, raw_copies,"
    " event_id, account_id, user_id, event_name, occurred_at, reject_reason, key_bucket,"
    " raw_row_checksum"
)
UNIQUE_TEST = "stg_product__events,test_name:unique"


def build(work_dir: Path, raw_dir: Path, *extra: str) -> str:
    """Staging built and tested on raw_dir (CSV); returns dbt's output, failing on an error."""
    result = dbt_env.run_dbt(
        ["build", "--select", *SELECTION, "--exclude", "resource_type:unit_test", *extra],
        PROJECT_DIR,
        work_dir,
        raw_dir,
        raw_format="csv",
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    return result.stdout


def query(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def execute(database: Path, sql: str) -> None:
    with duckdb.connect(str(database)) as connection:
        connection.execute(sql)


def edit_csv(path: Path, keep, added: list[dict[str, str]]) -> None:
    """Rewrites a raw CSV: the rows `keep` accepts, then `added` (dicts by header)."""
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        rows = [row for row in reader if keep(row)]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows + added)


def change_raw(raw_dir: Path) -> None:
    """The changes of one daily export (see the module docstring)."""
    event = {"account_id": "a1", "user_id": "u1", "event_name": "login"}
    edit_csv(
        raw_dir / "events.csv",
        keep=lambda row: row["event_id"] != "e14",  # gone: its bucket is emptied
        added=[
            {**event, "event_id": "e20", "occurred_at": "2025-03-07 08:00:00"},  # new
            {  # a second exact copy of e2
                "event_id": "e2",
                "account_id": "a1",
                "user_id": "u2",
                "event_name": " Report_Viewed ",
                "occurred_at": "2025-03-02 11:00:00",
            },
            {  # a later version of e3: it wins, the recorded one loses
                "event_id": "e3",
                "account_id": "a2",
                "user_id": "u3",
                "event_name": "export",
                "occurred_at": "2025-03-03 18:00:00",
            },
        ],
    )
    # u99 arrives in a1: e13 (a1, u99) becomes usable, e16's u99 version changes reason
    edit_csv(
        raw_dir / "users.csv",
        keep=lambda row: True,
        added=[
            {
                "user_id": "u99",
                "account_id": "a1",
                "email": "late@acme.com",
                "created_at": "2025-03-05 09:00:00",
                "deactivated_at": "",
            }
        ],
    )
    # a3 loses its plan: it is quarantined, and e4 (a3) becomes an orphan
    with (raw_dir / "accounts.csv").open(newline="") as handle:
        accounts = list(csv.DictReader(handle))
    edit_csv(
        raw_dir / "accounts.csv",
        keep=lambda row: row["account_id"].strip() != "a3",
        added=[{**row, "plan": ""} for row in accounts if row["account_id"].strip() == "a3"],
    )


def differences(incremental: Path, full: Path) -> list[tuple]:
    """Rows of the base model in one warehouse and not the other (parsed_at aside)."""
    with duckdb.connect(str(incremental), read_only=True) as connection:
        connection.execute(f"attach '{full}' as full_build (read_only)")
        return connection.execute(
            f"""
            (select 'incremental only', {DECIDED_COLUMNS} from {BASE}
             except all select 'incremental only', {DECIDED_COLUMNS}
             from full_build.{BASE})
            union all
            (select 'full build only', {DECIDED_COLUMNS} from full_build.{BASE}
             except all select 'full build only', {DECIDED_COLUMNS} from {BASE})
            """
        ).fetchall()


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A warehouse built on the fixture, changed, and built again incrementally; and a full
    build of the changed data."""
    root = tmp_path_factory.mktemp("events_incremental")
    raw_dir = root / "raw"
    shutil.copytree(FIXTURE_DIR, raw_dir)
    incremental = root / "incremental"
    build(incremental, raw_dir)
    database = incremental / "warehouse.duckdb"
    first_stamp = query(database, f"select max(parsed_at) from {BASE}")[0][0]
    # what the clock would have made wrong since: e5's winning version recorded as a
    # future event (no raw change touches e5)
    execute(
        database,
        f"update {BASE} set reject_reason = 'future_occurred_at'"
        " where event_id = 'e5' and reject_reason is null",
    )
    change_raw(raw_dir)
    build(incremental, raw_dir)
    full = root / "full"
    build(full, raw_dir)
    return {"incremental": database, "full": full / "warehouse.duckdb", "first": first_stamp}


def test_incremental_run_equals_a_full_build(builds: dict[str, Path]) -> None:
    assert differences(builds["incremental"], builds["full"]) == []


def test_the_changes_took_effect(builds: dict[str, Path]) -> None:
    """The full build says what the changed data give; these rows say the changes mattered."""
    rows = dict(
        ((event_id, user_id, occurred_at), (reason, copies))
        for event_id, user_id, occurred_at, reason, copies in query(
            builds["incremental"],
            f"select event_id, user_id, cast(occurred_at as varchar), reject_reason,"
            f" raw_copies from {BASE} where event_id in ('e2', 'e3', 'e4', 'e13', 'e14', 'e20')",
        )
    )
    assert rows == {
        ("e2", "u2", "2025-03-02 11:00:00"): (None, 2),
        ("e3", "u3", "2025-03-03 12:00:00"): ("conflicting_duplicate", 1),
        ("e3", "u3", "2025-03-03 18:00:00"): (None, 1),
        ("e4", "u4", "2025-03-04 13:00:00"): ("orphan_account", 1),
        ("e13", "u99", "2025-03-06 00:00:00"): (None, 1),
        ("e20", "u1", "2025-03-07 08:00:00"): (None, 1),
    }


def test_only_changed_buckets_are_written_again(builds: dict[str, Path]) -> None:
    database = builds["incremental"]
    rewritten = {
        event_id
        for (event_id,) in query(
            database,
            f"select event_id from {BASE} where parsed_at > (select min(parsed_at) from {BASE})",
        )
    }
    # e16's u99 version is user_of_other_account now: its bucket (both versions) too
    assert rewritten == {"e2", "e3", "e4", "e5", "e13", "e16", "e20"}
    kept = query(database, f"select distinct parsed_at from {BASE} where event_id = 'e1'")
    assert kept == [(builds["first"],)]
    assert query(database, f"select count(*) from {BASE} where raw_copies < 1") == [(0,)]


def warehouse_copy(source: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A work directory holding a copy of the warehouse `source`; returns it and the copy."""
    work_dir = tmp_path / "work"
    work_dir.mkdir()
    database = work_dir / "warehouse.duckdb"
    shutil.copy(source, database)
    return work_dir, database


def unique_test(work_dir: Path) -> int:
    """Runs the unique test of stg_product__events.event_id; returns dbt's exit code."""
    return dbt_env.run_dbt(
        ["test", "--select", UNIQUE_TEST], PROJECT_DIR, work_dir, FIXTURE_DIR, raw_format="csv"
    ).returncode


def unique_test_sql(work_dir: Path) -> str:
    """The SQL dbt ran for the unique test of stg_product__events.event_id."""
    (path,) = (work_dir / "target" / "run").rglob("unique_stg_product__events_event_id.sql")
    return path.read_text()


def test_unique_event_id_test_reads_the_buckets_written_last(
    builds: dict[str, Path], tmp_path: Path
) -> None:
    """A duplicate event_id fails the test when its rows are among the latest run's; one left
    in a bucket no run wrote since it was tested is not read again."""
    work_dir, database = warehouse_copy(builds["incremental"], tmp_path)
    assert unique_test(work_dir) == 0
    copy_of = f"insert into {BASE} select * from {BASE} where event_id = '{{}}'"
    execute(database, copy_of.format("e1"))  # an old bucket: not read
    assert unique_test(work_dir) == 0
    execute(database, copy_of.format("e20"))  # written by the latest run
    assert unique_test(work_dir) == 1
    # the latest stamp is a literal in the SQL run, not a subquery
    last_stamp = query(database, f"select max(parsed_at) from {BASE}")[0][0]
    assert f"parsed_at >= cast('{last_stamp}' as timestamp)" in unique_test_sql(work_dir)


def test_unique_event_id_test_reads_every_row_after_a_full_build(
    builds: dict[str, Path], tmp_path: Path
) -> None:
    """When one run wrote every row (a full build), the test reads the whole table with no
    filter, where the semi-join matched every event_id against every event_id; a repeated
    event_id fails it."""
    assert "where true)" in unique_test_sql(builds["full"].parent)
    work_dir, database = warehouse_copy(builds["full"], tmp_path)
    assert query(database, f"select count(distinct parsed_at) from {BASE}") == [(1,)]
    execute(database, f"insert into {BASE} select * from {BASE} where event_id = 'e1'")
    assert unique_test(work_dir) == 1
    assert "where true)" in unique_test_sql(work_dir)


def test_unique_event_id_test_reads_no_row_when_no_row_is_stamped(
    builds: dict[str, Path], tmp_path: Path
) -> None:
    """An empty base model has no latest stamp, so no key the latest run wrote: the filter is
    `false`, not a cast of no stamp."""
    work_dir, database = warehouse_copy(builds["full"], tmp_path)
    execute(database, f"delete from {BASE}")
    assert unique_test(work_dir) == 0
    assert "where false)" in unique_test_sql(work_dir)


def test_an_empty_run_keeps_every_row(builds: dict[str, Path], tmp_path: Path) -> None:
    """dbt's --empty reads no source rows: an incremental run must not take that for every
    raw row gone."""
    work_dir = tmp_path / "work"
    work_dir.mkdir()
    database = work_dir / "warehouse.duckdb"
    shutil.copy(builds["incremental"], database)
    before = query(database, f"select count(*), max(parsed_at) from {BASE}")
    result = dbt_env.run_dbt(
        ["run", "--select", "base_product__events_parsed", "--empty"],
        PROJECT_DIR,
        work_dir,
        FIXTURE_DIR,
        raw_format="csv",
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert query(database, f"select count(*), max(parsed_at) from {BASE}") == before


def test_a_table_from_before_is_refused_with_the_fix(tmp_path: Path) -> None:
    raw_dir = tmp_path / "raw"
    shutil.copytree(FIXTURE_DIR, raw_dir)
    build(tmp_path, raw_dir)
    execute(tmp_path / "warehouse.duckdb", f"alter table {BASE} drop column key_bucket")
    result = dbt_env.run_dbt(
        ["run", "--select", "base_product__events_parsed"],
        PROJECT_DIR,
        tmp_path,
        raw_dir,
        raw_format="csv",
    )
    assert result.returncode == 1
    assert "has no key_bucket column" in result.stdout
    assert "--full-refresh --select base_product__events_parsed+" in result.stdout
