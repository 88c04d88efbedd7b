"""Models built in account buckets (macros/performance/account_buckets.sql) hold the same rows
as the same models built in one statement.

Demo data are built once with var account_buckets = 1 (one statement per model); the models
materialized in account buckets (tables, and incremental marts on their first build) are
copied aside, then rebuilt with account_buckets = 3 on the same warehouse (the marts with
history_rebuild): each table must equal its copy (`except all` both ways), and dbt's log
must show the three statements, each reading one range of account_id whose bounds are the
staged accounts' ntiles. A daily run after that (the history recorded, 3 lookback dates of
91) builds in ceil(3 x 3 / 91) = 1 bucket. A bucket count that is not a whole number of
at least 1 fails at compile time with a message naming the var. The two large inputs built in
one statement and read one range at a time (the user-days, the health history) are stored in
account order.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import duckdb
import pytest

from scripts.benchmark.dbt_build import read_bucket_timings
from tests.python import dbt_env

PROJECT_DIR = Path(__file__).resolve().parents[2]
BUCKETED = (
    "config.materialized:account_bucketed_table config.materialized:account_bucketed_incremental"
)
BUCKETS = 3
BUCKETED_VARS = f"{{account_buckets: {BUCKETS}, history_rebuild: true}}"
NO_TESTS = ["--exclude-resource-type", "test", "unit_test"]
# Built in one statement, but read one account range at a time by bucketed models: stored in
# account order so that each bucket skips the other ranges' row groups
READ_IN_BUCKETS = ("int_account_user_days_aggregated", "fct_health_score_history")


def generate(raw_dir: Path) -> None:
    dbt_env.generate_demo_data(
        raw_dir,
        *("--accounts", "60", "--days", "120", "--seed", "11", "--end-date", "2026-10-31"),
    )


def rows_out_of_account_order(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Rows stored (rowid order) after a row of a greater account_id."""
    return con.execute(
        f"select count(*) from (select account_id, lag(account_id) over (order by rowid)"
        f" as previous_account_id from main.{table}) where account_id < previous_account_id"
    ).fetchone()[0]


def run_dbt(args: list[str], work_dir: Path, raw_dir: Path) -> subprocess.CompletedProcess[str]:
    # dbt.log at debug: the tests read the statements dbt ran (the project logs at info)
    return dbt_env.run_dbt([*args, "--log-level-file", "debug"], PROJECT_DIR, work_dir, raw_dir)


def bucketed_models(work_dir: Path, raw_dir: Path) -> list[str]:
    result = run_dbt(["ls", "--select", BUCKETED, "--output", "name"], work_dir, raw_dir)
    assert result.returncode == 0, result.stdout[-3000:]
    return [line for line in result.stdout.split() if line.startswith(("int_", "fct_"))]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work_dir = tmp_path_factory.mktemp("account_buckets")
    raw_dir = work_dir / "raw"
    generate(raw_dir)
    models = bucketed_models(work_dir, raw_dir)
    one_statement = run_dbt(
        ["build", "--select", *(f"+{part}" for part in BUCKETED.split()), *NO_TESTS],
        work_dir,
        raw_dir,
    )
    assert one_statement.returncode == 0, one_statement.stdout[-5000:]
    database = work_dir / "warehouse.duckdb"
    with duckdb.connect(str(database)) as con:
        out_of_order = {table: rows_out_of_account_order(con, table) for table in READ_IN_BUCKETS}
        for model in models:
            con.execute(f"create table main.{model}__one_statement as select * from main.{model}")
    in_buckets = run_dbt(
        # history_rebuild: the incremental marts' first build is the one made in buckets
        ["run", "--select", *BUCKETED.split(), "--vars", BUCKETED_VARS],
        work_dir,
        raw_dir,
    )
    assert in_buckets.returncode == 0, in_buckets.stdout[-5000:]
    log_file = work_dir / "logs" / "dbt.log"
    log = log_file.read_text()
    with duckdb.connect(str(database)) as con:
        for model in models:
            con.execute(f"create table main.{model}__in_buckets as select * from main.{model}")
    # A daily run: the history now exists, so the run scores only its lookback dates
    daily = run_dbt(
        ["run", "--select", "int_score_dates_spined+", "--vars", f"{{account_buckets: {BUCKETS}}}"],
        work_dir,
        raw_dir,
    )
    assert daily.returncode == 0, daily.stdout[-5000:]
    daily_log = log_file.read_text()[len(log) :]
    return {
        "models": models,
        "out_of_order": out_of_order,
        "db": database,
        "log": log,
        "daily_log": daily_log,
        "work": work_dir,
        "raw": raw_dir,
    }


def test_the_large_models_are_bucketed(built: dict) -> None:
    assert {"int_account_activity_windowed", "int_account_metrics_computed"} <= set(built["models"])


def test_each_bucket_is_one_statement(built: dict) -> None:
    for bucket in range(1, BUCKETS + 1):
        statements = built["log"].count(f"/* account bucket {bucket} of {BUCKETS} */")
        # every model filters at least one input, in each of its statements
        assert statements >= len(built["models"]), (bucket, statements)


