"""The project's house rules, checked on dbt's manifest the way dbt-project-evaluator would:
every resource documented, every model's grain tested, names matching their layer, sources
read only by staging, and public marts under enforced contracts whose grain columns are
declared not null (and, for the marts rebuilt as tables, a primary key).

With CUSTOMER_HEALTH_TEST_WAREHOUSE pointing at a built warehouse (`make test` sets it),
the documented columns are also compared with the columns the models really have.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from tests.python.dbt_env import dbt_env, not_null_constraints, primary_keys

PROJECT_DIR = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).parent / "dbt"

LAYER_PREFIXES = {
    "models/staging/": ("stg_", "base_"),
    "models/intermediate/": ("int_",),
    "models/marts/": ("fct_", "dim_"),
}
GRAIN_TESTS = {"unique", "unique_combination_of_columns"}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work_dir = tmp_path_factory.mktemp("parse")
    env = dbt_env(PROJECT_DIR, work_dir, database=work_dir / "parse.duckdb")
    result = subprocess.run(
        [str(DBT), "parse", "--project-dir", str(PROJECT_DIR)],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    return json.loads((work_dir / "target" / "manifest.json").read_text())


def project_nodes(manifest: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == resource_type and node["package_name"] == "customer_health"
    ]


def test_every_model_seed_and_source_is_documented(manifest: dict[str, Any]) -> None:
    undocumented = [
        node["original_file_path"]
        for node in project_nodes(manifest, "model") + project_nodes(manifest, "seed")
        if not node["description"].strip()
    ]
    undocumented += [
        f"source {source['source_name']}.{source['name']}"
        for source in manifest["sources"].values()
        if not (source["description"].strip() and source["source_description"].strip())
    ]
    assert not undocumented


def test_every_documented_column_has_a_description(manifest: dict[str, Any]) -> None:
    resources = (
        project_nodes(manifest, "model")
        + project_nodes(manifest, "seed")
        + list(manifest["sources"].values())
    )
    blank = [
        f"{resource['name']}.{column['name']}"
        for resource in resources
        for column in resource["columns"].values()
        if not column["description"].strip()
    ]
    assert not blank


def test_every_model_has_its_grain_tested(manifest: dict[str, Any]) -> None:
    tests = project_nodes(manifest, "test")
    tested_grain = {
        test["attached_node"]
        for test in tests
        if test.get("test_metadata") and test["test_metadata"]["name"] in GRAIN_TESTS
    }
    not_null = {
        (test["attached_node"], test.get("column_name"))
        for test in tests
        if test.get("test_metadata") and test["test_metadata"]["name"] == "not_null"
    }
    unique_columns = {
        (test["attached_node"], test.get("column_name"))
        for test in tests
        if test.get("test_metadata") and test["test_metadata"]["name"] == "unique"
    }
    missing = [
        model["name"]
        for model in project_nodes(manifest, "model")
        if model["unique_id"] not in tested_grain
    ]
    assert not missing, f"models without a unique / unique-combination test: {missing}"
    unique_without_not_null = sorted(unique_columns - not_null)
    assert not unique_without_not_null, "unique keys must also be tested not_null"


def test_model_names_match_their_layer(manifest: dict[str, Any]) -> None:
    misnamed = []
    for model in project_nodes(manifest, "model"):
        path = model["original_file_path"]
        prefixes = next(
            (allowed for folder, allowed in LAYER_PREFIXES.items() if path.startswith(folder)),
            None,
        )
        if prefixes is None or not model["name"].startswith(prefixes):
            misnamed.append(path)
    assert not misnamed


def test_only_staging_models_read_sources(manifest: dict[str, Any]) -> None:
    readers = [
        model["original_file_path"]
        for model in project_nodes(manifest, "model")
        if model["depends_on"]["nodes"]
        and any(parent.startswith("source.") for parent in model["depends_on"]["nodes"])
        and not model["original_file_path"].startswith("models/staging/")
    ]
    assert not readers


def test_marts_are_public_with_enforced_contracts(manifest: dict[str, Any]) -> None:
    marts = [m for m in project_nodes(manifest, "model") if m["name"].startswith(("fct_", "dim_"))]
    assert marts
    loose = [
        mart["name"]
        for mart in marts
        if not (mart["config"]["contract"]["enforced"] and mart["access"] == "public")
    ]
    assert not loose
    exposed = {
        parent
        for exposure in manifest["exposures"].values()
        for parent in exposure["depends_on"]["nodes"]
    }
    assert {mart["unique_id"] for mart in marts if mart["name"] != "dim_accounts"} <= exposed


def built_warehouse() -> str:
    """The warehouse `make test` built (CUSTOMER_HEALTH_TEST_WAREHOUSE); skips without one."""
    warehouse = os.environ.get("CUSTOMER_HEALTH_TEST_WAREHOUSE")
    if not warehouse:
        pytest.skip("set CUSTOMER_HEALTH_TEST_WAREHOUSE to a built warehouse (make test does)")
    return warehouse


def mart_grain_columns(manifest: dict[str, Any]) -> dict[str, set[str]]:
    """Each mart's grain: its unique column, or its unique combination of columns."""
    marts = {
        model["unique_id"]: model["name"]
        for model in project_nodes(manifest, "model")
        if model["name"].startswith(("fct_", "dim_"))
    }
    grain: dict[str, set[str]] = {name: set() for name in marts.values()}
    for test in project_nodes(manifest, "test"):
        metadata, attached = test.get("test_metadata"), test.get("attached_node")
        if not metadata or attached not in marts:
            continue
        if metadata["name"] == "unique":
            grain[marts[attached]].add(test["column_name"])
        elif metadata["name"] == "unique_combination_of_columns":
            grain[marts[attached]].update(metadata["kwargs"]["combination_of_columns"])
    return grain


