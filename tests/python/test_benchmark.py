"""The benchmark command: an XS run end to end (it runs; dbt's scores equal both baselines';
the results JSON has its fields), and the score comparison on hand-made frames. No timing
assertions: only that the numbers are there."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from scripts.benchmark.cli import EXIT_OK, main
from scripts.benchmark.compare import compare
from scripts.benchmark.dbt_build import read_run_results

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
    for name in ("duckdb", "pandas"):
        baseline = xs_results["baselines"][name]
        assert baseline["wall_seconds"] > 0 and baseline["peak_rss_bytes"] > 0
        assert baseline["ratio_dbt_full_build_over_baseline"] > 0
    assert "duckdb_history" in xs_results["baselines"]
    assert isinstance(xs_results["targets"], list)


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
