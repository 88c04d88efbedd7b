"""The results as text tables (printed) and as JSON (saved under benchmarks/)."""

from __future__ import annotations

import json
from pathlib import Path

MIB = 1024**2


def _mib(value: object) -> str:
    return f"{int(value) / MIB:,.0f} MiB" if isinstance(value, int) else "-"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = [
        "| " + " | ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += [
        "| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    return "\n".join(lines)


def summary_table(results: dict) -> str:
    """One markdown table: every dbt run and baseline of a results document."""
    scale = results["scale"]["name"]
    events = results["data"]["events"]
    rows = []
    for run in results["runs"].values():
        counts = run["status_counts"]
        ok = counts.get("success", 0) + counts.get("pass", 0)
        rows.append(
            [
                scale if not run["label"].startswith("fixed") else "XS",
                f"dbt {run['label']}",
                f"{run['wall_seconds']:.1f}",
                f"{run['events_per_second']:,.0f}" if run["events_per_second"] else "-",
                _mib(run["peak_rss_bytes"]),
                _mib(run["duckdb_file_bytes"]),
                f"{ok} ok / {len(run['not_ok_nodes'])} not ok",
            ]
        )
    for name, base in (results.get("baselines") or {}).items():
        if "wall_seconds" not in base:
            continue
        equal = base["equality"].get("equal")
        rows.append(
            [
                scale,
                f"baseline {name} ({base.get('computes', 'latest date')})",
                f"{base['wall_seconds']:.1f}",
                f"{events / base['wall_seconds']:,.0f}",
                _mib(base["peak_rss_bytes"]),
                "-",
                f"dbt/baseline {base['ratio_dbt_full_build_over_baseline']}x, "
                f"scores equal: {equal}",
            ]
        )
    header = ["scale", "step", "wall s", "events/s", "peak RSS", "DuckDB file", "nodes / check"]
    return _table(header, rows)


def node_name(unique_id: str) -> str:
    """model.pkg.name -> name; test.pkg.name.hash -> name (a test's last part is a hash)."""
    parts = unique_id.split(".")
    return parts[2] if len(parts) > 2 else unique_id


def slowest_nodes_table(run: dict, count: int = 12) -> str:
    rows = [
        [
            node_name(node["unique_id"])[:70],
            node["resource_type"],
            f"{node['seconds']:.2f}",
            node["status"],
        ]
        for node in run["nodes"][:count]
    ]
    return _table(["node", "type", "seconds", "status"], rows)


def _rate(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else "-"


def bucket_timings_table(run: dict) -> str:
    """How each model built in account buckets took its time, slowest model first."""
    timings = sorted(
        (run.get("bucket_timings") or {}).items(), key=lambda item: item[1]["seconds"], reverse=True
    )
    rows = [
        [
            model[:60],
            str(timing["buckets"]),
            f"{timing['rows']:,}",
            f"{timing['seconds']:.1f}",
            _rate(timing["seconds_per_million_rows"]),
            _rate(timing["first_tenth_seconds_per_million_rows"]),
            _rate(timing["last_tenth_seconds_per_million_rows"]),
            f"#{timing['slowest_bucket']}: {timing['slowest_bucket_seconds']:.2f} s, "
            f"{timing['slowest_bucket_rows']:,} rows",
        ]
        for model, timing in timings
    ]
    header = [
        "model",
        "buckets",
        "rows",
        "seconds",
        "s per M rows",
        "first tenth",
        "last tenth",
        "slowest bucket",
    ]
    return _table(header, rows)


def render(results: dict) -> str:
    machine = results["machine"]
    lines = [
        f"Benchmark scale {results['scale']['name']}: {results['data']['events']:,} events, "
        f"{results['scale']['accounts']:,} accounts, {results['scale']['days']} days",
        f"Machine: {machine['cpu_model']}, {machine['cores']} cores, "
        f"{(machine['ram_bytes'] or 0) / 1024**3:.0f} GiB RAM, "
        f"load {machine['load_average_at_start']}"
        f", dbt-core {machine['versions']['dbt-core']}, duckdb {machine['versions']['duckdb']}",
        "",
        summary_table(results),
    ]
    for key, run in results["runs"].items():
        lines += [
            "",
            f"Slowest nodes, {key} ({run['label']}); seconds by type: "
            f"{run['node_seconds_by_type']}",
            slowest_nodes_table(run),
        ]
        if run.get("bucket_timings"):
            lines += [
                "",
                f"Seconds per account bucket, {key} (from dbt's log; a bucket includes the "
                "commit of the one before)",
                bucket_timings_table(run),
            ]
    for target in results.get("targets", []):
        lines.append(f"target: {target['target']}: value {target['value']}, met {target['met']}")
    for name, base in (results.get("baselines") or {}).items():
        equality = base.get("equality") or {}
        if any(
            equality.get(key)
            for key in (
                "mismatches",
                "accounts_only_in_dbt",
                "accounts_only_in_baseline",
                "rows_only_in_dbt",
                "rows_only_in_baseline",
            )
        ):
            lines.append(f"baseline {name}: differences: {json.dumps(equality)[:2000]}")
    daily = results["runs"].get("daily_run", {})
    if "equality_with_duckdb_baseline" in daily:
        lines.append(
            "daily run vs duckdb baseline on the appended data: equal "
            f"{daily['equality_with_duckdb_baseline']['equal']}"
        )
    lines.append(f"saved: {results['results_file']}")
    return "\n".join(lines)


def save(results: dict) -> Path:
    path = Path(results["results_file"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    return path
