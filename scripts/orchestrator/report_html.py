"""The HTML report: one self-contained file of plotly charts and tables.

Every number comes from the analyses' results (report_analyses) or, for the
lists of accounts to act on, from the marts; the analyses' rows are embedded
as JSON (`<script id="analysis-data">`) so that tests and people can check the
charts against them. plotly.js is embedded once, inline: the file needs no
network to be viewed.
"""

from __future__ import annotations

import html
import json
import math
from datetime import UTC, datetime
from typing import Any

from scripts.orchestrator.report_analyses import AnalysisResult

BAND_COLOURS = {"red": "#d62728", "yellow": "#f2b705", "green": "#2ca02c", "unknown": "#999999"}
BAND_ORDER = ["red", "yellow", "green", "unknown"]
GRADE_ORDER = ["F", "D", "C", "B", "A", "none"]

_CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, Roboto, sans-serif; margin: 0;
       color: #222; background: #fafafa; }
header { background: #1f3b57; color: #fff; padding: 18px 32px; }
header h1 { margin: 0 0 4px 0; font-size: 24px; }
header p { margin: 0; opacity: .85; }
main { padding: 8px 32px 32px 32px; max-width: 1400px; }
section { background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; margin: 16px 0;
          padding: 12px 20px; }
h2 { font-size: 19px; margin: 6px 0 8px 0; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, 610px); gap: 8px; }
.kpis { display: flex; gap: 16px; flex-wrap: wrap; }
.kpi { background: #f1f5f9; border-radius: 6px; padding: 10px 16px; min-width: 150px; }
.kpi b { display: block; font-size: 24px; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0; }
th, td { border-bottom: 1px solid #eee; padding: 3px 8px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f4f4f4; position: sticky; top: 0; }
.note { background: #fff8e1; border-left: 4px solid #f2b705; padding: 6px 10px; margin: 6px 0; }
.scroll { max-height: 420px; overflow: auto; }
.band-red { color: #d62728; font-weight: 600; }
.band-yellow { color: #b58900; font-weight: 600; }
.band-green { color: #2ca02c; font-weight: 600; }
"""


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def frame_records(frame: Any) -> list[dict]:
    """Rows of a DataFrame as JSON-safe dicts (NaN -> None)."""
    columns = list(frame.columns)
    return [
        {c: _plain(v) for c, v in zip(columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def _format(value: Any, column: str = "") -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if column.endswith("_share") or column.endswith("_rate"):
            return f"{value:.1%}"
        if abs(value) >= 100:
            return f"{value:,.1f}"
        return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"
    return str(value)


def html_table(
    records: list[dict], columns: list[str] | None = None, band_column: str | None = None
) -> str:
    if not records:
        return '<p class="note">No rows.</p>'
    columns = columns or list(records[0])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for record in records:
        cells = []
        for column in columns:
            value = record.get(column)
            text = html.escape(_format(value, column))
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            css = ' class="num"' if numeric else ""
            if column == band_column and value in BAND_COLOURS:
                css = f' class="band-{value}"'
            cells.append(f"<td{css}>{text}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


class _Figures:
    """Renders plotly figures to <div>s; plotly.js is embedded inline once."""

    def __init__(self) -> None:
        self.count = 0

    def render(self, figure: Any) -> str:
        figure.update_layout(
            template="plotly_white",
            margin={"l": 60, "r": 20, "t": 50, "b": 50},
            height=figure.layout.height or 380,
            width=600,
        )
        include = self.count == 0
        self.count += 1
        return figure.to_html(
            full_html=False,
            include_plotlyjs=include,
            div_id=f"figure-{self.count}",
            config={"displaylogo": False},
        )


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _unavailable(result: AnalysisResult | None, what: str) -> str:
    reason = result.error if result is not None else "not run"
    return _note(f"{what} not available: {reason}")


def _distribution_section(results: dict[str, AnalysisResult], figures: _Figures) -> str:
    import plotly.graph_objects as go

    parts: list[str] = []
    distribution = results.get("score_distribution")
    histograms = results.get("score_histograms")
    charts: list[str] = []
    if histograms is not None and histograms.ok:
        frame = histograms.frame
        scores = frame[frame["subject"] == "health_score"]
        counts = dict(zip(scores.bucket_index, scores.account_count, strict=True))
        buckets = range(int(scores.bucket_index.max()) + 1 if not scores.empty else 0)
        buckets = range(max(10, len(buckets)))
        figure = go.Figure(
            go.Bar(
                x=[f"{10 * i}-{10 * i + 10}" for i in buckets],
                y=[int(counts.get(i, 0)) for i in buckets],
                marker_color="#1f77b4",
            )
        )
        figure.update_layout(
            title="Health score: accounts per 10-point bucket",
            xaxis_title="health score",
            yaxis_title="accounts",
        )
        charts.append(figures.render(figure))
    else:
        parts.append(_unavailable(histograms, "Score histograms"))
    if distribution is not None and distribution.ok:
        frame = distribution.frame
        overall = frame[frame["breakdown"] == "overall"]
        grades = overall.groupby("grade", as_index=False)["account_count"].sum()
        grades["order"] = grades["grade"].map({g: i for i, g in enumerate(GRADE_ORDER)}).fillna(99)
        grades = grades.sort_values("order")
        figure = go.Figure(go.Bar(x=grades.grade, y=grades.account_count, marker_color="#5b8db8"))
        figure.update_layout(
            title="Accounts per grade", xaxis_title="grade", yaxis_title="accounts"
        )
        charts.append(figures.render(figure))
        for breakdown, title in (
            ("segment", "Band mix per segment"),
            ("lifecycle_stage", "Band mix per lifecycle stage"),
        ):
            rows = frame[frame["breakdown"].isin([breakdown, "overall"])]
            mix = rows.groupby(["breakdown_value", "band"], as_index=False)[
                ["account_count", "share_of_breakdown"]
            ].sum()
            figure = go.Figure()
            for band in BAND_ORDER:
                part = mix[mix["band"] == band]
                if part.empty:
                    continue
                figure.add_trace(
                    go.Bar(
                        name=band,
                        x=part.breakdown_value,
                        y=part.share_of_breakdown,
                        customdata=part.account_count,
                        hovertemplate="%{x}: %{y:.0%} (%{customdata} accounts)",
                        marker_color=BAND_COLOURS[band],
                    )
                )
            figure.update_layout(
                title=title, barmode="stack", yaxis_tickformat=".0%", yaxis_title="accounts"
            )
            charts.append(figures.render(figure))
    else:
        parts.append(_unavailable(distribution, "Score distribution"))
    if histograms is not None and histograms.ok:
        frame = histograms.frame
        for subject, title in (
            ("metric_score", "Metric scores: accounts per 10-point bucket"),
            ("metric_value", "Metric values: accounts per bucket of the metric's range"),
        ):
            part = frame[frame["subject"] == subject]
            if part.empty:
                continue
            pivot = part.pivot_table(
                index="metric_id", columns="bucket_index", values="account_count", fill_value=0
            )
            edges = part.assign(
                edge=[
                    f"{lo:.3g} to {hi:.3g}"
                    for lo, hi in zip(part.bucket_low, part.bucket_high, strict=True)
                ]
            ).pivot_table(index="metric_id", columns="bucket_index", values="edge", aggfunc="first")
            edges = edges.reindex(index=pivot.index, columns=pivot.columns).fillna("")
            figure = go.Figure(
                go.Heatmap(
                    z=pivot.values,
                    x=[f"bucket {c + 1}" for c in pivot.columns],
                    y=list(pivot.index),
                    text=edges.values,
                    hovertemplate="%{y}, %{text}: %{z} accounts<extra></extra>",
                    colorscale="Blues",
                )
            )
            figure.update_layout(title=title, height=520)
            charts.append(figures.render(figure))
    parts.insert(0, f'<div class="figures">{"".join(charts)}</div>')
    return "<section><h2>Score distribution</h2>" + "".join(parts) + "</section>"


def _backtest_section(results: dict[str, AnalysisResult], figures: _Figures) -> str:
    import plotly.graph_objects as go

    separation = results.get("backtest_separation")
    deciles = results.get("backtest_churn_by_decile")
    bands = results.get("backtest_churn_by_band")
    parts: list[str] = []
    if separation is not None and separation.ok and not separation.frame.empty:
        frame = separation.frame
        glob = frame[frame["predictor"] == "health_score"]
        if not glob.empty:
            row = glob.iloc[0]
            kpis = [
                ("ROC AUC of the health score", _format(row["auc"])),
                ("Lift of the lowest decile", f"{_format(row['lowest_decile_lift'])}x"),
                ("Churn rate within the horizon", _format(row["churn_rate"], "churn_rate")),
                ("Observations (account x date)", _format(row["observations"])),
                ("Horizon (days)", _format(row["horizon_days"])),
            ]
            parts.append(
                '<div class="kpis">'
                + "".join(f'<div class="kpi"><b>{html.escape(v)}</b>{k}</div>' for k, v in kpis)
                + "</div>"
            )
    charts: list[str] = []
    if deciles is not None and deciles.ok and not deciles.frame.empty:
        frame = deciles.frame
        figure = go.Figure(
            go.Bar(
                x=[f"D{d}" for d in frame.score_decile],
                y=frame.churn_rate,
                customdata=list(zip(frame.min_health_score, frame.max_health_score, strict=True)),
                hovertemplate="%{x}: churn %{y:.1%}, scores %{customdata[0]:.0f}"
                "-%{customdata[1]:.0f}<extra></extra>",
                marker_color="#d62728",
            )
        )
        figure.update_layout(
            title="Churn rate within the horizon by health-score decile (D1 = lowest)",
            yaxis_tickformat=".0%",
            yaxis_title="churn rate",
        )
        charts.append(figures.render(figure))
    else:
        parts.append(_unavailable(deciles, "Churn by score decile"))
    if separation is not None and separation.ok and not separation.frame.empty:
        frame = separation.frame.sort_values("auc", na_position="first")
        colours = ["#1f3b57" if t == "global" else "#7aa6c2" for t in frame.predictor_type]
        figure = go.Figure(
            go.Bar(
                x=frame.auc,
                y=frame.predictor,
                orientation="h",
                marker_color=colours,
                hovertemplate="%{y}: AUC %{x:.3f}<extra></extra>",
            )
        )
        figure.add_vline(x=0.5, line_dash="dash", line_color="#888")
        figure.update_layout(
            title="Which scores separate churners: ROC AUC (0.5 = chance)",
            xaxis_range=[0, 1],
            yaxis={"tickmode": "array", "tickvals": list(frame.predictor), "automargin": True},
            height=max(380, 18 * len(frame) + 120),
        )
        charts.append(figures.render(figure))
    else:
        parts.append(_unavailable(separation, "Backtest separation (AUC, lift)"))
    if bands is not None and bands.ok and not bands.frame.empty:
        frame = bands.frame[bands.frame["breakdown"] == "band"].copy()
        frame["order"] = frame["breakdown_value"].map({b: i for i, b in enumerate(BAND_ORDER)})
        frame = frame.sort_values("order")
        figure = go.Figure(
            go.Bar(
                x=frame.breakdown_value,
                y=frame.churn_rate,
                marker_color=[BAND_COLOURS.get(b, "#999") for b in frame.breakdown_value],
                customdata=frame.observations,
                hovertemplate="%{x}: churn %{y:.1%} of %{customdata} observations<extra></extra>",
            )
        )
        figure.update_layout(title="Churn rate within the horizon per band", yaxis_tickformat=".0%")
        charts.append(figures.render(figure))
    else:
        parts.append(_unavailable(bands, "Churn per band and grade"))
    parts.append(f'<div class="figures">{"".join(charts)}</div>')
    if bands is not None and bands.ok:
        parts.append("<h3>Churn per band and grade</h3>" + html_table(frame_records(bands.frame)))
    if separation is not None and separation.ok:
        parts.append(
            "<h3>Separation per predictor</h3>" + html_table(frame_records(separation.frame))
        )
    return (
        "<section><h2>Backtest: does the score predict churn?</h2>"
        "<p>Every account and score date at least the horizon before the end of the history;"
        " accounts already churned on the score date are left out. Churned: churned_at within"
        " the horizon after the score date.</p>" + "".join(parts) + "</section>"
    )


def _calibration_section(results: dict[str, AnalysisResult]) -> str:
    calibration = results.get("threshold_calibration")
    if calibration is None or not calibration.ok:
        return (
            "<section><h2>Threshold calibration</h2>"
            + _unavailable(calibration, "Threshold calibration")
            + "</section>"
        )
    records = frame_records(calibration.frame)
    target = ""
    if records:
        first = records[0]
        target = (
            f"Target mix: {first['target_red_share']:.0%} red, "
            f"{first['target_yellow_share']:.0%} yellow, {first['target_green_share']:.0%} green"
            " (vars calibration_red_share, calibration_yellow_share)."
        )
    columns = [
        "metric_id", "scorecard_segment", "scorecard_lifecycle_stage", "direction",
        "accounts_with_value", "accounts_without_value", "missing_data_policy",
        "p10", "p50", "p90", "current_red_threshold", "current_green_threshold",
        "current_red_share", "current_yellow_share", "current_green_share",
        "current_red_share_with_missing",
        "suggested_red_threshold", "suggested_green_threshold",
        "suggested_red_share", "suggested_yellow_share", "suggested_green_share",
    ]  # fmt: skip
    return (
        "<section><h2>Threshold calibration: current vs suggested</h2>"
        f"<p>{html.escape(target)} Suggested thresholds are quantiles of the current values;"
        " read them as a starting point, then change seeds/scorecard.csv. Shares are of the"
        " accounts with a value; current_red_share_with_missing adds those without one"
        " that the metric scores as worst.</p>" + html_table(records, columns) + "</section>"
    )


def _sensitivity_section(results: dict[str, AnalysisResult], figures: _Figures) -> str:
    import plotly.graph_objects as go

    sensitivity = results.get("weight_sensitivity")
    if sensitivity is None or not sensitivity.ok:
        return (
            "<section><h2>Weight sensitivity</h2>"
            + _unavailable(sensitivity, "Weight sensitivity")
            + "</section>"
        )
    frame = sensitivity.frame.sort_values("accounts_changing_band")
    figure = go.Figure()
    for column, name, colour in (
        ("accounts_to_worse_band", "to a worse band", "#d62728"),
        ("accounts_to_better_band", "to a better band", "#2ca02c"),
    ):
        figure.add_trace(
            go.Bar(
                x=frame[column], y=frame.metric_id, name=name, orientation="h", marker_color=colour
            )
        )
    figure.update_layout(
        title="Accounts changing band if the metric's weight were zeroed",
        barmode="stack",
        yaxis={"tickmode": "array", "tickvals": list(frame.metric_id), "automargin": True},
        height=max(380, 18 * len(frame) + 120),
    )
    return (
        "<section><h2>Weight sensitivity</h2>"
        f'<div class="figures">{figures.render(figure)}</div>'
        + html_table(frame_records(sensitivity.frame))
        + "</section>"
    )


def _attention_section(attention: dict[str, dict]) -> str:
    parts = []
    for key, title in (
        ("red", "Red accounts"),
        ("declining", "Declining accounts"),
        ("alerts", "New alerts"),
    ):
        table = attention.get(key, {})
        parts.append(f"<h3>{title}</h3>")
        if table.get("note"):
            parts.append(_note(table["note"]))
        if table.get("available"):
            parts.append(html_table(table["rows"], table["columns"], band_column="band"))
    return "<section><h2>Accounts that need attention</h2>" + "".join(parts) + "</section>"


def render_html(
    results: dict[str, AnalysisResult],
    attention: dict[str, dict],
    *,
    warehouse: str,
    published_by: dict | None = None,
) -> str:
    """The whole report as one HTML document."""
    figures = _Figures()
    sections = [
        _backtest_section(results, figures),
        _distribution_section(results, figures),
        _calibration_section(results),
        _sensitivity_section(results, figures),
        _attention_section(attention),
    ]
    if figures.count == 0:
        sections.append(_note("No chart could be drawn: see the notes above."))
    data = {
        name: {"rows": frame_records(r.frame)} if r.ok else {"error": r.error}
        for name, r in results.items()
    }
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    run = f" — published by run {published_by['run_id']}" if published_by else ""
    payload = json.dumps(data, default=str).replace("</", "<\\/")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Customer health: calibration and backtest</title>"
        f"<style>{_CSS}</style></head><body>"
        "<header><h1>Customer health: calibration and backtest</h1>"
        f"<p>Warehouse {html.escape(warehouse)}{html.escape(run)} — generated {generated}</p>"
        "</header><main>"
        + "".join(sections)
        + f'<script type="application/json" id="analysis-data">{payload}</script>'
        + "</main></body></html>\n"
    )
