"""`python -m scripts.benchmark summary`: the README table from saved results.

Reads the latest results file of each scale S, M and L (by `started_at`), and renders one
markdown fragment: a row per scale (events, dbt full build, daily run and its ratio, dbt's
fixed cost, peak RSS, DuckDB file, each baseline's seconds and dbt's ratio to it, whether the
scores are equal, targets met), the issue's targets, and the linear-scaling check: dbt's
variable cost per event, (full build - fixed cost) / events, at S, M and L must be within
20% of each other (largest / smallest <= 1.2). A scale without results says "not measured".

The fragment is written to a file (default benchmarks/SUMMARY.md) and, with --update-readme,
replaces the block between the SUMMARY_START and SUMMARY_END comment lines of the README.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from scripts.benchmark.errors import BenchmarkError
from scripts.benchmark.runner import (
    DAILY_RUN_TARGET,
    DAILY_RUN_TARGET_SCALES,
    run_failed,
    withhold_targets,
)

SCALES_SHOWN = ("S", "M", "L")
LINEAR_TOLERANCE = 0.20  # largest / smallest variable cost per event <= 1 + this
SUMMARY_START = "<!-- benchmark-summary:start -->"
SUMMARY_END = "<!-- benchmark-summary:end -->"
MIB = 1024**2
NOT_MEASURED = "not measured"
BASELINE_COLUMNS = (
    ("duckdb", "DuckDB SQL, latest date"),
    ("pandas", "pandas, latest date"),
    ("duckdb_history", "DuckDB SQL, year of history"),
)


def load_results(paths: Iterable[Path]) -> list[dict]:
    """Every benchmark results document in the given files and directories (*.json)."""
    found: list[dict] = []
    for path in paths:
        files = sorted(path.glob("*.json")) if path.is_dir() else [path]
        if not path.exists():
            raise BenchmarkError(f"{path}: no such file or directory")
        for file in files:
            try:
                document = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise BenchmarkError(f"{file}: not a readable results file ({exc})") from exc
            if isinstance(document, dict) and "scale" in document and "runs" in document:
                document.setdefault("results_file", str(file))
                found.append(document)
    return found


def latest_by_scale(results: Iterable[dict]) -> dict[str, dict]:
    """The latest results document of each scale (by started_at)."""
    latest: dict[str, dict] = {}
    for document in results:
        name = document["scale"]["name"]
        if name not in latest or document["started_at"] > latest[name]["started_at"]:
            latest[name] = document
    return latest


def _wall(document: dict, run: str) -> float | None:
    """A run's wall time; None when it did not run or failed (a partial build is no time)."""
    entry = (document.get("runs") or {}).get(run)
    return float(entry["wall_seconds"]) if entry and not run_failed(entry) else None


def _failed_cell(run: dict) -> str:
    """'failed after N s (first failed node)': what a failed build shows instead of a time."""
    failed = [node["unique_id"] for node in run.get("failed_nodes") or []]
    # results saved before failed_nodes existed: the first model that did not succeed
    failed = failed or [node for node in run.get("not_ok_nodes") or [] if node.startswith("model.")]
    where = f" ({failed[0].rsplit('.', 1)[-1]})" if failed else ""
    return f"failed after {run['wall_seconds']:,.1f}{where}"


def fixed_cost_seconds(latest: dict[str, dict], scale: str) -> tuple[float | None, str | None]:
    """dbt's fixed cost for a scale's run: its own XS build, else another scale's (noted)."""
    own = _wall(latest[scale], "fixed_cost") if scale in latest else None
    if own is not None:
        return own, None
    for other in SCALES_SHOWN:
        if other in latest and _wall(latest[other], "fixed_cost") is not None:
            return _wall(latest[other], "fixed_cost"), f"fixed cost from the {other} run"
    return None, None


