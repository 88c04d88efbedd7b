"""Profile the slowest models of a saved run with DuckDB's profiler (EXPLAIN ANALYZE).

Re-runs each model's compiled SELECT (from the run's own target/) against the run's warehouse,
as `create temp table ... as <select>` like dbt does, with JSON profiling on; prints the
operators that took the longest and saves the profile (JSON, and as an indented
operator tree) under <work dir>/explain/.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from scripts.benchmark.errors import BenchmarkError

SKIPPED_EXTRA = frozenset(
    {"Estimated Cardinality", "Table Index", "Consumers", "Direct Consumers", "Chunk Storage"}
)


def _load(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BenchmarkError(f"{path}: cannot read ({exc})") from exc


def _operators(node: dict, depth: int = 0) -> list[tuple[float, int, str, str, int]]:
    """(seconds, rows, name, extra, depth) of every operator of a profile tree."""
    name = str(node.get("type") or node.get("operator_type") or node.get("operator_name") or "")
    seconds = float(node.get("timing") or node.get("operator_timing") or 0.0)
    rows = int(
        node.get("operator_cardinality")
        or node.get("cardinality")
        or node.get("intermediate_rows")
        or 0
    )
    extra = node.get("extra_info") or ""
    if isinstance(extra, dict):
        extra = "; ".join(f"{k}={v}" for k, v in extra.items() if k not in SKIPPED_EXTRA)
    found = [(seconds, rows, name, str(extra).replace("\n", " ")[:120], depth)] if name else []
    for child in node.get("children") or []:
        found += _operators(child, depth + 1)
    return found


def _roots(profile: dict) -> list[dict]:
    operators = profile.get("operator") or profile.get("children") or []
    return operators if isinstance(operators, list) else [operators]


def profile_model(con: duckdb.DuckDBPyConnection, sql: str, profile_path: Path) -> dict:
    con.execute("pragma enable_profiling = 'json'")
    con.execute(f"pragma profiling_output = '{profile_path}'")
    con.execute(f"create or replace temp table __benchmark_profiled as {sql}")
    con.execute("pragma disable_profiling")
    return _load(profile_path)


def profile_nodes(work: Path, nodes: list[dict], top: int, title: str) -> str:
    """Profile the `top` slowest models of `nodes` (a run's node timings, slowest first)
    against the warehouse in `work` as it is now; returns the report text."""
    manifest = _load(work / "target" / "manifest.json")
    models = [n for n in nodes if n["resource_type"] == "model"][:top]
    out_dir = work / "explain"
    out_dir.mkdir(exist_ok=True)
    con = duckdb.connect(str(work / "customer_health.duckdb"), read_only=True)
    con.execute("set TimeZone = 'UTC'")
    lines = [f"Profiles of the {len(models)} slowest models of {title}"]
    try:
        for model in models:
            node = manifest["nodes"][model["unique_id"]]
            compiled = (
                work / "target" / "compiled" / node["package_name"] / node["original_file_path"]
            )
            sql = compiled.read_text(encoding="utf-8")
            name = node["name"]
            profile = profile_model(con, sql, out_dir / f"{name}.json")
            ops = [op for root in _roots(profile) for op in _operators(root)]
            (out_dir / f"{name}.txt").write_text(
                "\n".join(
                    f"{'  ' * depth}{op} {seconds:.3f}s {rows:,} rows {extra}"
                    for seconds, rows, op, extra, depth in ops
                ),
                encoding="utf-8",
            )
            total = sum(op[0] for op in ops)
            lines.append(
                f"\n{name}: {model['seconds']:.2f} s in dbt; operator times (summed over "
                f"threads) {total:.2f} s; {compiled.stat().st_size:,} bytes of SQL; top operators:"
            )
            for seconds, rows, op, extra, _ in sorted(ops, reverse=True)[:8]:
                lines.append(f"  {seconds:8.3f} s {rows:>12,} rows  {op:<22} {extra}")
            lines.append(f"  operator tree: {out_dir / (name + '.txt')}")
    finally:
        con.close()
    return "\n".join(lines)


def explain_slowest(results_path: Path, run_key: str = "full_build", top: int = 5) -> str:
    """Profile the slowest models of a saved run, against its warehouse as left by the last
    run (a model reading the score dates sees the daily run's dates if one ran: use
    `run --profile-top N` to profile right after the full build)."""
    results = _load(results_path)
    run = results["runs"].get(run_key)
    if run is None:
        raise BenchmarkError(f"{results_path}: no run {run_key!r} (have {list(results['runs'])})")
    return profile_nodes(
        Path(results["work_dir"]), run["nodes"], top, f"{run_key} ({results_path})"
    )
