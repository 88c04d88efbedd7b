"""The analyses' SQL on hand-made warehouses with known answers.

Each test runs the dbt-compiled SQL of analyses/ unchanged (through
report_analyses.run_analyses) against a stand-in DuckDB built by
tests/fixtures/calibration/builders.py.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from scripts.orchestrator.report_analyses import run_analyses
from tests.fixtures.calibration.builders import (
    build_quantile_db,
    build_report_db,
    expected_auc,
    expected_weight_sensitivity,
)
from tests.fixtures.calibration.compiled import compiled_analyses


@pytest.fixture(scope="module")
def report_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report_db") / "warehouse.duckdb"
    build_report_db(path)
    return path


@pytest.fixture(scope="module")
def report_results(report_db: Path) -> dict:
    return run_analyses(report_db, compiled_analyses())


def test_threshold_calibration_suggests_known_quantiles(tmp_path: Path) -> None:
    database = tmp_path / "quantiles.duckdb"
    build_quantile_db(database)
    compiled = {"threshold_calibration": compiled_analyses()["threshold_calibration"]}
    result = run_analyses(database, compiled)["threshold_calibration"]
    assert result.ok, result.error
    rows = {r["metric_id"]: r for r in result.frame.to_dict("records")}
    assert set(rows) == {"up_metric", "down_metric", "all_missing_metric"}  # boolean left out
    up, down = rows["up_metric"], rows["down_metric"]
    assert up["accounts_with_value"] == 101  # other dates and missing values ignored
    assert up["accounts_without_value"] == 1
    assert (up["missing_data_policy"], down["missing_data_policy"]) == ("worst", "exclude")
    # values 1..101: the p-quantile is 1 + 100 p
    for name, p in (("p10", 0.10), ("p25", 0.25), ("p50", 0.5), ("p75", 0.75), ("p90", 0.9)):
        assert up[name] == pytest.approx(1 + 100 * p)
        assert down[name] == pytest.approx(1 + 100 * p)
    # default mix 15 / 25 / 60: higher is better -> red below q15, green from q40
    assert up["suggested_red_threshold"] == pytest.approx(16)
    assert up["suggested_green_threshold"] == pytest.approx(41)
    # lower is better -> red above q85, green up to q60
    assert down["suggested_red_threshold"] == pytest.approx(86)
    assert down["suggested_green_threshold"] == pytest.approx(61)
    # the mix the suggestions give: 15 red (1..15), 25 yellow, 61 green (41..101)
    assert up["suggested_red_share"] == pytest.approx(15 / 101)
    assert up["suggested_green_share"] == pytest.approx(61 / 101)
    assert down["suggested_red_share"] == pytest.approx(15 / 101)  # 87..101
    assert down["suggested_green_share"] == pytest.approx(61 / 101)  # 1..61
    # the current thresholds: up red < 10 (9 values), green >= 30 (72 values)
    assert up["current_red_share"] == pytest.approx(9 / 101)
    assert up["current_green_share"] == pytest.approx(72 / 101)
    # down: red > 80 (21 values), green <= 50 (50 values)
    assert down["current_red_share"] == pytest.approx(21 / 101)
    assert down["current_green_share"] == pytest.approx(50 / 101)
    assert up["target_green_share"] == pytest.approx(0.6)
    # as the scores show it: up's missing account is scored worst (red), down's is excluded
    assert up["current_red_share_with_missing"] == pytest.approx(10 / 102)
    assert down["current_red_share_with_missing"] == pytest.approx(21 / 101)
    # a row whose accounts all lack a value: no quantiles, every account red
    empty = rows["all_missing_metric"]
    assert (empty["accounts_with_value"], empty["accounts_without_value"]) == (0, 2)
    assert empty["scorecard_segment"] == "smb"
    assert pd.isna(empty["p50"]) and pd.isna(empty["current_red_share"])
    assert pd.isna(empty["suggested_red_threshold"])
    assert empty["current_red_share_with_missing"] == pytest.approx(1.0)


def _observations(database: Path, horizon: int = 90) -> list[tuple]:
    """(account_id, score_date, health_score, churned) per the backtest's rules, in Python."""
    con = duckdb.connect(str(database), read_only=True)
    history = con.execute(
        "select account_id, score_date, health_score from fct_health_score_history"
    ).fetchall()
    churn = dict(con.execute("select account_id, churned_at from dim_accounts").fetchall())
    con.close()
    end = max(d for _, d, _ in history)
    rows = []
    for account_id, score_date, score in history:
        churned_at = churn[account_id]
        if score_date > end - timedelta(days=horizon):
            continue
        if churned_at is not None and churned_at.date() <= score_date:
            continue
        churned = churned_at is not None and churned_at.date() <= score_date + timedelta(
            days=horizon
        )
        rows.append((account_id, score_date, score, int(churned)))
    return rows