def test_each_model_built_in_buckets_logs_its_buckets_seconds_and_rows(built: dict) -> None:
    timings = read_bucket_timings(built["log"])
    assert set(timings) == set(built["models"])
    with duckdb.connect(str(built["db"]), read_only=True) as con:
        for model, timing in timings.items():
            rows = con.execute(f"select count(*) from main.{model}__in_buckets").fetchone()[0]
            # the rows each statement reported add up to the table
            assert (timing["buckets"], timing["tenth"], timing["rows"]) == (BUCKETS, 1, rows)
            assert 1 <= timing["slowest_bucket"] <= BUCKETS, model
            assert 0 < timing["slowest_bucket_seconds"] <= timing["seconds"], model
            assert 0 < timing["slowest_bucket_rows"] <= rows, model
            # the line rounds the seconds to 0.1 and the rate to 0.01
            overall, to_per_million = timing["seconds_per_million_rows"], 1e6 / rows
            assert overall == pytest.approx(
                timing["seconds"] * to_per_million, abs=0.05 * to_per_million + 0.01
            )
    # the daily run's one bucket has no line
    assert "account buckets, " not in built["daily_log"]


def test_buckets_are_ranges_of_the_staged_accounts(built: dict) -> None:
    # bounds: the first id of each of 3 ntiles of the 60 staged accounts (20 each)
    with duckdb.connect(str(built["db"]), read_only=True) as con:
        staged = con.execute("select account_id from main.stg_crm__accounts order by 1")
        ids = [row[0] for row in staged.fetchall()]
    assert len(ids) == 60
    second, third = ids[20], ids[40]
    for predicate in (
        f"(account_id < '{second}' or account_id is null /* account bucket 1 of 3 */)",
        f"(account_id >= '{second}' and account_id < '{third}' /* account bucket 2 of 3 */)",
        f"(account_id >= '{third}' /* account bucket 3 of 3 */)",
    ):
        assert built["log"].count(predicate) >= len(built["models"]), predicate


def test_buckets_hold_the_same_rows(built: dict) -> None:
    with duckdb.connect(str(built["db"]), read_only=True) as con:
        for model in built["models"]:
            rows = con.execute(f"select count(*) from main.{model}__in_buckets").fetchone()[0]
            assert rows > 0, model
            in_buckets, copy = f"{model}__in_buckets", f"{model}__one_statement"
            for left, right in ((in_buckets, copy), (copy, in_buckets)):
                extra = con.execute(
                    f"select count(*) from (select * from main.{left} except all "
                    f"select * from main.{right})"
                ).fetchone()[0]
                assert extra == 0, f"{model}: {extra} rows of {left} not in {right}"


def test_inputs_read_in_buckets_are_stored_in_account_order(built: dict) -> None:
    assert built["out_of_order"] == {table: 0 for table in READ_IN_BUCKETS}


def test_a_daily_run_takes_the_buckets_of_its_share_of_the_dates(built: dict) -> None:
    with duckdb.connect(str(built["db"]), read_only=True) as con:
        run_dates = con.execute("select count(*) from main.int_score_dates_spined").fetchone()[0]
        recorded = con.execute(
            "select count(distinct score_date) from main.fct_health_score_history"
        ).fetchone()[0]
    # 3 buckets for the 91 dates of the rebuild (120 days of data less the 29 of the
    # history's warm-up); the lookback's 3 take ceil(3 * 3 / 91) = 1
    assert (run_dates, recorded) == (3, 91)
    assert f"of {BUCKETS} */" not in built["daily_log"]
    assert "/* account bucket 1 of 1 */" in built["daily_log"]
    for model in ("int_account_activity_windowed", "int_account_metrics_computed"):
        line = f"{model}: 1 account bucket(s) of 3 for 3 score date(s) of 91"
        assert line in built["daily_log"], model


def test_a_bucket_count_below_one_names_the_var(built: dict) -> None:
    result = run_dbt(
        ["compile", "--select", "int_account_activity_windowed", "--vars", "{account_buckets: 0}"],
        built["work"],
        built["raw"],
    )
    assert result.returncode != 0
    assert "var account_buckets must be a whole number of at least 1" in result.stdout


def test_bucketed_marts_keep_their_not_null_constraints(built: dict) -> None:
    """The contract's not null columns of a mart built in buckets are declared on its table:
    the first bucket is created with create_table_as, which renders them (dbt's parser warns
    that a custom materialization ignores constraints, silenced with warn_unsupported)."""
    manifest = json.loads((built["work"] / "target" / "manifest.json").read_text())
    declared = {
        (node["name"], column["name"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["name"] in built["models"]
        for column in node["columns"].values()
        if any(constraint["type"] == "not_null" for constraint in column["constraints"])
    }
    expected = {
        ("fct_metric_score_history", "metric_id"),
        ("fct_metric_contribution_changes", "compared_date"),
        ("fct_health_alerts", "alert_id"),
    }
    assert expected <= declared, sorted(declared)
    enforced = dbt_env.not_null_constraints(built["db"])
    assert declared <= enforced, sorted(declared - enforced)
