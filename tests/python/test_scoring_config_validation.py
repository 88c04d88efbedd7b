"""The scoring configuration is validated before anything is scored: a bad seed fails
`dbt build` with a message naming the seed and the row, never a wrong score.

The project is copied to a temporary directory and staged once on a few generated accounts
(no dirty rows); each case then writes one bad seed and builds only that seed, the model
listing config errors and the gate model that raises them (int_scorecard_validated).
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.python.dbt_env import dbt_env

PROJECT_DIR = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).parent / "dbt"
GATE_MODELS = ["int_scoring_config_errors", "int_scorecard_validated"]
COPY_IGNORED = shutil.ignore_patterns(
    ".venv",
    ".git",
    "target*",
    "logs*",
    "warehouse",
    "data",
    "runs",
    "gx",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    "*.duckdb",
)

Rows = list[dict[str, str]]


@dataclass
class ScoringProject:
    """A staged copy of the project and how to run dbt in it."""

    root: Path
    env: dict[str, str]

    @property
    def database(self) -> Path:
        return Path(self.env["CUSTOMER_HEALTH_DB"])

    def dbt(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(DBT), *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )

    def read_seed(self, name: str) -> Rows:
        with (self.root / "seeds" / f"{name}.csv").open(newline="") as handle:
            return list(csv.DictReader(handle))

    def write_seed(self, name: str, rows: Rows) -> None:
        with (self.root / "seeds" / f"{name}.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.database), read_only=True) as connection:
            return connection.execute(sql).fetchall()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScoringProject]:
    base = tmp_path_factory.mktemp("scoring_config")
    root = base / "project"
    shutil.copytree(PROJECT_DIR, root, ignore=COPY_IGNORED)
    (base / "warehouse").mkdir()
    raw_dir = base / "raw"
    subprocess.run(
        [
            sys.executable,
            str(root / "scripts" / "generate_demo_data.py"),
            *("--accounts", "40", "--days", "120", "--seed", "42"),
            *("--dirty-fraction", "0", "--out", str(raw_dir)),
        ],
        check=True,
        capture_output=True,
    )
    env = dbt_env(root, base, raw_dir, database=base / "warehouse" / "scoring.duckdb")
    scoring = ScoringProject(root=root, env=env)
    staged = scoring.dbt(
        "build",
        *("--select", "+int_scorecard_validated", "stg_crm__accounts_quarantined"),
        *("--exclude", "test_type:data"),
    )
    assert staged.returncode == 0, staged.stdout[-3000:]
    yield scoring


@pytest.fixture
def bad_seed(project: ScoringProject) -> Iterator[Callable[[str, Rows], None]]:
    """Writes a bad version of a seed for one test, and restores the shipped one after."""
    originals: dict[str, str] = {}

    def write(name: str, rows: Rows) -> None:
        path = project.root / "seeds" / f"{name}.csv"
        originals.setdefault(name, path.read_text())
        project.write_seed(name, rows)

    yield write
    for name, text in originals.items():
        (project.root / "seeds" / f"{name}.csv").write_text(text)


def build_gate(project: ScoringProject) -> subprocess.CompletedProcess[str]:
    """`dbt build` of every seed (so that a seed restored after a test is reloaded too) and
    the gate models; tests of models not built are left out."""
    return project.dbt(
        "build",
        *("--select", "resource_type:seed", *GATE_MODELS),
        *("--indirect-selection", "cautious"),
    )


def assert_fails_naming(project: ScoringProject, message: str) -> None:
    """The build fails, its output names the seed and the row, and that is the only error."""
    result = build_gate(project)
    assert result.returncode != 0, "dbt build passed on a bad seed"
    output = " ".join(result.stdout.split())
    assert "Invalid scoring configuration (1 error(s))" in output, result.stdout[-3000:]
    assert message in output, result.stdout[-3000:]
    assert project.query("select count(*) from int_scoring_config_errors") == [(1,)]


def test_shipped_config_is_valid(project: ScoringProject) -> None:
    result = build_gate(project)
    assert result.returncode == 0, result.stdout[-3000:]
    assert project.query("select count(*) from int_scoring_config_errors") == [(0,)]


def test_negative_weight(project: ScoringProject, bad_seed: Callable[[str, Rows], None]) -> None:
    rows = project.read_seed("scorecard")
    for row in rows:
        if (row["segment"], row["lifecycle_stage"], row["metric_id"]) == ("*", "*", "csm_rating"):
            row["weight"] = "-1"
    bad_seed("scorecard", rows)
    assert_fails_naming(
        project,
        "seeds/scorecard.csv: row segment=*, lifecycle_stage=*, metric_id=csm_rating: "
        "negative weight -1",
    )


def test_thresholds_out_of_order(
    project: ScoringProject, bad_seed: Callable[[str, Rows], None]
) -> None:
    rows = project.read_seed("scorecard")
    rows.append(
        {
            **rows[0],
            "segment": "smb",
            "lifecycle_stage": "*",
            "metric_id": "avg_days_to_pay",
            "weight": "medium",
            "worst_value": "10",
            "red_threshold": "20",
            "green_threshold": "5",
            "best_value": "0",
        }
    )
    bad_seed("scorecard", rows)
    assert_fails_naming(
        project,
        "seeds/scorecard.csv: row segment=smb, lifecycle_stage=*, metric_id=avg_days_to_pay: "
        "thresholds out of order for lower_is_better (worst 10 < red 20)",
    )


def test_unknown_metric_id(project: ScoringProject, bad_seed: Callable[[str, Rows], None]) -> None:
    rows = project.read_seed("scorecard")
    rows.append({**rows[0], "metric_id": "net_promoter_score"})
    bad_seed("scorecard", rows)
    assert_fails_naming(
        project,
        "seeds/scorecard.csv: row segment=*, lifecycle_stage=*, metric_id=net_promoter_score: "
        "unknown metric_id",
    )


def test_unknown_segment(project: ScoringProject, bad_seed: Callable[[str, Rows], None]) -> None:
    rows = project.read_seed("scorecard")
    rows.append({**rows[0], "segment": "midmarket"})
    bad_seed("scorecard", rows)
    assert_fails_naming(
        project,
        f"seeds/scorecard.csv: row segment=midmarket, lifecycle_stage=*, "
        f"metric_id={rows[0]['metric_id']}: unknown segment",
    )


def test_band_cutoffs_not_increasing(
    project: ScoringProject, bad_seed: Callable[[str, Rows], None]
) -> None:
    rows = project.read_seed("score_bands")
    for row in rows:
        if row["band"] == "yellow":
            row["min_score"] = "75"
    bad_seed("score_bands", rows)
    assert_fails_naming(
        project,
        "seeds/score_bands.csv: row band=green: cutoffs not increasing",
    )


def test_grade_cutoffs_not_increasing(
    project: ScoringProject, bad_seed: Callable[[str, Rows], None]
) -> None:
    rows = project.read_seed("score_grades")
    for row in rows:
        if row["grade"] == "B":
            row["min_score"] = "85"
    bad_seed("score_grades", rows)
    assert_fails_naming(
        project,
        "seeds/score_grades.csv: row grade=A: cutoffs not increasing",
    )


def test_segment_stage_with_all_weights_zero(
    project: ScoringProject, bad_seed: Callable[[str, Rows], None]
) -> None:
    rows = project.read_seed("scorecard")
    thresholds = ("worst_value", "red_threshold", "green_threshold", "best_value")
    # Every metric left out of the smb onboarding scorecard: nothing left to weigh.
    rows += [
        {
            "segment": "smb",
            "lifecycle_stage": "onboarding",
            "metric_id": metric_id,
            "is_enabled": "false",
            "weight": "none",
            **dict.fromkeys(thresholds, ""),
        }
        for metric_id in sorted({row["metric_id"] for row in rows})
    ]
    bad_seed("scorecard", rows)
    assert_fails_naming(
        project,
        "seeds/scorecard.csv: rows for segment=smb, lifecycle_stage=onboarding: "
        "all weights are zero",
    )


def test_account_plan_missing_from_plan_segments(
    project: ScoringProject, bad_seed: Callable[[str, Rows], None]
) -> None:
    """An account whose plan has no row in plan_segments is quarantined by staging
    (`unknown_plan`, DECISIONLOG) when staging is rebuilt with the seed, and the build goes
    on without it. Where staging was not rebuilt (a selection of seeds and scoring only),
    the gate's own check of the plans it scores fails the build naming the seed and row."""
    [(plan,)] = project.query(
        "select plan from int_accounts_lifecycle_staged where is_in_scope "
        "group by plan order by count(*) desc, plan limit 1"
    )
    original_rows = project.read_seed("plan_segments")
    bad_seed("plan_segments", [row for row in original_rows if row["plan"] != plan])

    assert_fails_naming(project, f"seeds/plan_segments.csv: missing row plan={plan}")

    rebuilt = project.dbt(
        "build",
        *("--select", "resource_type:seed", "base_crm__accounts_parsed", *GATE_MODELS),
        *("--indirect-selection", "cautious"),
    )
    try:
        assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
        [(quarantined,)] = project.query(
            "select count(*) from stg_crm__accounts_quarantined "
            f"where plan = '{plan}' and reject_reason = 'unknown_plan'"
        )
        assert quarantined > 0
        assert project.query(
            f"select count(*) from int_accounts_lifecycle_staged where plan = '{plan}'"
        ) == [(0,)]
    finally:
        # The base table keeps what it was built with: rebuild it with the shipped seed
        # so that later tests see every account again.
        project.write_seed("plan_segments", original_rows)
        project.dbt("build", "--select", "plan_segments", "base_crm__accounts_parsed")


