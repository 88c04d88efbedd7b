"""The benchmark command: an XS run end to end (it runs; dbt's latest scores equal both
latest-date baselines', dbt's score history equals the history baseline's; the results JSON
has its fields), the score comparisons on hand-made data, and the summary (README table,
linear-scaling check) on hand-made results. No timing assertions: only that the numbers are
there."""

from __future__ import annotations

import json
import math
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from scripts.benchmark.cli import EXIT_OK, main
from scripts.benchmark.compare import compare, compare_history
from scripts.benchmark.dbt_build import WorkDir, read_bucket_timings, read_run_results
from scripts.benchmark.errors import BenchmarkError
from scripts.benchmark.report import bucket_timings_table
from scripts.benchmark.runner import DAILY_RUN_TARGET, issue_targets, withhold_targets
from scripts.benchmark.scales import SCALES
from scripts.benchmark.summary import (
    SUMMARY_END,
    SUMMARY_START,
    latest_by_scale,
    linearity,
    render,
    replace_block,
    write_summary,
)

PROJECT_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def xs_results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("bench")
    exit_code = main(
        [
            "run",
            "--scale",
            "XS",
            "--project-dir",
            str(PROJECT_DIR),
            "--data-root",
            str(root / "data"),
            "--work-root",
            str(root / "work"),
            "--results-dir",
            str(root / "results"),
            "--no-fixed-cost",
            # two account buckets, so that the scores compared are those of a bucketed build
            "--account-buckets",
            "2",
            # the project's own tests run elsewhere; this one checks the benchmark
            "--exclude-resource-type",
            "unit_test",
            "--exclude-resource-type",
            "test",
            "--json-only",
        ]
    )
    saved = sorted((root / "results").glob("XS-*.json"))
    assert len(saved) == 1, f"expected one results file, found {saved}"
    results = json.loads(saved[0].read_text(encoding="utf-8"))
    results["_exit_code"] = exit_code
    return results


def test_xs_run_succeeds_and_builds_every_node(xs_results: dict) -> None:
    assert xs_results["_exit_code"] == EXIT_OK
    for run in xs_results["runs"].values():
        assert run["exit_code"] == 0
        assert run["not_ok_nodes"] == []


@pytest.mark.parametrize("baseline", ["duckdb", "pandas"])
def test_baseline_scores_equal_dbt_scores(xs_results: dict, baseline: str) -> None:
    equality = xs_results["baselines"][baseline]["equality"]
    assert equality["rows_dbt"] > 0
    assert equality["equal"] is True, equality
    assert equality["rows_baseline"] == equality["rows_dbt"]


def test_history_baseline_equals_dbt_history(xs_results: dict) -> None:
    """Every account x score date of fct_health_score_history, from the hand-written SQL."""
    history = xs_results["baselines"]["duckdb_history"]
    equality = history["equality"]
    assert equality["equal"] is True, equality
    assert equality["rows_dbt"] == equality["rows_baseline"] == history["rows"] > 0
    first, last = equality["score_dates_dbt"]
    assert first < last  # many score dates, not only the latest
    assert history["wall_seconds"] > 0 and history["ratio_dbt_full_build_over_baseline"] > 0


def test_daily_run_scores_equal_the_baseline_on_the_appended_data(xs_results: dict) -> None:
    daily = xs_results["runs"]["daily_run"]
    assert daily["label"] in ("incremental daily run", "rebuild (no incremental models yet)")
    assert daily["events_appended"] > 0
    assert daily["equality_with_duckdb_baseline"]["equal"] is True