def linearity(latest: dict[str, dict]) -> dict[str, object]:
    """Variable cost per event at S, M, L and whether they are within LINEAR_TOLERANCE."""
    per_event: dict[str, float | None] = {}
    notes: list[str] = []
    for scale in SCALES_SHOWN:
        if scale not in latest:
            per_event[scale] = None
            continue
        document = latest[scale]
        full = _wall(document, "full_build")
        fixed, note = fixed_cost_seconds(latest, scale)
        events = int(document["data"]["events"])
        if note:
            notes.append(f"{scale}: {note}")
        if full is None or fixed is None or events <= 0:
            per_event[scale] = None
            continue
        per_event[scale] = (full - fixed) / events
    measured = {scale: value for scale, value in per_event.items() if value is not None}
    missing = [scale for scale in SCALES_SHOWN if per_event[scale] is None]
    spread = None
    if len(measured) >= 2 and min(measured.values()) > 0:
        spread = max(measured.values()) / min(measured.values()) - 1
    return {
        "variable_seconds_per_event": per_event,
        "spread": spread,
        "tolerance": LINEAR_TOLERANCE,
        "met": (spread <= LINEAR_TOLERANCE) if spread is not None and not missing else None,
        "not_measured": missing,
        "notes": notes,
    }


def _seconds(value: float | None) -> str:
    return f"{value:,.1f}" if value is not None else "–"


def _mib(value: object) -> str:
    return f"{int(value) / MIB:,.0f} MiB" if isinstance(value, int) and value > 0 else "–"


def _baseline_cell(document: dict, name: str) -> str:
    base = (document.get("baselines") or {}).get(name)
    if not base or "wall_seconds" not in base:
        return NOT_MEASURED if name != "pandas" else "skipped"
    if run_failed((document.get("runs") or {}).get("full_build") or {}):
        return f"{base['wall_seconds']:,.1f} (dbt failed)"
    ratio = base.get("ratio_dbt_full_build_over_baseline")
    return f"{base['wall_seconds']:,.1f} (dbt {ratio}×)"


def _equal_cell(document: dict) -> str:
    checks = [
        (name, (base.get("equality") or {}).get("equal"))
        for name, base in (document.get("baselines") or {}).items()
        if isinstance(base, dict) and "wall_seconds" in base
    ]
    if not checks:
        return "–"
    if all(equal is None for _, equal in checks):
        return "not compared"
    if all(equal is True for _, equal in checks):
        return "yes"
    return ", ".join(f"{name}: {equal}" for name, equal in checks)


def _targets(document: dict) -> list[dict]:
    # Both applied here too, for results saved before the runner did it itself: withheld
    # targets, and the daily-run target saved at every scale.
    scale = (document.get("scale") or {}).get("name")
    targets = [
        target
        for target in document.get("targets") or []
        if target.get("target") != DAILY_RUN_TARGET or scale in DAILY_RUN_TARGET_SCALES
    ]
    return withhold_targets(targets, document.get("runs") or {})


def _targets_cell(document: dict) -> str:
    targets = _targets(document)
    if not targets:
        return "–"
    met = sum(1 for target in targets if target.get("met") is True)
    return f"{met} / {len(targets)}"


