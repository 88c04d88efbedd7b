"""The score history built incrementally equals a full rebuild, row for row.

Demo data are generated once up to a later end date; the "earlier" data set is the same
data cut at an earlier date (rows created on or after the cut dropped, with DuckDB), since
the generator's rows depend on its end date. One warehouse is built on the earlier data,
then run again on the later data (an incremental run: only the new dates plus the lookback
are scored); another warehouse is built from scratch on the later data. The incremental
marts (score histories, contribution changes, alerts) must hold the same rows with the
same values, scores to 1e-9.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

from scripts.demo_generator.constants import MAIN_TIMESTAMP
from tests.python.dbt_env import dbt_env, generate_demo_data

PROJECT_DIR = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).parent / "dbt"
END_DATE = "2026-10-31"
CUT_DATE = "2026-10-21"  # the earlier data end the day before
LOOKBACK_DAYS = 3
HISTORY_KEYS = {
    "fct_health_score_history": ["account_id", "score_date"],
    "fct_metric_score_history": ["account_id", "score_date", "metric_id"],
    "fct_metric_contribution_changes": ["account_id", "score_date", "metric_id"],
    "fct_health_alerts": ["alert_id"],
}


def generate(raw_dir: Path) -> None:
    generate_demo_data(
        raw_dir,
        *("--accounts", "40", "--days", "150", "--seed", "7"),
        *("--end-date", END_DATE, "--dirty-fraction", "0"),
    )


def cut(later_dir: Path, earlier_dir: Path) -> None:
    """Copy every raw table, without the rows created on or after CUT_DATE."""
    earlier_dir.mkdir()
    with duckdb.connect() as con:
        for table, column in MAIN_TIMESTAMP.items():  # when each row came into existence
            source = later_dir / f"{table}.parquet"
            target = earlier_dir / f"{table}.parquet"
            con.execute(
                f"""
                copy (
                    select * from read_parquet('{source}')
                    where try_cast({column} as timestamp) < date '{CUT_DATE}'
                ) to '{target}' (format parquet)
                """
            )


def warehouse_env(tmp: Path, name: str, raw_dir: Path) -> dict[str, str]:
    """A named warehouse tmp/<name>.duckdb, with its dbt paths under tmp/dbt_<name>."""
    return dbt_env(PROJECT_DIR, tmp / f"dbt_{name}", raw_dir, database=tmp / f"{name}.duckdb")


def dbt(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DBT), *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True
    )


def dbt_build(env: dict[str, str], *, as_of: date | None = None, data_tests: bool = False) -> None:
    """dbt build without unit tests; data tests only if asked; var as_of_date if given."""
    excluded = (
        ["resource_type:unit_test"]
        if data_tests
        else ["resource_type:test", "resource_type:unit_test"]
    )
    as_of_var = f", as_of_date: '{as_of}'" if as_of else ""
    result = dbt(
        env,
        *("build", "--exclude", *excluded),
        *("--vars", f"{{history_lookback_days: {LOOKBACK_DAYS}{as_of_var}}}"),
    )
    assert result.returncode == 0, result.stdout[-4000:]


def read_rows(database: Path, table: str) -> dict[tuple, dict[str, object]]:
    with duckdb.connect(str(database), read_only=True) as con:
        cursor = con.execute(f"select * from main.{table}")
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    keyed = {tuple(row[key] for key in HISTORY_KEYS[table]): row for row in rows}
    assert len(keyed) == len(rows), f"{table}: duplicate keys"
    return keyed


def same_value(left: object, right: object) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=0, abs_tol=1e-9)
    return left == right


def assert_same_rows(
    table: str, rows: dict[tuple, dict[str, object]], expected: dict[tuple, dict[str, object]]
) -> None:
    """The same keys, and every value the same (floats to 1e-9)."""
    assert rows.keys() == expected.keys(), (
        f"{table}: {len(rows.keys() - expected.keys())} rows only here, "
        f"{len(expected.keys() - rows.keys())} only expected"
    )
    differences = [
        (key, column, row[column], expected[key][column])
        for key, row in rows.items()
        for column in row
        if not same_value(row[column], expected[key][column])
    ]
    assert not differences, f"{table}: {len(differences)} values differ, e.g. {differences[:5]}"


STALE_ALERT_ID = "stale-alert-of-a-rescored-date"


def date_without_alerts(database: Path) -> date:
    """A date the daily run rescores (the lookback days and the new ones) on which
    the full rebuild raised no alert."""
    first = date.fromisoformat(CUT_DATE) - timedelta(days=LOOKBACK_DAYS)
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute("select alert_date from main.fct_health_alerts").fetchall()
    alerted = {row[0] for row in rows}
    day = first
    while day <= date.fromisoformat(END_DATE):
        if day not in alerted:
            return day
        day += timedelta(days=1)
    raise AssertionError(f"every date from {first} to {END_DATE} has alerts: change the seed")


def add_stale_alert(database: Path, alert_date: date) -> None:
    """An alert on alert_date, as if an earlier run had raised it before late data
    changed the scores: the daily run rescores that date and must remove it."""
    with duckdb.connect(str(database)) as con:
        con.execute(
            """
            insert into main.fct_health_alerts
            select * replace (? as alert_id, ? as alert_date)
            from main.fct_health_alerts
            limit 1
            """,
            [STALE_ALERT_ID, alert_date],
        )


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("history_incremental")
    later_dir = tmp / "raw_later"
    earlier_dir = tmp / "raw_earlier"
    generate(later_dir)
    cut(later_dir, earlier_dir)

    rebuilt = warehouse_env(tmp, "rebuilt", later_dir)
    dbt_build(rebuilt)

    incremental = warehouse_env(tmp, "incremental", earlier_dir)
    dbt_build(incremental)
    add_stale_alert(tmp / "incremental.duckdb", date_without_alerts(tmp / "rebuilt.duckdb"))
    incremental["CUSTOMER_HEALTH_RAW_DIR"] = str(later_dir)
    dbt_build(incremental)
    return {"incremental": tmp / "incremental.duckdb", "rebuilt": tmp / "rebuilt.duckdb"}


def test_a_rescored_date_without_alerts_keeps_none(warehouses: dict[str, Path]) -> None:
    """delete+insert replaces the dates its new rows hold; the alerts' pre-hook
    (clear_rescored_dates) clears the other rescored dates too."""
    with duckdb.connect(str(warehouses["incremental"]), read_only=True) as con:
        stale = con.execute(
            "select alert_date from main.fct_health_alerts where alert_id = ?", [STALE_ALERT_ID]
        ).fetchall()
    assert not stale, f"the alert of {stale[0][0]}, a rescored date, survived the daily run"


def test_incremental_run_scores_only_new_dates(warehouses: dict[str, Path]) -> None:
    with duckdb.connect(str(warehouses["incremental"]), read_only=True) as con:
        scored = con.execute(
            "select min(as_of_date), max(as_of_date), count(*) from main.int_score_dates_spined"
        ).fetchone()
        recorded = con.execute(
            "select min(score_date), count(distinct score_date) from main.fct_health_score_history"
        ).fetchone()
    assert scored is not None and recorded is not None
    first_scored, last_scored, dates_scored = scored
    assert str(last_scored) == END_DATE
    assert dates_scored == (last_scored - first_scored).days + 1
    # the new days (CUT_DATE to END_DATE) and the last LOOKBACK_DAYS recorded ones
    new_days = (date.fromisoformat(END_DATE) - date.fromisoformat(CUT_DATE)).days + 1
    assert dates_scored == new_days + LOOKBACK_DAYS
    assert dates_scored < recorded[1]


def test_the_history_starts_after_the_warmup_days(warehouses: dict[str, Path]) -> None:
    """Not on the data's first day, where every window holds one day and scores are made
    up: var history_warmup_days (dbt_project.yml) into the data."""
    project_vars = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    warmup_days = project_vars["history_warmup_days"]
    assert warmup_days == 29  # a 30-day window full on the first score date
    with duckdb.connect(str(warehouses["rebuilt"]), read_only=True) as con:
        first_activity, first_score = con.execute(
            "select (select min(activity_date) from main.int_account_user_days_aggregated),"
            " (select min(score_date) from main.fct_health_score_history)"
        ).fetchone()
    assert first_score == first_activity + timedelta(days=warmup_days)


@pytest.mark.parametrize("table", sorted(HISTORY_KEYS))
def test_incremental_equals_full_rebuild(warehouses: dict[str, Path], table: str) -> None:
    # here: the incremental warehouse; expected: the rebuilt one
    assert_same_rows(
        table, read_rows(warehouses["incremental"], table), read_rows(warehouses["rebuilt"], table)
    )


def dbt_test(env: dict[str, str], select: str) -> subprocess.CompletedProcess[str]:
    return dbt(env, "test", "--select", select, "--exclude", "test_type:unit")


def incremental_copy(warehouses: dict[str, Path], tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A copy of the incrementally built warehouse, and the dbt environment that uses it."""
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(warehouses["incremental"], copy)
    return copy, warehouse_env(tmp_path, "copy", warehouses["incremental"].parent / "raw_later")