def declared_not_null(manifest: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (model["name"], column["name"])
        for model in project_nodes(manifest, "model")
        if model["name"].startswith(("fct_", "dim_"))
        for column in model["columns"].values()
        if any(constraint["type"] == "not_null" for constraint in column["constraints"])
    }


def test_mart_keys_are_not_null_in_the_contract(manifest: dict[str, Any]) -> None:
    """A BI tool reads the contract: every column of a mart's grain is declared not null."""
    grain = mart_grain_columns(manifest)
    assert all(grain.values()), {name: columns for name, columns in grain.items() if not columns}
    missing = sorted(
        (mart, column)
        for mart, columns in grain.items()
        for column in columns
        if (mart, column) not in declared_not_null(manifest)
    )
    assert not missing, f"grain columns without a not_null constraint: {missing}"


def test_declared_not_null_columns_are_enforced_by_the_tables(manifest: dict[str, Any]) -> None:
    enforced = not_null_constraints(built_warehouse())
    assert declared_not_null(manifest) <= enforced, sorted(declared_not_null(manifest) - enforced)


def declared_primary_keys(manifest: dict[str, Any]) -> dict[str, set[str]]:
    return {
        model["name"]: set(constraint["columns"])
        for model in project_nodes(manifest, "model")
        for constraint in model.get("constraints", [])
        if constraint["type"] == "primary_key"
    }


def test_table_marts_declare_their_grain_as_primary_key(manifest: dict[str, Any]) -> None:
    """The marts rebuilt as tables each run carry their grain as the contract's primary key
    (for BI tools and the catalog). The incremental history marts do not (DECISIONLOG)."""
    grain = mart_grain_columns(manifest)
    tables = {
        model["name"]
        for model in project_nodes(manifest, "model")
        if model["name"] in grain and model["config"]["materialized"] == "table"
    }
    assert tables >= {"dim_accounts", "fct_health_scores"}
    assert declared_primary_keys(manifest) == {name: grain[name] for name in tables}


def test_declared_primary_keys_are_enforced_by_the_tables(manifest: dict[str, Any]) -> None:
    declared = declared_primary_keys(manifest)
    assert declared
    enforced = primary_keys(built_warehouse())
    assert {name: enforced.get(name) for name in declared} == declared


def test_documented_columns_match_the_built_models(manifest: dict[str, Any]) -> None:
    with duckdb.connect(built_warehouse(), read_only=True) as connection:
        built = connection.execute(
            "select table_name, column_name from information_schema.columns"
        ).fetchall()
    actual: dict[str, set[str]] = {}
    for table, column in built:
        actual.setdefault(table, set()).add(column)
    mismatched = {}
    for model in project_nodes(manifest, "model"):
        if model["config"]["materialized"] == "ephemeral" or model["name"] not in actual:
            continue
        documented = set(model["columns"])
        if documented != actual[model["name"]]:
            mismatched[model["name"]] = {
                "undocumented": sorted(actual[model["name"]] - documented),
                "not in the model": sorted(documented - actual[model["name"]]),
            }
    assert not mismatched


def test_dbt_sends_no_usage_statistics() -> None:
    # The Makefile sets DO_NOT_TRACK=1, but a person may run `dbt build` by hand.
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    assert project["flags"]["send_anonymous_usage_stats"] is False