def test_results_json_has_the_expected_fields(xs_results: dict) -> None:
    assert xs_results["schema_version"] == 1
    assert xs_results["scale"]["name"] == "XS"
    machine = xs_results["machine"]
    assert machine["cores"] >= 1 and machine["ram_bytes"] > 0 and machine["cpu_model"]
    assert {"dbt-core", "dbt-duckdb", "duckdb", "pandas"} <= set(machine["versions"])
    data = xs_results["data"]
    assert (
        data["events"] > 0
        and data["rows_next"]["events"] == data["events"] + data["events_appended"]
    )
    for key in ("full_build", "daily_run"):
        run = xs_results["runs"][key]
        for field in ("wall_seconds", "events_per_second", "peak_rss_bytes", "duckdb_file_bytes"):
            assert run[field] > 0, (key, field)
        assert run["nodes"], key
        node = run["nodes"][0]
        assert {"unique_id", "resource_type", "status", "seconds"} <= set(node)
        assert any(n["unique_id"].endswith(".fct_health_scores") for n in run["nodes"])
    for name in ("duckdb", "pandas", "duckdb_history"):
        baseline = xs_results["baselines"][name]
        assert baseline["wall_seconds"] > 0 and baseline["peak_rss_bytes"] > 0
        assert baseline["ratio_dbt_full_build_over_baseline"] > 0
    assert isinstance(xs_results["targets"], list)
    assert xs_results["dbt_args"][-2:] == [
        "--vars",
        "{account_buckets: 2, events_key_buckets: 1024}",
    ]
    # --account-buckets 2 overrides the XS rule (1), in the recorded scale too
    assert xs_results["scale"]["account_buckets"] == 2
    # each model built in buckets logged its two buckets' seconds; the daily run took one
    timings = xs_results["runs"]["full_build"]["bucket_timings"]
    assert {"int_account_activity_windowed", "int_account_metrics_computed"} <= set(timings)
    assert {timing["buckets"] for timing in timings.values()} == {2}
    assert xs_results["runs"]["daily_run"]["bucket_timings"] == {}


def test_builds_read_each_data_set_through_the_same_raw_path(tmp_path: Path) -> None:
    """A daily run in production reads the same raw location: a changed path would make
    dbt re-parse the source YAMLs, which read it from the environment."""
    work = WorkDir(tmp_path / "work").create()
    paths = []
    for name in ("base", "next"):
        data = tmp_path / "data" / name
        data.mkdir(parents=True)
        (data / "events.parquet").write_text(name, encoding="utf-8")
        work.point_raw_at(data)
        raw = Path(work.env(PROJECT_DIR, None)["CUSTOMER_HEALTH_RAW_DIR"])
        assert (raw / "events.parquet").read_text(encoding="utf-8") == name
        paths.append(raw)
    assert paths[0] == paths[1] == work.raw.absolute()


def test_results_record_the_data_each_build_read(xs_results: dict) -> None:
    runs, data = xs_results["runs"], xs_results["data"]
    assert runs["full_build"]["raw_dir"] == data["base_dir"]
    assert runs["daily_run"]["raw_dir"] == data["next_dir"]


def test_scales_take_one_account_bucket_per_1000_accounts() -> None:
    assert [SCALES[name].account_buckets for name in ("XS", "S", "M", "L")] == [1, 1, 10, 100]


def test_scales_take_about_one_key_bucket_per_10_events() -> None:
    assert [SCALES[name].events_key_buckets for name in ("XS", "S", "M", "L")] == [
        2**10,
        2**17,
        2**20,
        2**23,
    ]


def test_base_data_is_next_data_without_the_appended_day(xs_results: dict) -> None:
    data = xs_results["data"]
    base = pd.read_parquet(Path(data["base_dir"]) / "events.parquet")
    after = pd.read_parquet(Path(data["next_dir"]) / "events.parquet")
    assert base["occurred_at"].max() < data["appended_date"]
    assert after["occurred_at"].max() >= data["appended_date"]
    assert set(base["event_id"]) <= set(after["event_id"])


def _scores(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["account_id", "as_of_date", "computed_score", "health_score", "band"]
    )


def test_compare_reports_each_difference_by_account() -> None:
    day = pd.Timestamp("2026-10-31")
    ours = _scores(
        [
            ("a1", day, 50.0, 50.0, "yellow"),
            ("a2", day, None, None, "unknown"),
            ("a3", day, 80.0, 80.0, "green"),
            ("a4", day, 10.0, 10.0, "red"),
        ]
    )
    theirs = _scores(
        [
            ("a1", day.date(), 50.0 + 5e-7, 50.0, "yellow"),  # within 1e-6
            ("a2", day.date(), math.nan, math.nan, "unknown"),  # both missing
            ("a3", day.date(), 80.0, 69.0, "yellow"),  # score and band differ
            ("a5", day.date(), 1.0, 1.0, "red"),
        ]
    )
    result = compare(ours, theirs)
    assert not result.equal
    assert result.only_in_dbt == ["a4"] and result.only_in_baseline == ["a5"]
    assert [(m["account_id"], m["column"]) for m in result.mismatches] == [
        ("a3", "health_score"),
        ("a3", "band"),
    ]
    assert compare(ours.iloc[:3], ours.iloc[:3].copy()).equal