def sql_dbt_ran(env: dict[str, str]) -> str:
    """Every SQL file dbt ran in the environment env, concatenated."""
    return "".join(path.read_text() for path in Path(env["DBT_TARGET_PATH"], "run").rglob("*.sql"))


def test_daily_run_tests_the_dates_it_wrote(warehouses: dict[str, Path], tmp_path: Path) -> None:
    """The history marts' data tests read the dates the last run scored (where:
    __rescored_dates__): a duplicate on one of them fails, one on an older date,
    tested when it was written, is not read again."""
    copy, env = incremental_copy(warehouses, tmp_path)
    select = "fct_metric_score_history,test_name:unique_combination_of_columns"
    duplicate = """
        insert into main.fct_metric_score_history
        select * from main.fct_metric_score_history
        where score_date = (select {edge}(score_date) from main.fct_metric_score_history)
        limit 1
    """
    with duckdb.connect(str(copy)) as con:
        con.execute(duplicate.format(edge="min"))
    old = dbt_test(env, select)
    assert old.returncode == 0, old.stdout[-3000:]

    with duckdb.connect(str(copy)) as con:
        con.execute(duplicate.format(edge="max"))
    new = dbt_test(env, select)
    assert new.returncode != 0 and "FAIL 1" in new.stdout, new.stdout[-3000:]
    # the first rescored date is a literal in the SQL run, which DuckDB pushes into the scan
    with duckdb.connect(str(copy), read_only=True) as con:
        first = con.execute(
            "select min(as_of_date) from main.int_score_dates_spined where is_history_date"
        ).fetchone()[0]
    run_sql = sql_dbt_ran(env)
    assert f"score_date >= cast('{first.isoformat()}' as date)" in run_sql