def lowest_tenth_rate(pairs: list[tuple[float, int]]) -> float:
    """Churn rate of the lowest tenth of (score, churned) pairs, a score value that
    straddles the tenth counting by the share of its rows inside it."""
    size = len(pairs) / 10
    below = churned = 0.0
    for score in sorted({score for score, _ in pairs}):
        value = [y for s, y in pairs if s == score]
        inside = max(0.0, min(len(value), size - below))
        churned += sum(value) * inside / len(value)
        below += len(value)
    return churned / size


def test_backtest_auc_and_lift_match_brute_force(report_db: Path, report_results: dict) -> None:
    result = report_results["backtest_separation"]
    assert result.ok, result.error
    rows = {r["predictor"]: r for r in result.frame.to_dict("records")}
    observations = _observations(report_db)
    pairs = [(score, churned) for _, _, score, churned in observations]
    health = rows["health_score"]
    assert health["observations"] == len(observations)
    assert health["churned_observations"] == sum(y for _, y in pairs)
    assert health["auc"] == pytest.approx(expected_auc(pairs))
    assert health["auc"] > 0.7  # the fixture's churners score lower
    overall = sum(y for _, y in pairs) / len(pairs)
    assert health["lowest_decile_lift"] == pytest.approx(lowest_tenth_rate(pairs) / overall)
    assert {"usage", "adoption", "tickets", "computed_score"} <= set(rows)


def separation_of_health_score(
    database: Path, rows: list[tuple[str, float, bool]], later: tuple[str, float]
) -> pd.Series:
    """backtest_separation's health_score row on a history of one score date (2026-01-01,
    churners churning on 01-20) and one later row (account, score) on 07-20, so that
    2026-01-01 is a full horizon before the end."""
    build_report_db(database, accounts=0)
    con = duckdb.connect(str(database))
    insert_score = (
        "insert into fct_health_score_history (account_id, score_date, health_score,"
        " computed_score, band, grade) values (?, ?, ?, ?, 'green', 'A')"
    )
    for account_id, score, churns in rows:
        churned_at = "2026-01-20 10:00:00" if churns else None
        con.execute(
            "insert into dim_accounts (account_id, churned_at) values (?, ?)",
            [account_id, churned_at],
        )
        con.execute(insert_score, [account_id, date(2026, 1, 1), score, score])
    con.execute(insert_score, [later[0], date(2026, 7, 20), later[1], later[1]])
    con.close()
    compiled = {"backtest_separation": compiled_analyses()["backtest_separation"]}
    result = run_analyses(database, compiled)["backtest_separation"]
    assert result.ok, result.error
    return result.frame.set_index("predictor").loc["health_score"]


def test_auc_counts_ties_half(tmp_path: Path) -> None:
    """Tiny history with ties across classes: AUC by hand."""
    # scores (churned?): 10 (y), 20 (y), 20 (n), 30 (n), 40 (n)
    rows = [("a", 10, True), ("b", 20, True), ("c", 20, False), ("d", 30, False), ("e", 40, False)]
    health = separation_of_health_score(tmp_path / "ties.duckdb", rows, ("e", 40))
    # pairs (retained, churned): 20>10 1, 20=20 0.5, 30>both 2, 40>both 2 -> 5.5 / 6
    assert health["auc"] == pytest.approx(5.5 / 6)
    assert health["observations"] == 5