def test_read_run_results_gives_node_timings(tmp_path: Path) -> None:
    (tmp_path / "run_results.json").write_text(
        json.dumps(
            {
                "elapsed_time": 3.5,
                "results": [
                    {
                        "unique_id": "model.customer_health.fct_health_scores",
                        "status": "success",
                        "execution_time": 1.25,
                        "adapter_response": {"rows_affected": 7},
                    },
                    {
                        "unique_id": "test.customer_health.x.abc",
                        "status": "fail",
                        "execution_time": 0.5,
                        "message": "Got 3 results, configured to fail if != 0",
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    elapsed, nodes = read_run_results(tmp_path)
    assert elapsed == 3.5
    assert [(n.resource_type, n.status, n.seconds, n.rows_affected) for n in nodes] == [
        ("model", "success", 1.25, 7),
        ("test", "fail", 0.5, None),
    ]
    assert nodes[1].message == "Got 3 results, configured to fail if != 0"


def test_bucket_timings_are_read_from_dbt_output_and_tabled() -> None:
    output = (
        "\x1b[0m06:24:26  1 of 9 START sql account_bucketed_table model main.int_a [RUN]\n"
        "\x1b[0m06:25:01  int_a: 20 account buckets, 2000000 rows in 41.5 s; seconds per "
        "million rows: all 20.75, first 2 15.00, last 2 27.50; slowest bucket 17: 4.20 s for "
        "90000 rows\n"
        "\x1b[0m06:25:09  fct_b: 3 account buckets, 0 rows in 6.0 s; seconds per million rows: "
        "all n/a, first 1 n/a, last 1 n/a; slowest bucket 3: 3.00 s for 0 rows\n"
        "\x1b[0m06:25:09  int_c: 1 account bucket(s) of 3 for 3 score date(s) of 120\n"
    )
    timings = read_bucket_timings(output)
    assert timings == {
        "int_a": {
            "buckets": 20,
            "rows": 2_000_000,
            "seconds": 41.5,
            "seconds_per_million_rows": 20.75,
            "tenth": 2,
            "first_tenth_seconds_per_million_rows": 15.0,
            "last_tenth_seconds_per_million_rows": 27.5,
            "slowest_bucket": 17,
            "slowest_bucket_seconds": 4.2,
            "slowest_bucket_rows": 90_000,
        },
        "fct_b": {
            "buckets": 3,
            "rows": 0,
            "seconds": 6.0,
            "seconds_per_million_rows": None,
            "tenth": 1,
            "first_tenth_seconds_per_million_rows": None,
            "last_tenth_seconds_per_million_rows": None,
            "slowest_bucket": 3,
            "slowest_bucket_seconds": 3.0,
            "slowest_bucket_rows": 0,
        },
    }
    table = bucket_timings_table({"bucket_timings": timings}).splitlines()
    assert table[2].startswith("| int_a ") and "| 2,000,000 " in table[2]
    assert "| 15.00 " in table[2] and "| 27.50 " in table[2]
    assert "| #17: 4.20 s, 90,000 rows " in table[2]
    assert table[3].startswith("| fct_b ") and table[3].count("| - ") == 3


def test_compare_history_lists_rows_and_scores_that_differ(tmp_path: Path) -> None:
    day1, day2 = "2026-10-30", "2026-10-31"
    dbt_rows = [
        ("a1", day1, 50.0, 50.0, "yellow"),
        ("a1", day2, 80.0, 80.0, "green"),
        ("a2", day1, None, None, "unknown"),
        ("a3", day1, 10.0, 10.0, "red"),
    ]
    baseline_rows = [
        ("a1", day1, 50.0 + 5e-7, 50.0, "yellow"),  # within 1e-6
        ("a1", day2, 80.0, 69.0, "yellow"),  # health_score and band differ
        ("a2", day1, None, None, "unknown"),  # both missing
        ("a4", day1, 1.0, 1.0, "red"),
    ]
    database = tmp_path / "dbt.duckdb"
    con = duckdb.connect(str(database))
    columns = "account_id varchar, score_date date, computed_score double, "
    columns += "health_score double, band varchar"
    con.execute(f"create table fct_health_score_history ({columns})")
    con.executemany("insert into fct_health_score_history values (?, ?, ?, ?, ?)", dbt_rows)
    con.execute(f"create table b ({columns})")
    con.executemany("insert into b values (?, ?, ?, ?, ?)", baseline_rows)
    con.execute(f"copy b to '{tmp_path / 'b.parquet'}' (format parquet)")
    con.close()

    result = compare_history(database, tmp_path / "b.parquet")
    assert result["equal"] is False
    assert result["rows_dbt"] == result["rows_baseline"] == 4
    assert result["rows_only_in_dbt"] == [{"account_id": "a3", "score_date": day1}]
    assert result["rows_only_in_baseline"] == [{"account_id": "a4", "score_date": day1}]
    assert [(m["account_id"], m["score_date"], m["column"]) for m in result["mismatches"]] == [
        ("a1", day2, "health_score"),
        ("a1", day2, "band"),
    ]
    assert result["mismatch_count"] == 2


def _results(scale: str, events: int, full: float, fixed: float | None, stamp: str) -> dict:
    runs: dict = {
        "full_build": {"wall_seconds": full, "peak_rss_bytes": 2 * 1024**3, "duckdb_file_bytes": 0},
        "daily_run": {"wall_seconds": full / 20, "ratio_to_full_build": 0.05},
    }
    if fixed is not None:
        runs["fixed_cost"] = {"wall_seconds": fixed}
    return {
        "scale": {"name": scale},
        "started_at": stamp,
        "data": {"events": events},
        "runs": runs,
        "baselines": {
            "duckdb_history": {
                "wall_seconds": full / 3,
                "ratio_dbt_full_build_over_baseline": 3.0,
                "equality": {"equal": True},
            }
        },
        "targets": [{"target": DAILY_RUN_TARGET, "value": 0.05, "met": True}],
        "results_file": f"benchmarks/{scale}-{stamp}.json",
    }


def test_linearity_subtracts_the_fixed_cost_and_allows_20_percent() -> None:
    # variable cost per event: S (130 - 30) / 1e6 = 100 us, M 110 us, L 118 us: spread 18%
    latest = {
        "S": _results("S", 1_000_000, 130.0, 30.0, "2026-01-01T00:00:00+00:00"),
        "M": _results("M", 10_000_000, 1_130.0, 30.0, "2026-01-01T00:00:00+00:00"),
        "L": _results("L", 100_000_000, 11_830.0, 30.0, "2026-01-01T00:00:00+00:00"),
    }
    check = linearity(latest)
    assert check["variable_seconds_per_event"] == pytest.approx(
        {"S": 100e-6, "M": 110e-6, "L": 118e-6}
    )
    assert check["spread"] == pytest.approx(0.18) and check["met"] is True
    latest["L"]["runs"]["full_build"]["wall_seconds"] = 12_530.0  # 125 us: 25% above S
    assert linearity(latest)["met"] is False
    # no fixed cost in the L run: the S run's is used, and said so
    del latest["L"]["runs"]["fixed_cost"]
    assert linearity(latest)["notes"] == ["L: fixed cost from the S run"]


def test_summary_says_not_measured_for_missing_scales_and_uses_the_latest_run() -> None:
    older = _results("S", 1_000_000, 500.0, 30.0, "2026-01-01T00:00:00+00:00")
    newer = _results("S", 1_000_000, 130.0, 30.0, "2026-02-01T00:00:00+00:00")
    latest = latest_by_scale([newer, older])
    assert latest["S"] is newer
    check = linearity(latest)
    assert check["met"] is None and check["not_measured"] == ["M", "L"]
    text = render(latest)
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows[1].startswith("| S | 1,000,000 | 130.0 | 6.5 (5%) | 30.0 | 2,048 MiB |")
    assert "43.3 (dbt 3.0×)" in rows[1]  # the history baseline and dbt's ratio to it
    assert rows[2].startswith("| M | not measured |") and rows[3].startswith("| L | not measured")
    assert "→ not measured (M, L missing)" in text


def test_summary_replaces_the_marked_block_of_the_readme(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    document = _results("S", 1_000_000, 130.0, 30.0, "2026-02-01T00:00:00+00:00")
    (results / "S-1.json").write_text(json.dumps(document), encoding="utf-8")
    readme = tmp_path / "README.md"
    # prose quoting the markers is left alone: only lines holding a marker count
    intro = f"The block between `{SUMMARY_START}` and `{SUMMARY_END}`.\n"
    readme.write_text(f"{intro}{SUMMARY_START}\nold table\n{SUMMARY_END}\nrest\n", "utf-8")
    fragment = write_summary([results], out=tmp_path / "SUMMARY.md", readme=readme)
    text = readme.read_text(encoding="utf-8")
    assert "old table" not in text and fragment in text
    assert text.startswith(f"{intro}{SUMMARY_START}\n") and text.endswith(f"{SUMMARY_END}\nrest\n")
    assert (tmp_path / "SUMMARY.md").read_text(encoding="utf-8") == fragment + "\n"
    with pytest.raises(BenchmarkError, match="no <!-- benchmark-summary:start -->"):
        replace_block("no markers", fragment, readme)


def test_a_failed_build_shows_as_failed_and_meets_no_target() -> None:
    """A build that stopped at a failed model has no full-build time: the summary says where
    it failed, gives no ratio to the baselines, leaves it out of the linear-scaling check and
    withholds its targets, also those saved as met by an older runner."""
    latest = {
        "S": _results("S", 1_000_000, 130.0, 30.0, "2026-01-01T00:00:00+00:00"),
        "L": _results("L", 100_000_000, 1_441.6, 30.0, "2026-01-01T00:00:00+00:00"),
    }
    failed = latest["L"]["runs"]["full_build"]
    failed |= {
        "label": "full build",
        "exit_code": 1,
        "failed_nodes": [
            {
                "unique_id": "model.customer_health.int_account_metrics_computed",
                "status": "error",
                "message": "Out of Memory Error",
            }
        ],
    }
    del latest["L"]["runs"]["daily_run"]
    latest["L"]["skipped"] = {"daily_run": "the full build failed (exit 1)"}
    latest["L"]["targets"] = [{"target": "L: within 24 GB", "value": 12.25, "met": True}]

    text = render(latest)
    row = next(line for line in text.splitlines() if line.startswith("| L |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[2] == "failed after 1,441.6 (int_account_metrics_computed)"
    assert cells[3] == "skipped: the full build failed (exit 1)"
    assert "480.5 (dbt failed)" in cells  # the history baseline: full / 3
    assert cells[-2] == "0 / 1"
    assert "| L | L: within 24 GB | 12.25 | – (the full build failed (exit 1)) |" in text
    assert linearity(latest)["not_measured"] == ["M", "L"]

    # results saved before failed_nodes existed: the first model that did not succeed
    del failed["failed_nodes"]
    failed["not_ok_nodes"] = [
        "test.customer_health.not_null_x.abc",
        "model.customer_health.int_account_metrics_computed",
    ]
    assert "failed after 1,441.6 (int_account_metrics_computed)" in render(latest)


def test_targets_are_withheld_only_when_a_build_failed() -> None:
    targets = [{"target": DAILY_RUN_TARGET, "value": 0.05, "met": True}]
    ok = {"full_build": {"label": "full build", "exit_code": 0}}
    assert withhold_targets(targets, ok) == targets
    failed = ok | {"daily_run": {"label": "incremental daily run", "exit_code": 2}}
    assert withhold_targets(targets, failed) == [
        targets[0] | {"met": None, "note": "the incremental daily run failed (exit 2)"}
    ]


def test_the_daily_run_target_applies_at_m_and_l_only() -> None:
    """The issue sets the daily run's 10% at M and L: at S it is a share in the table, not a
    target missed, also in results saved when the runner applied it at every scale."""
    runs = {
        "full_build": {"label": "full build", "exit_code": 0, "wall_seconds": 40.0},
        "daily_run": {"label": "incremental daily run", "exit_code": 0, "wall_seconds": 15.0},
    }
    for name, expected in (("XS", []), ("S", []), ("M", [DAILY_RUN_TARGET])):
        targets = issue_targets(SCALES[name], runs, {})
        assert [target["target"] for target in targets] == expected, name
    assert issue_targets(SCALES["M"], runs, {})[0] == {
        "target": DAILY_RUN_TARGET,
        "value": 0.375,
        "met": False,
        "note": None,
    }

    saved_s = _results("S", 1_000_000, 130.0, 30.0, "2026-02-01T00:00:00+00:00")
    saved_m = _results("M", 10_000_000, 1_130.0, 30.0, "2026-02-01T00:00:00+00:00")
    text = render({"S": saved_s, "M": saved_m})
    scale_rows = [line.split("|") for line in text.splitlines() if line.count("|") > 10]
    targets_met = {cells[1].strip(): cells[-3].strip() for cells in scale_rows[2:]}
    assert targets_met == {"S": "–", "M": "1 / 1", "L": "–"}  # L: not measured
    assert f"| M | {DAILY_RUN_TARGET} | 0.05 | met |" in text
    assert f"| S | {DAILY_RUN_TARGET}" not in text
