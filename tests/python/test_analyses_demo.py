"""The backtest on a real warehouse (demo data): the score separates churners.

Opt-in, because it needs a warehouse built with the history marts: set
CUSTOMER_HEALTH_BACKTEST_DB to its path (e.g. the published
warehouse/customer_health.duckdb after `make demo`) and, for the ground truth,
CUSTOMER_HEALTH_BACKTEST_MANIFEST to the generator's _manifest.json.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest

from scripts.orchestrator.report_analyses import run_analyses
from tests.fixtures.calibration.compiled import compiled_analyses

DATABASE = os.environ.get("CUSTOMER_HEALTH_BACKTEST_DB")
MANIFEST = os.environ.get("CUSTOMER_HEALTH_BACKTEST_MANIFEST")

pytestmark = pytest.mark.skipif(
    not DATABASE, reason="set CUSTOMER_HEALTH_BACKTEST_DB to a warehouse with the history marts"
)


def test_backtest_separates_churners_on_demo_data() -> None:
    results = run_analyses(Path(DATABASE), compiled_analyses())
    separation = results["backtest_separation"]
    assert separation.ok, separation.error
    health = separation.frame.set_index("predictor").loc["health_score"]
    assert health["churned_observations"] > 0
    assert health["auc"] > 0.65
    assert health["lowest_decile_lift"] > 2
    deciles = results["backtest_churn_by_decile"].frame
    assert deciles.iloc[0]["churn_rate"] > deciles.iloc[-1]["churn_rate"]


@pytest.mark.skipif(not MANIFEST, reason="set CUSTOMER_HEALTH_BACKTEST_MANIFEST")
def test_churners_in_the_data_are_the_generators() -> None:
    """The backtest's label (churned_at) agrees with the generator's ground truth."""
    truth = json.loads(Path(MANIFEST).read_text(encoding="utf-8"))["ground_truth"]
    con = duckdb.connect(DATABASE, read_only=True)
    churned = {r[0] for r in con.execute(
        "select account_id from dim_accounts where churned_at is not null"
    ).fetchall()}  # fmt: skip
    con.close()
    assert len(churned) == truth["archetypes"]["churned"]
    assert not churned & set(truth["churning_after_end_date"])