def test_a_run_that_scored_no_history_date_tests_no_row(
    warehouses: dict[str, Path], tmp_path: Path
) -> None:
    """When the run scored no history date, __rescored_dates__ is `false`: no row of a
    history mart was written, so none is tested again (not a literal of no date)."""
    copy, env = incremental_copy(warehouses, tmp_path)
    with duckdb.connect(str(copy)) as con:
        con.execute("update main.int_score_dates_spined set is_history_date = false")
        # a duplicate that a test reading the mart would find
        con.execute(
            "insert into main.fct_metric_score_history"
            " select * from main.fct_metric_score_history limit 1"
        )
    result = dbt_test(env, "fct_metric_score_history,test_name:unique_combination_of_columns")
    assert result.returncode == 0, result.stdout[-3000:]
    run_sql = sql_dbt_ran(env)
    assert "where false) dbt_subquery" in run_sql


def scorecard_version(env: dict[str, str], extra_vars: str) -> str:
    result = dbt(
        env,
        *("show", "--select", "int_scorecard_version_hashed"),
        *("--output", "json", "--log-format", "text", "--vars", extra_vars),
    )
    assert result.returncode == 0, result.stdout[-3000:]
    return re.findall(r'"scorecard_version": "([0-9a-f]{32})"', result.stdout)[0]