def scale_row(scale: str, document: dict | None, latest: dict[str, dict]) -> list[str]:
    if document is None:
        return [scale, NOT_MEASURED] + ["–"] * (8 + len(BASELINE_COLUMNS))
    runs = document.get("runs") or {}
    full, daily = runs.get("full_build") or {}, runs.get("daily_run") or {}
    fixed, _ = fixed_cost_seconds(latest, scale)
    daily_cell = "–"
    if daily and run_failed(daily):
        daily_cell = _failed_cell(daily)
    elif daily:
        daily_cell = f"{daily['wall_seconds']:,.1f} ({100 * daily['ratio_to_full_build']:.0f}%)"
    elif (document.get("skipped") or {}).get("daily_run"):
        daily_cell = f"skipped: {document['skipped']['daily_run']}"
    full_cell = (
        _failed_cell(full) if full and run_failed(full) else _seconds(full.get("wall_seconds"))
    )
    return [
        scale,
        f"{int(document['data']['events']):,}",
        full_cell,
        daily_cell,
        _seconds(fixed),
        _mib(full.get("peak_rss_bytes")),
        _mib(full.get("duckdb_file_bytes")),
        *[_baseline_cell(document, name) for name, _ in BASELINE_COLUMNS],
        _equal_cell(document),
        _targets_cell(document),
        Path(str(document.get("results_file", ""))).name or "–",
    ]


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def render(latest: dict[str, dict]) -> str:
    """The markdown fragment (no trailing newline)."""
    header = [
        "scale",
        "events",
        "dbt full build s",
        "daily run s (% of full)",
        "dbt fixed cost s (XS)",
        "peak RSS",
        "DuckDB file",
        *[f"{label} s (dbt ratio)" for _, label in BASELINE_COLUMNS],
        "scores equal",
        "targets met",
        "results",
    ]
    rows = [scale_row(scale, latest.get(scale), latest) for scale in SCALES_SHOWN]
    lines = [_table(header, rows), ""]

    target_rows = []
    for scale in SCALES_SHOWN:
        for target in _targets(latest.get(scale) or {}):
            met = {True: "met", False: "**not met**", None: "–"}[target.get("met")]
            note = f" ({target['note']})" if target.get("note") else ""
            target_rows.append([scale, target["target"], str(target.get("value")), met + note])
    if target_rows:
        lines += [_table(["scale", "target", "value", "met"], target_rows), ""]

    check = linearity(latest)
    per_event = check["variable_seconds_per_event"]
    assert isinstance(per_event, dict)
    cost = ", ".join(
        f"{scale} {1e6 * value:,.1f} µs" if value is not None else f"{scale} {NOT_MEASURED}"
        for scale, value in per_event.items()
    )
    spread = check["spread"]
    if check["met"] is None:
        verdict = f"not measured ({', '.join(check['not_measured'])} missing)"  # type: ignore[arg-type]
        if spread is not None:
            verdict += f"; spread so far {100 * spread:.0f}%"  # type: ignore[operator]
    else:
        verdict = ("met" if check["met"] else "**not met**") + f": spread {100 * spread:.0f}%"  # type: ignore[operator]
    notes = f" ({'; '.join(check['notes'])})" if check["notes"] else ""  # type: ignore[arg-type]
    lines.append(
        "Linear scaling (dbt's variable cost per event, (full build − fixed cost) / events, "
        f"within {100 * LINEAR_TOLERANCE:.0f}% at S, M and L): {cost} → {verdict}{notes}."
    )
    return "\n".join(lines)


def replace_block(text: str, fragment: str, source: Path) -> str:
    """`text` with the lines between the SUMMARY_START and SUMMARY_END lines replaced by
    fragment. Only a line holding nothing but a marker counts (prose may quote them)."""
    lines = text.split("\n")
    stripped = [line.strip() for line in lines]
    try:
        start = stripped.index(SUMMARY_START)
        end = stripped.index(SUMMARY_END, start + 1)
    except ValueError:
        raise BenchmarkError(
            f"{source}: no {SUMMARY_START} ... {SUMMARY_END} block to replace; add the two "
            "lines where the table goes"
        ) from None
    return "\n".join([*lines[: start + 1], fragment, *lines[end:]])


def write_summary(paths: Iterable[Path], out: Path | None, readme: Path | None) -> str:
    """Render the summary of the latest S, M, L results; write it to out and the README."""
    latest = latest_by_scale(load_results(paths))
    fragment = render(latest)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(fragment + "\n", encoding="utf-8")
    if readme is not None:
        try:
            text = readme.read_text(encoding="utf-8")
        except OSError as exc:
            raise BenchmarkError(f"{readme}: cannot read ({exc.strerror})") from exc
        readme.write_text(replace_block(text, fragment, readme), encoding="utf-8")
    return fragment
