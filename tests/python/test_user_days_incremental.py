"""The incremental user-days count late and corrected events on the day they belong to.

Demo data are built once (staging and int_account_user_days_aggregated only), then the raw
events are changed on days long before the lookback: one event added, one moved to another
user of its account, one removed, and every event of one day removed. An incremental run
must then hold exactly the staged events per account, user, day and event name, except the
day that lost every event, which keeps its rows: the data test
assert_user_days_add_up_to_staged_events fails on it, and a --full-refresh repairs it.
The grain test reads the days the latest run aggregated, and all of their rows.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from tests.python.dbt_env import generate_demo_data, run_dbt

PROJECT_DIR = Path(__file__).resolve().parents[2]
SELECT = "+int_account_user_days_aggregated"
USER_DAYS = "main.int_account_user_days_aggregated"
DATA_TEST = "assert_user_days_add_up_to_staged_events"
GRAIN_TEST = "int_account_user_days_aggregated,test_name:unique_combination_of_columns"
COLUMNS = "account_id, user_id, activity_date, event_name, event_count"
EXPECTED = """
    select account_id, user_id, occurred_on as activity_date, event_name, count(*) as event_count
    from main.stg_product__events
    group by 1, 2, 3, 4
"""


def build(work: Path, raw_dir: Path, *extra: str) -> None:
    """The seeds, staging and user-days models, without tests (some read other models)."""
    result = run_dbt(
        ["build", "--select", SELECT, "--exclude", "resource_type:test", "resource_type:unit_test"]
        + list(extra),
        PROJECT_DIR,
        work,
        raw_dir,
    )
    assert result.returncode == 0, result.stdout[-4000:]


def differences(database: Path) -> list[tuple]:
    """User-day rows that differ from the staged events' aggregate, either way."""
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(
            f"""
            (select 'missing' as side, * from ({EXPECTED})
             except select 'missing', {COLUMNS} from {USER_DAYS})
            union all
            (select 'extra', {COLUMNS} from {USER_DAYS}
             except select 'extra', * from ({EXPECTED}))
            order by 3, 2
            """
        ).fetchall()


def change_old_events(raw_dir: Path) -> dict[str, str]:
    """Changes the raw events of days long before the lookback, in place; returns the days."""
    events = raw_dir / "events.parquet"
    with duckdb.connect() as con:
        con.execute(f"create table events as select * from read_parquet('{events}')")
        con.execute(
            "create table days as select distinct cast(occurred_at as date) as day from events"
        )
        added, moved, removed, emptied = (
            str(row[0])
            for row in con.execute("select day from days order by day limit 4 offset 20").fetchall()
        )
        # a late event: a copy of the day's first one under a new event_id
        con.execute(
            f"""
            insert into events
            select * replace ('late-' || event_id as event_id)
            from events where cast(occurred_at as date) = date '{added}'
            order by event_id limit 1
            """
        )
        # a corrected event: another user of the same account
        changed = con.execute(
            f"""
            update events set user_id = (
                select min(other.user_id) from read_parquet('{raw_dir / "users.parquet"}') as other
                where other.account_id = events.account_id and other.user_id <> events.user_id
            )
            where event_id = (
                select min(event_id) from events as candidate
                where cast(candidate.occurred_at as date) = date '{moved}'
                and (
                    select count(*) from read_parquet('{raw_dir / "users.parquet"}') as other
                    where other.account_id = candidate.account_id
                ) > 1
            )
            """
        ).fetchone()
        assert changed == (1,), f"no event of {moved} could move to another user"
        changed = con.execute(
            f"""
            delete from events where event_id = (
                select min(event_id) from events where cast(occurred_at as date) = date '{removed}'
            )
            """
        ).fetchone()
        assert changed == (1,), f"no event of {removed} to remove"
        con.execute(f"delete from events where cast(occurred_at as date) = date '{emptied}'")
        con.execute(f"copy events to '{events}' (format parquet)")
    return {"added": added, "moved": moved, "removed": removed, "emptied": emptied}


@pytest.fixture(scope="module")
def changed_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("user_days_incremental")
    raw_dir = tmp / "raw"
    generate_demo_data(
        raw_dir,
        *("--accounts", "30", "--days", "90", "--seed", "11"),
        *("--end-date", "2026-10-31", "--dirty-fraction", "0"),
    )
    work = tmp / "dbt"
    build(work, raw_dir)
    assert differences(work / "warehouse.duckdb") == []
    passed = run_dbt(["test", "--select", DATA_TEST], PROJECT_DIR, work, raw_dir)
    assert passed.returncode == 0, passed.stdout[-3000:]
    days = change_old_events(raw_dir)
    build(work, raw_dir)
    return work, raw_dir, days