def set_group_weight(rows: Rows, group: str, values: dict[str, str]) -> Rows:
    """The enterprise row of `group` with `values` written over it."""
    for row in rows:
        if (row["segment"], row["lifecycle_stage"], row["measure_group"]) == (
            "enterprise",
            "*",
            group,
        ):
            row.update(values)
    return rows


@pytest.mark.parametrize(
    ("measure_group", "values", "message"),
    [
        ("human", {"measure_group": "humans"}, "measure_group=humans: unknown measure_group"),
        ("product", {"weight": "-5"}, "measure_group=product: negative weight -5"),
        ("service", {"weight": ""}, "measure_group=service: weight is empty"),
    ],
)
def test_bad_group_weight_row(
    project: ScoringProject,
    bad_seed: Callable[[str, Rows], None],
    measure_group: str,
    values: dict[str, str],
    message: str,
) -> None:
    rows = set_group_weight(project.read_seed("group_weights"), measure_group, values)
    bad_seed("group_weights", rows)
    assert_fails_naming(
        project, "seeds/group_weights.csv: row segment=enterprise, lifecycle_stage=*, " + message
    )


def test_duplicate_group_weight_row(
    project: ScoringProject, bad_seed: Callable[[str, Rows], None]
) -> None:
    rows = project.read_seed("group_weights")
    bad_seed("group_weights", [*rows, dict(rows[0])])
    result = build_gate(project)
    assert result.returncode != 0, "dbt build passed with a duplicate group weight"
    output = " ".join(result.stdout.split())
    assert "duplicate row (2 rows with this segment, lifecycle_stage and measure_group)" in output
    assert project.query("select count(*) from int_scoring_config_errors") == [(2,)]


def test_group_weights_all_zero(
    project: ScoringProject, bad_seed: Callable[[str, Rows], None]
) -> None:
    rows = [dict(row, weight="0") for row in project.read_seed("group_weights")]
    bad_seed("group_weights", rows)
    result = build_gate(project)
    assert result.returncode != 0, "dbt build passed with every group weight zero"
    output = " ".join(result.stdout.split())
    assert (
        "all weights are zero for the groups with weighted metrics of segment=enterprise" in output
    ), result.stdout[-3000:]


def test_score_decimals_beyond_the_exact_sum_fail(project: ScoringProject) -> None:
    result = project.dbt(
        "compile", "--select", "int_group_scores_weighted", "--vars", "{score_decimals: 12}"
    )
    assert result.returncode != 0, "dbt compiled with score_decimals 12"
    output = " ".join(result.stdout.split())
    assert "var score_decimals must be a whole number from 0 to 9" in output, output[-2000:]
