"""End-to-end tests of `python -m scripts.orchestrator`: one clean build, reused.

The module builds small demo data (30 accounts x 60 days) and one warehouse once;
the failure tests copy that warehouse and check it is left byte-for-byte intact.
Everything lives in tmp dirs: raw data, warehouse, runs, dbt target and logs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scripts.orchestrator.publish import RunLock  # noqa: E402

STEPS = [
    "locate_raw",
    "validate_raw",
    "prepare_build",
    "dbt_build",
    "validate_marts",
    "summarize",
    "publish",
]


@dataclass(frozen=True)
class Built:
    tmp: Path
    raw: Path
    warehouse: Path
    runs: Path
    result: subprocess.CompletedProcess
    summary: dict


def environment(tmp: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CUSTOMER_HEALTH_") and k not in ("DBT_TARGET", "DBT_PROFILES_DIR")
    }
    env.update(
        DO_NOT_TRACK="1",
        GX_ANALYTICS_ENABLED="false",
        DBT_PROFILES_DIR=str(ROOT),
        DBT_TARGET_PATH=str(tmp / "dbt_target"),
        DBT_LOG_PATH=str(tmp / "dbt_logs"),
        CUSTOMER_HEALTH_DUCKDB_TMP=str(tmp / "duckdb_tmp"),
        # Defaults for commands without flags: never the repository's own folders.
        CUSTOMER_HEALTH_DB=str(tmp / "default_wh" / "customer_health.duckdb"),
        CUSTOMER_HEALTH_RUNS_DIR=str(tmp / "default_runs"),
        CUSTOMER_HEALTH_RAW_DIR=str(tmp / "default_raw"),
    )
    return env


def orchestrate(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scripts.orchestrator", *args],
        cwd=ROOT,
        env=environment(tmp),
        capture_output=True,
        text=True,
        timeout=900,
    )


def run_args(raw: Path, warehouse: Path, runs: Path, *extra: str) -> list[str]:
    return [
        "run",
        "--raw-dir",
        str(raw),
        "--warehouse",
        str(warehouse),
        "--runs-dir",
        str(runs),
        *extra,
    ]


def latest_summary(runs: Path) -> dict:
    pointer = json.loads((runs / "latest.json").read_text())
    return json.loads(Path(pointer["summary"]).read_text())


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy_warehouse(built: Built, tmp_path: Path) -> Path:
    target = tmp_path / "wh" / built.warehouse.name
    target.parent.mkdir()
    shutil.copyfile(built.warehouse, target)
    return target


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    tmp = tmp_path_factory.mktemp("orchestrator")
    raw, warehouse, runs = tmp / "raw", tmp / "wh" / "customer_health.duckdb", tmp / "runs"
    demo = orchestrate(
        tmp, "demo-data", "--accounts", "30", "--days", "60", "--out", str(raw), "-q"
    )
    assert demo.returncode == 0, demo.stderr
    result = orchestrate(tmp, *run_args(raw, warehouse, runs))
    assert result.returncode == 0, result.stderr[-5000:]
    return Built(tmp, raw, warehouse, runs, result, latest_summary(runs))


# --- the clean run ---------------------------------------------------------------------


def test_clean_run_publishes_and_cleans_up(built: Built) -> None:
    files = sorted(p.name for p in built.warehouse.parent.iterdir() if p.is_file())
    assert files == ["customer_health.duckdb", "customer_health.duckdb.lock"]
    assert built.warehouse.with_suffix(".duckdb.lock").read_text() == ""  # no holder
    with duckdb.connect(str(built.warehouse)) as con:  # nobody holds it read-write
        assert con.execute("select count(*) from stg_crm__accounts").fetchone()[0] > 0
    assert f"OK run {built.summary['run_id']}" in built.result.stdout


def test_summary_json_for_schedulers(built: Built) -> None:
    summary = built.summary
    assert summary["status"] == "success" and summary["exit_code"] == 0
    assert summary["failed_step"] is None and summary["error"] is None
    assert [s["name"] for s in summary["steps"]] == STEPS
    assert all(s["status"] in ("ok", "warn") and s["seconds"] >= 0 for s in summary["steps"])
    assert summary["gx"]["import_seconds"] > 0
    assert summary["publish"]["published"] is True
    assert summary["publish"]["started_from_copy"] is False
    assert summary["dbt"]["success"] is True and summary["dbt"]["problems"] == []
    assert summary["settings"]["raw_format"] == "parquet"
    # Which raw files the run scored, as they were when validated.
    recorded_files = summary["validation"]["raw"]["raw_files"]
    assert sorted(recorded_files) == sorted(p.stem for p in built.raw.glob("*.parquet"))
    for table, recorded in recorded_files.items():
        stat = (built.raw / f"{table}.parquet").stat()
        assert recorded == {
            "path": str(built.raw / f"{table}.parquet"),
            "size_bytes": stat.st_size,
            "modified_ns": stat.st_mtime_ns,
        }
    run_dir = built.runs / summary["run_id"]
    for name in (
        "run.log",
        "dbt.log",
        "summary.json",
        "validation_raw.json",
        "validation_raw.html",
        "validation_marts.json",
        "validation_marts.html",
    ):
        assert (run_dir / name).is_file(), name
    pointer = json.loads((built.runs / "latest.json").read_text())
    assert pointer["run_id"] == summary["run_id"] and pointer["status"] == "success"


def test_summary_counts_match_data(built: Built) -> None:
    summary = built.summary
    manifest = json.loads((built.raw / "_manifest.json").read_text())
    expected_rows = {t: v["rows"] for t, v in manifest["tables"].items()}
    assert summary["validation"]["raw"]["raw_rows"] == expected_rows
    assert summary["validation"]["raw"]["failures"] == 0
    assert summary["validation"]["raw"]["freshness_reference"] == "2026-10-31"
    quarantine = summary["tables"]["quarantine"]
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        expected = con.execute(
            "select source_table, raw_rows, quarantined_rows from int_staging_rows_reconciled"
        ).fetchall()
    got = {
        row[0]: (row[1], row[quarantine["columns"].index("quarantined_rows")])
        for row in quarantine["rows"]
    }
    assert got == {source: (raw, quarantined) for source, raw, quarantined in expected}
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        latest_alerts = con.execute(
            "select count(*) from fct_health_alerts"
            " where alert_date = (select max(score_date) from fct_health_score_history)"
        ).fetchone()[0]
    assert summary["tables"]["alerts"]["count"] == latest_alerts
    scores = summary["tables"]["accounts_by_band_segment"]
    assert scores["available"] and scores["columns"] == ["segment", "band", "accounts"]
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        accounts = con.execute(
            "select count(*) from fct_health_scores"
            " where as_of_date = (select max(as_of_date) from fct_health_scores)"
        ).fetchone()[0]
    assert sum(row[-1] for row in scores["rows"]) == accounts
    assert summary["validation"]["marts"]["failures"] == 0
    assert summary["validation"]["marts"]["suites"] >= 5


def test_console_output_for_people(built: Built) -> None:
    out, err = built.result.stdout, built.result.stderr
    for title in (
        "Accounts per segment and band",
        "Alerts raised: ",
        "Rows quarantined",
        "Timings",
    ):
        assert title in out
    for step in STEPS:
        assert f"[{step}]" in err
    assert "Great Expectations" in err and "import" in err
    assert "Traceback" not in err


def test_report_and_validate_commands(built: Built) -> None:
    common = ["--warehouse", str(built.warehouse), "--runs-dir", str(built.runs)]
    report = orchestrate(built.tmp, "report", "--format", "json", *common)
    assert report.returncode == 0, report.stderr
    content = json.loads(report.stdout)
    assert content["tables"]["alerts"]["count"] == built.summary["tables"]["alerts"]["count"]
    assert content["published_by"]["run_id"] == built.summary["run_id"]
    assert content["failed_since"] is None
    text = orchestrate(built.tmp, "report", *common)
    assert "Rows quarantined per source" in text.stdout
    validate = orchestrate(built.tmp, "validate", "--raw-dir", str(built.raw), *common)
    assert validate.returncode == 0, validate.stderr
    assert latest_summary(built.runs)["command"] == "validate"


# --- failures: nothing is published ------------------------------------------------------


def test_bad_raw_file_stops_before_dbt(built: Built, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(built.raw, raw)
    accounts = raw / "accounts.parquet"
    with duckdb.connect() as con:  # a wrong export: keys mostly null, a column missing
        con.execute(
            f"copy (select * exclude (plan) replace (null::varchar as account_id)"
            f" from read_parquet('{accounts}')) to '{accounts}.new' (format parquet)"
        )
    os.replace(f"{accounts}.new", accounts)
    warehouse = copy_warehouse(built, tmp_path)
    before = digest(warehouse)
    runs = tmp_path / "runs"
    result = orchestrate(built.tmp, *run_args(raw, warehouse, runs))
    assert result.returncode == 4, result.stderr
    assert "FAILED at step 'validate_raw'" in result.stderr
    assert "accounts.parquet" in result.stderr
    assert "expect_column_values_to_not_be_null(account_id" in result.stderr
    assert "rows (100.00%) unexpected" in result.stderr
    assert "missing: plan" in result.stderr
    assert "Traceback" not in result.stderr
    assert digest(warehouse) == before
    assert sorted(p.name for p in warehouse.parent.iterdir()) == [
        warehouse.name,
        warehouse.name + ".lock",
    ]
    summary = latest_summary(runs)
    assert summary["status"] == "failed" and summary["failed_step"] == "validate_raw"
    assert summary["exit_code"] == 4
    assert [s["name"] for s in summary["steps"]] == ["locate_raw", "validate_raw"]
    results = json.loads((runs / summary["run_id"] / "validation_raw.json").read_text())
    suite = next(s for s in results["suites"] if s["suite"] == "raw_accounts")
    assert suite["success"] is False and suite["gx_result"]["success"] is False
    assert "accounts" in (runs / summary["run_id"] / "validation_raw.html").read_text()


def copy_project(target: Path) -> Path:
    target.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(ROOT / name, target / name)
    for name in ("models", "macros", "seeds", "analyses", "gx"):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, target / name)
    shutil.copytree(
        ROOT / "tests",
        target / "tests",
        ignore=lambda folder, names: [n for n in names if n in ("python", "fixtures")],
    )
    return target


def test_dbt_test_failure_stops_before_publishing(built: Built, tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    (project / "tests" / "assert_orchestrator_gate.sql").write_text(
        "-- fails whenever there are raw accounts\n"
        "select account_id from {{ source('crm', 'accounts') }}\n"
    )
    warehouse = copy_warehouse(built, tmp_path)
    before = digest(warehouse)
    runs = tmp_path / "runs"
    args = run_args(built.raw, warehouse, runs, "--select", "assert_orchestrator_gate")
    result = orchestrate(
        tmp_path, *args, "--project-dir", str(project), "--profiles-dir", str(project)
    )
    assert result.returncode == 5, result.stderr
    assert "FAILED at step 'dbt_build'" in result.stderr
    assert "FAIL test assert_orchestrator_gate" in result.stderr
    assert "failing rows" in result.stderr
    assert digest(warehouse) == before
    assert not warehouse.with_name("customer_health.previous.duckdb").exists()
    summary = latest_summary(runs)
    assert summary["failed_step"] == "dbt_build" and summary["exit_code"] == 5
    assert summary["dbt"]["problems"][0]["name"] == "assert_orchestrator_gate"
    assert summary["publish"]["published"] is False


def test_concurrent_run_is_refused(built: Built, tmp_path: Path) -> None:
    warehouse = copy_warehouse(built, tmp_path)
    lock = warehouse.with_name(warehouse.name + ".lock")
    with RunLock(lock, run_id="the-other-run", command="run"):
        result = orchestrate(built.tmp, *run_args(built.raw, warehouse, tmp_path / "runs"))
    assert result.returncode == 3, result.stderr
    assert "FAILED at step 'lock'" in result.stderr
    assert f"pid {os.getpid()}" in result.stderr and "run the-other-run" in result.stderr
    assert latest_summary(tmp_path / "runs")["failed_step"] == "lock"


# --- publishing semantics ----------------------------------------------------------------


def test_next_run_starts_from_a_copy_and_keeps_previous(built: Built, tmp_path: Path) -> None:
    """Incremental history carries over: the build starts as a copy of the published file."""
    warehouse = copy_warehouse(built, tmp_path)
    before = digest(warehouse)
    runs = tmp_path / "runs"
    result = orchestrate(
        built.tmp, *run_args(built.raw, warehouse, runs, "--select", "stg_crm__accounts", "-q")
    )
    assert result.returncode == 0, result.stderr
    summary = latest_summary(runs)
    assert summary["publish"]["started_from_copy"] is True
    previous = warehouse.with_name("customer_health.previous.duckdb")
    assert digest(previous) == before
    with duckdb.connect(str(warehouse), read_only=True) as con:  # not rebuilt, carried over
        query = "select table_name from information_schema.tables"
        tables = {row[0] for row in con.execute(query).fetchall()}
    assert "int_staging_rows_reconciled" in tables
    rollback = orchestrate(
        built.tmp, "rollback", "--warehouse", str(warehouse), "--runs-dir", str(runs), "-q"
    )
    assert rollback.returncode == 0, rollback.stderr
    assert digest(warehouse) == before


def test_history_rebuild_through_the_orchestrator(built: Built, tmp_path: Path) -> None:
    """README, "Changing the scorecard": `run --vars '{history_rebuild: true}'` rescores the
    recorded history with the current scorecard in a copy, and publishes it once validated.
    Rows recorded under an older scorecard (beyond the lookback days, which every run
    rescores) are kept by a plain run and rescored by this one."""
    warehouse = copy_warehouse(built, tmp_path)
    histories = ("fct_health_score_history", "fct_metric_score_history")
    with duckdb.connect(str(warehouse)) as con:
        for table in histories:
            con.execute(
                f"update {table} set scorecard_version = 'an older scorecard'"
                f" where score_date < (select max(score_date) - 10 from {table})"
            )
        rows_before = {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in histories}

    def older_rows() -> dict[str, int]:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return {
                t: con.execute(
                    f"select count(*) from {t} where scorecard_version = 'an older scorecard'"
                ).fetchone()[0]
                for t in histories
            }

    runs = tmp_path / "runs"
    plain = orchestrate(built.tmp, *run_args(built.raw, warehouse, runs, "-q"))
    assert plain.returncode == 0, plain.stderr
    assert all(count > 0 for count in older_rows().values())  # recorded rows are kept

    rebuild = orchestrate(
        built.tmp, *run_args(built.raw, warehouse, runs, "--vars", "{history_rebuild: true}", "-q")
    )
    assert rebuild.returncode == 0, rebuild.stderr
    assert older_rows() == {t: 0 for t in histories}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in histories:
            assert con.execute(f"select count(*) from {table}").fetchone()[0] == rows_before[table]
            versions = con.execute(f"select count(distinct scorecard_version) from {table}")
            assert versions.fetchone()[0] == 1
    summary = latest_summary(runs)
    assert summary["settings"]["dbt_vars"] == {"history_rebuild": True}
    assert summary["publish"]["published"] is True


def test_selected_build_needs_a_published_warehouse(built: Built, tmp_path: Path) -> None:
    """A first run with --select would publish a warehouse without the other marts."""
    warehouse = tmp_path / "wh" / "customer_health.duckdb"
    runs = tmp_path / "runs"
    result = orchestrate(
        built.tmp, *run_args(built.raw, warehouse, runs, "--select", "stg_crm__accounts")
    )
    assert result.returncode == 2, result.stderr
    assert "Run once without --select" in result.stderr
    assert not warehouse.exists()
    assert latest_summary(runs)["failed_step"] == "prepare_build"


def test_selector_matching_nothing_publishes_nothing(built: Built, tmp_path: Path) -> None:
    warehouse = copy_warehouse(built, tmp_path)
    before = digest(warehouse)
    runs = tmp_path / "runs"
    result = orchestrate(
        built.tmp, *run_args(built.raw, warehouse, runs, "--select", "no_such_model")
    )
    assert result.returncode == 2, result.stderr
    assert "--select no_such_model matched no dbt node" in result.stderr
    assert digest(warehouse) == before
    assert not warehouse.with_name("customer_health.previous.duckdb").exists()
    assert latest_summary(runs)["publish"]["published"] is False


# --- building in place -----------------------------------------------------------------


def test_in_place_run_builds_in_the_published_file(built: Built, tmp_path: Path) -> None:
    """--in-place: dbt writes the published file itself; no copy, no previous, no swap."""
    warehouse = copy_warehouse(built, tmp_path)
    with duckdb.connect(str(warehouse)) as con:  # the build must put it back in this file
        con.execute("drop table main.fct_health_scores")
    runs = tmp_path / "runs"
    result = orchestrate(built.tmp, *run_args(built.raw, warehouse, runs, "--in-place"))
    assert result.returncode == 0, result.stderr[-5000:]
    assert f"built in place in {warehouse}" in result.stdout
    files = sorted(p.name for p in warehouse.parent.iterdir() if p.is_file())
    assert files == ["customer_health.duckdb", "customer_health.duckdb.lock"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from main.fct_health_scores").fetchone()[0] > 0
    summary = latest_summary(runs)
    assert summary["settings"]["in_place"] is True
    assert summary["publish"] == {
        "published": True,
        "in_place": True,
        "path": str(warehouse),
        "previous": None,
        "started_from_copy": False,
    }
    status = {step["name"]: step["status"] for step in summary["steps"]}
    assert list(status) == STEPS and status.pop("publish") == "skipped"
    assert set(status.values()) <= {"ok", "warn"}


def test_an_unfinished_build_in_place_is_scored_again(built: Built, tmp_path: Path) -> None:
    """A build in place that stopped after fct_health_score_history took its dates, before
    fct_metric_score_history did: the next run scores again from the date its mark names,
    so the metric history gets back every date, not only the lookback days."""
    warehouse = copy_warehouse(built, tmp_path)
    key = "account_id, score_date, metric_id"
    with duckdb.connect(str(warehouse)) as con:
        last = con.execute("select max(score_date) from fct_health_score_history").fetchone()[0]
        through = last - timedelta(days=10)
        con.execute("delete from fct_metric_score_history where score_date > ?", [through])
    mark = warehouse.with_name(warehouse.name + ".unfinished")
    mark.write_text(
        json.dumps(
            {
                "run_id": "the-stopped-run",
                "started_at": "2026-12-01T00:00:00+00:00",
                "history_complete_through": through.isoformat(),
            }
        )
    )
    runs = tmp_path / "runs"
    result = orchestrate(built.tmp, *run_args(built.raw, warehouse, runs, "--in-place"))
    assert result.returncode == 0, result.stderr[-5000:]
    assert "a build in place did not finish (run the-stopped-run" in result.stderr
    assert not mark.exists()
    summary = latest_summary(runs)
    assert summary["publish"]["recovered_unfinished_build"] == "the-stopped-run"
    assert summary["settings"]["dbt_vars"] == {"history_complete_through": through.isoformat()}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute(f"attach '{built.warehouse}' as original (read_only)")
        missing = con.execute(
            f"select count(*) from (select {key} from original.main.fct_metric_score_history"
            f" except select {key} from main.fct_metric_score_history)"
        ).fetchone()[0]
    assert missing == 0


def test_dbt_connection_released_in_process(built: Built, tmp_path: Path) -> None:
    """pitfalls.md: dbt-duckdb keeps its connection open after dbtRunner returns."""
    from scripts.orchestrator.dbt_runner import run_dbt, temporary_env
    from scripts.orchestrator.settings import build_settings

    warehouse = copy_warehouse(built, tmp_path)
    dbt_env = {k: v for k, v in environment(tmp_path).items() if k.startswith("DBT_")}
    with temporary_env(dbt_env):
        settings = build_settings(
            raw_dir=str(built.raw), warehouse=str(warehouse), select=("stg_crm__accounts",)
        )
        outcome = run_dbt(settings, database=warehouse, raw_format="parquet", log_dir=tmp_path)
    assert outcome.success, outcome.describe_problems()
    other_process = subprocess.run(
        [sys.executable, "-c", f"import duckdb; duckdb.connect({str(warehouse)!r}).close()"],
        capture_output=True,
        text=True,
    )
    assert other_process.returncode == 0, other_process.stderr