def test_incremental_run_counts_changed_days(
    changed_run: tuple[Path, Path, dict[str, str]],
) -> None:
    work, _, days = changed_run
    found = differences(work / "warehouse.duckdb")
    # only the emptied day's recorded rows are left over; the other changes are counted
    assert found, "the emptied day's rows should still be there"
    assert {(side, str(row_day)) for side, _, _, row_day, *_ in found} == {
        ("extra", days["emptied"])
    }, found[:10]


def days_last_aggregated(database: Path) -> set[str]:
    with duckdb.connect(str(database), read_only=True) as con:
        return {
            str(day)
            for (day,) in con.execute(
                f"select distinct activity_date from {USER_DAYS}"
                f" where aggregated_at = (select max(aggregated_at) from {USER_DAYS})"
            ).fetchall()
        }


def test_latest_run_stamps_the_days_it_aggregated(
    changed_run: tuple[Path, Path, dict[str, str]],
) -> None:
    work, _, days = changed_run
    database = work / "warehouse.duckdb"
    stamped = days_last_aggregated(database)
    with duckdb.connect(str(database), read_only=True) as con:
        all_days = {
            str(day)
            for (day,) in con.execute(f"select distinct activity_date from {USER_DAYS}").fetchall()
        }
        (runs,) = con.execute(f"select count(distinct aggregated_at) from {USER_DAYS}").fetchone()
    # the three changed days, not the emptied one (nothing was written for it), nor the
    # unchanged days before the lookback, which keep the first run's stamp
    assert {days["added"], days["moved"], days["removed"]} <= stamped
    assert days["emptied"] not in stamped
    assert len(stamped) < len(all_days) / 2 and runs == 2


def test_grain_test_reads_every_row_of_the_days_last_aggregated(
    changed_run: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    """A row repeated in a day the latest run wrote fails the grain test, even when the
    repeat is a leftover of an earlier run; a day the latest run did not write is not read
    again (the run that wrote it tested it)."""
    work, raw_dir, days = changed_run
    copy = tmp_path / "dbt"
    shutil.copytree(work, copy, ignore=shutil.ignore_patterns("logs", "duckdb_tmp"))
    database = copy / "warehouse.duckdb"
    outcomes = {}
    for case, day in (("last aggregated", days["moved"]), ("not read again", None)):
        with duckdb.connect(str(database)) as con:
            con.execute(f"delete from {USER_DAYS} where aggregated_at < '2000-01-01'")
            day_filter = (
                f"activity_date = date '{day}'"
                if day
                else f"aggregated_at < (select max(aggregated_at) from {USER_DAYS})"
            )
            # a copy of one row of that day, stamped long before any run
            inserted = con.execute(
                f"""
                insert into {USER_DAYS}
                select * replace (timestamp '1999-12-31' as aggregated_at)
                from {USER_DAYS} where {day_filter} order by all limit 1
                """
            ).fetchone()
            assert inserted == (1,), case
        result = run_dbt(["test", "--select", GRAIN_TEST], PROJECT_DIR, copy, raw_dir)
        assert "TOTAL=1" in result.stdout, result.stdout[-3000:]  # the one grain test ran
        outcomes[case] = result.returncode
        # the latest stamp is a literal in the SQL run, not a subquery
        with duckdb.connect(str(database), read_only=True) as con:
            (last_stamp,) = con.execute(f"select max(aggregated_at) from {USER_DAYS}").fetchone()
        run_sql = "".join(path.read_text() for path in (copy / "target" / "run").rglob("*.sql"))
        assert f"aggregated_at >= cast('{last_stamp}' as timestamp)" in run_sql, case
    assert outcomes == {"last aggregated": 1, "not read again": 0}, outcomes


def test_data_test_names_a_day_that_lost_every_event(
    changed_run: tuple[Path, Path, dict[str, str]],
) -> None:
    work, raw_dir, days = changed_run
    failed = run_dbt(
        ["test", "--select", DATA_TEST, "--store-failures"],
        PROJECT_DIR,
        work,
        raw_dir,
    )
    assert failed.returncode != 0, failed.stdout[-3000:]
    with duckdb.connect(str(work / "warehouse.duckdb"), read_only=True) as con:
        failing_days = con.execute(
            "select distinct cast(activity_date as varchar), staged_event_count "
            f"from main_dbt_test__audit.{DATA_TEST}"
        ).fetchall()
    assert failing_days == [(days["emptied"], None)]

    build(work, raw_dir, "--full-refresh")
    assert differences(work / "warehouse.duckdb") == []