def test_lowest_decile_shares_a_tie_instead_of_splitting_it_by_account(tmp_path: Path) -> None:
    """Ten observations, four of them tied at the lowest score 0 with one churner (d)
    among them: the lowest tenth (one observation) is that tie's share, churn rate 1/4,
    whichever account ids the tie holds; overall 2/10 churned, so the lift is 1.25. Split
    by account id it would be d's alone (rate 0 with d last, 1 with d first)."""
    rows = [("a", 0, False), ("b", 0, False), ("c", 0, False), ("d", 0, True)]
    rows += [(name, 50 + 10 * i, name == "e") for i, name in enumerate("efghij")]
    health = separation_of_health_score(tmp_path / "tie.duckdb", rows, ("j", 100))
    assert health["observations"] == 10
    assert health["lowest_decile_churn_rate"] == pytest.approx(0.25)
    assert health["lowest_decile_lift"] == pytest.approx(0.25 / 0.2)


def test_weight_sensitivity_recomputes_like_the_engine(
    report_db: Path, report_results: dict
) -> None:
    result = report_results["weight_sensitivity"]
    assert result.ok, result.error
    rows = {r["metric_id"]: r for r in result.frame.to_dict("records")}
    expected = expected_weight_sensitivity(report_db)
    assert set(rows) == set(expected)
    for metric_id, values in expected.items():
        assert rows[metric_id]["accounts_counting_metric"] == values["counting"]
        assert rows[metric_id]["accounts_changing_band"] == values["changing"], metric_id


def test_weight_sensitivity_flat_formula(report_db: Path) -> None:
    """For flat weighting, score without a metric = (computed - contribution) / (1 - share)."""
    con = duckdb.connect(str(report_db), read_only=True)
    rows = con.execute(
        "select m.account_id, m.metric_id, h.computed_score, m.contribution,"
        " m.share_of_global_score, m.segment, m.counts_toward_score"
        " from fct_metric_scores m join fct_health_scores h using (account_id)"
        " where m.segment = 'smb' and m.counts_toward_score and m.share_of_global_score < 1"
    ).fetchall()
    scores = con.execute(
        "select account_id, metric_id, score from fct_metric_scores where counts_toward_score"
    ).fetchall()
    con.close()
    from tests.fixtures.calibration.builders import score_account

    by_account: dict[str, dict] = {}
    for account_id, metric_id, score in scores:
        by_account.setdefault(account_id, {})[metric_id] = score
    assert rows
    for account_id, metric_id, computed, contribution, share, segment, _ in rows:
        without = dict(by_account[account_id], **{metric_id: None})
        exact = score_account(segment, without)["computed"]
        assert (computed - contribution) / (1 - share) == pytest.approx(exact)


def test_distribution_and_histograms(report_results: dict) -> None:
    distribution = report_results["score_distribution"]
    assert distribution.ok, distribution.error
    frame = distribution.frame
    overall = frame[frame["breakdown"] == "overall"]
    for breakdown in ("segment", "lifecycle_stage"):
        part = frame[frame["breakdown"] == breakdown]
        assert part["account_count"].sum() == overall["account_count"].sum()
        shares = part.groupby("breakdown_value")["share_of_breakdown"].sum()
        assert shares.to_list() == pytest.approx([1.0] * len(shares))
    histograms = report_results["score_histograms"].frame
    scores = histograms[histograms["subject"] == "health_score"]
    assert scores["account_count"].sum() == overall["account_count"].sum()
    assert scores["bucket_index"].between(0, 9).all()
    values = histograms[histograms["subject"] == "metric_value"]
    assert set(values["metric_id"]) == {"usage", "adoption", "tickets"}