@pytest.mark.parametrize("changed", ["onboarding_max_days: 60", "score_decimals: 6"])
def test_scorecard_version_covers_the_scoring_vars(
    warehouses: dict[str, Path], tmp_path: Path, changed: str
) -> None:
    """The lifecycle bounds pick the scorecard row and score_decimals rounds the score:
    a run with another value must record another version."""
    _, env = incremental_copy(warehouses, tmp_path)
    assert scorecard_version(env, "{}") != scorecard_version(env, "{" + changed + "}")


def first_scored_date(env: dict[str, str], extra_vars: str) -> date:
    result = dbt(
        env,
        *("run", "--select", "int_score_dates_spined"),
        *("--vars", f"{{history_lookback_days: {LOOKBACK_DAYS}, {extra_vars}}}"),
    )
    assert result.returncode == 0, result.stdout[-3000:]
    with duckdb.connect(env["CUSTOMER_HEALTH_DB"], read_only=True) as con:
        return con.execute("select min(as_of_date) from main.int_score_dates_spined").fetchone()[0]


def test_history_complete_through_scores_the_later_dates_again(
    warehouses: dict[str, Path], tmp_path: Path
) -> None:
    """var history_complete_through (set by the orchestrator after a build in place
    stopped half-way) moves the last recorded score_date back, never forward."""
    copy, env = incremental_copy(warehouses, tmp_path)
    end = date.fromisoformat(END_DATE)
    assert first_scored_date(env, "history_complete_through: null") == end - timedelta(
        days=LOOKBACK_DAYS - 1
    )
    through = end - timedelta(days=20)
    assert first_scored_date(env, f"history_complete_through: '{through}'") == through - timedelta(
        days=LOOKBACK_DAYS - 1
    )
    later = end + timedelta(days=5)
    assert first_scored_date(env, f"history_complete_through: '{later}'") == end - timedelta(
        days=LOOKBACK_DAYS - 1
    )
    refused = dbt(
        env,
        *("run", "--select", "int_score_dates_spined"),
        *("--vars", "{history_complete_through: 'last week'}"),
    )
    assert refused.returncode != 0
    assert "var history_complete_through must be a date (YYYY-MM-DD)" in refused.stdout


@pytest.mark.parametrize("days_back", [20, 1])
def test_a_run_as_of_a_past_date_keeps_the_recorded_history(
    warehouses: dict[str, Path], tmp_path: Path, days_back: int
) -> None:
    """A run with an as_of_date the history has recorded scores the latest-date marts as
    of that date and leaves the history alone: 20 days back, before the lookback days,
    no history row is written again; 1 day back, the lookback days up to it are rescored
    and the later date keeps its rows and its alerts (the alerts' pre-hook once deleted
    every alert from the first rescored date on, for good)."""
    copy, env = incremental_copy(warehouses, tmp_path)
    as_of = date.fromisoformat(END_DATE) - timedelta(days=days_back)
    if days_back > LOOKBACK_DAYS:
        # as if an earlier scorecard had scored the date: a rescore would overwrite it,
        # and the latest-date marts, scored now, need not equal it
        with duckdb.connect(str(copy)) as con:
            con.execute(
                "update main.fct_health_score_history set scorecard_version = 'earlier',"
                " computed_score = computed_score / 2, health_score = health_score / 2"
                " where score_date = ?",
                [as_of],
            )
    before = {table: read_rows(copy, table) for table in HISTORY_KEYS}
    # with the data tests: assert_latest_scores_match_history too
    dbt_build(env, as_of=as_of, data_tests=True)

    for table, recorded in before.items():
        assert_same_rows(table, read_rows(copy, table), recorded)  # expected: as recorded
    with duckdb.connect(str(copy), read_only=True) as con:
        latest = con.execute("select distinct as_of_date from main.fct_health_scores").fetchall()
    assert latest == [(as_of,)]
