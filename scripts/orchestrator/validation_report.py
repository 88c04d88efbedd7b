"""Validation results for people (text, HTML) and machines (JSON).

GX 1.x's own Data Docs need a file-backed project and load their CSS and
JavaScript from CDNs when opened, so the HTML here is a small self-contained
page of our own; the JSON keeps GX's full result for every suite.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from scripts.orchestrator.gx_engine import SuiteOutcome


def failure_lines(outcomes: list[SuiteOutcome], *, include_warnings: bool = True) -> list[str]:
    """One line per failed expectation: which file, which expectation, how many rows."""
    lines: list[str] = []
    for suite in outcomes:
        problems = [*suite.failures, *(suite.warnings if include_warnings else [])]
        for item in problems:
            tag = "FAIL" if item in suite.failures else "WARN"
            lines.append(f"{tag} {suite.source}: {item.describe()}")
            if item.notes:
                lines.append(f"     why it matters: {item.notes}")
    return lines


def counts(outcomes: list[SuiteOutcome]) -> dict[str, int]:
    return {
        "suites": len(outcomes),
        "suites_failed": sum(not s.success for s in outcomes),
        "expectations": sum(len(s.outcomes) for s in outcomes),
        "failures": sum(len(s.failures) for s in outcomes),
        "warnings": sum(len(s.warnings) for s in outcomes),
    }


def save_json(path: Path, stage: str, outcomes: list[SuiteOutcome], extra: dict) -> None:
    document = {
        "stage": stage,
        **extra,
        **counts(outcomes),
        "suites": [s.to_dict() for s in outcomes],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, default=str), encoding="utf-8")


_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
th{background:#f3f3f3}.passed{color:#176f2c}.failed,.error,.not_evaluated{color:#b00020}
.warn{background:#fff7e0}.fail{background:#fde8ea}code{font-size:.85rem}
"""


def save_html(path: Path, title: str, outcomes: list[SuiteOutcome]) -> None:
    """A self-contained page: one table per suite, one row per expectation."""
    esc = html.escape
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{esc(title)}</h1>"
    ]
    summary = counts(outcomes)
    parts.append(
        f"<p>{summary['suites']} suites, {summary['expectations']} expectations:"
        f" {summary['failures']} failing, {summary['warnings']} warnings.</p>"
    )
    for suite in outcomes:
        state = "passed" if suite.success else "failed"
        rows = "" if suite.rows is None else f", {suite.rows:,} rows"
        parts.append(
            f"<h2>{esc(suite.suite)} <span class='{state}'>{state}</span></h2>"
            f"<p><code>{esc(suite.source)}</code>{rows}</p>"
            "<table><tr><th>status</th><th>if it fails</th><th>expectation</th>"
            "<th>unexpected</th><th>sample / observed</th><th>notes</th></tr>"
        )
        for item in suite.outcomes:
            row_class = (
                "" if item.ok else (" class='fail'" if item.severity == "fail" else " class='warn'")
            )
            unexpected = (
                f"{item.unexpected_count:,} ({item.unexpected_percent or 0:.2f}%)"
                if item.unexpected_count is not None
                else ""
            )
            shown = item.sample if item.sample else item.observed_value
            detail = item.message or (
                "" if shown is None or shown == [] else json.dumps(shown, default=str)
            )
            parts.append(
                f"<tr{row_class}><td class='{item.status}'>{esc(item.status)}</td>"
                f"<td>{'stops the run' if item.severity == 'fail' else 'warns'}</td>"
                f"<td><code>{esc(item.expectation)}</code> {esc(', '.join(item.columns))}"
                f"<br><small>{esc(json.dumps(item.kwargs, default=str))}</small></td>"
                f"<td>{esc(unexpected)}</td><td>{esc(detail[:300])}</td><td>{esc(item.notes)}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(parts), encoding="utf-8")
