"""The HTML report: its numbers are the analyses' SQL results, and it renders.

The warehouse is the hand-made one of tests/fixtures/calibration/builders.py;
the analyses are compiled by dbt once per session.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from scripts.orchestrator.cli import main
from scripts.orchestrator.report import build_html_report
from scripts.orchestrator.report_analyses import ANALYSES, SCRATCH_CATALOG, compiled_catalog
from scripts.orchestrator.settings import build_settings
from tests.fixtures.calibration.builders import build_report_db
from tests.fixtures.calibration.compiled import compiled_analyses

_DATA = re.compile(r'<script type="application/json" id="analysis-data">(.*?)</script>', re.S)


def _write_compiled(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, sql in compiled_analyses().items():
        (folder / f"{name}.sql").write_text(sql, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def report_setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("report")
    database = root / "warehouse.duckdb"
    build_report_db(database)
    compiled_dir = _write_compiled(root / "compiled")
    out = root / "report.html"
    settings = build_settings(warehouse=str(database), runs_dir=str(root / "runs"),
                              need_target=False)  # fmt: skip
    out.write_text(build_html_report(settings, compiled_dir), encoding="utf-8")
    return database, compiled_dir, out


def _embedded(report: Path) -> dict:
    return json.loads(_DATA.search(report.read_text(encoding="utf-8")).group(1))


def _same(left: object, right: object) -> bool:
    if isinstance(left, float) or isinstance(right, float):
        if left is None or right is None:
            return left is None and right is None
        if math.isnan(float(right)):
            return left is None
        return math.isclose(float(left), float(right), rel_tol=1e-12, abs_tol=1e-12)
    return left == right


def test_report_numbers_equal_the_analyses_sql(report_setup: tuple[Path, Path, Path]) -> None:
    """Each analysis run on its own (plain DuckDB, read-only) gives the report's rows."""
    database, compiled_dir, report = report_setup
    embedded = _embedded(report)
    assert set(embedded) == set(ANALYSES)
    con = duckdb.connect()
    catalog = compiled_catalog((compiled_dir / "score_distribution.sql").read_text())
    assert catalog == SCRATCH_CATALOG
    con.execute(f"attach '{database}' as {catalog} (read_only)")
    for name in ANALYSES:
        sql = (compiled_dir / f"{name}.sql").read_text(encoding="utf-8")
        cursor = con.execute(sql)
        columns = [d[0] for d in cursor.description]
        expected = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        rows = embedded[name].get("rows")
        assert rows is not None, f"{name}: {embedded[name].get('error')}"
        assert len(rows) == len(expected), name
        for got, want in zip(rows, expected, strict=True):
            assert list(got) == columns, name
            for column in columns:
                value = want[column]
                value = value.isoformat() if hasattr(value, "isoformat") else value
                assert _same(got[column], value), (name, column, got[column], value)
    con.close()
    # the headline figures and the calibration table show those numbers
    text = report.read_text(encoding="utf-8")
    health = next(
        r for r in embedded["backtest_separation"]["rows"] if r["predictor"] == "health_score"
    )
    assert f"<b>{health['auc']:.3g}</b>ROC AUC of the health score" in text
    for row in embedded["threshold_calibration"]["rows"]:
        assert f">{row['suggested_red_threshold']:.2f}<" in text or (
            f">{row['suggested_red_threshold']:.3g}<" in text
        )


def test_report_is_self_contained(report_setup: tuple[Path, Path, Path]) -> None:
    text = report_setup[2].read_text(encoding="utf-8")
    assert text.count('class="plotly-graph-div"') >= 8
    assert not re.search(r"<script[^>]+src=", text)  # nothing fetched at view time
    assert text.count("plotly.js v") >= 1 and len(text) > 3_000_000  # plotly.js inline
    assert "Red accounts" in text and "Declining accounts" in text


def test_report_degrades_without_history(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    database = tmp_path / "warehouse.duckdb"
    build_report_db(database, accounts=30)
    con = duckdb.connect(str(database))
    con.execute("drop table fct_health_score_history")
    con.execute("drop table fct_metric_score_history")
    con.close()
    compiled_dir = _write_compiled(tmp_path / "compiled")
    out = tmp_path / "out" / "report.html"
    code = main(
        ["report", "--format", "html", "--warehouse", str(database), "--runs-dir",
         str(tmp_path / "runs"), "--compiled-dir", str(compiled_dir), "--out", str(out), "-q"]
    )  # fmt: skip
    assert code == 0
    assert "report written" in capsys.readouterr().out
    text = out.read_text(encoding="utf-8")
    assert "fct_health_score_history is not built yet" in text
    assert "fct_health_alerts is not built yet" in text
    assert "Backtest separation (AUC, lift) not available" in text
    embedded = _embedded(out)
    assert "error" in embedded["backtest_separation"]
    assert embedded["threshold_calibration"]["rows"]  # the rest still works


def test_report_flags_a_person_gets_wrong(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Bad --vars is a config error (exit 2), not an internal one; --out may name a new
    folder in the text formats too."""
    database = tmp_path / "warehouse.duckdb"
    build_report_db(database, accounts=10)
    common = ["--warehouse", str(database), "--runs-dir", str(tmp_path / "runs")]
    code = main(["report", "--format", "html", "--vars", "{bad", *common, "-q"])
    assert code == 2
    assert "--vars '{bad' is not valid YAML" in capsys.readouterr().err
    out = tmp_path / "new" / "folder" / "report.json"
    assert main(["report", "--format", "json", "--out", str(out), *common, "-q"]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["warehouse"] == str(database)


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _render(page: Path, profile: Path) -> subprocess.CompletedProcess:
    """Load `page` in headless Chromium; stdout is the DOM after scripts ran."""
    command = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", f"--user-data-dir={profile}", "--enable-logging=stderr",
        "--v=0", "--virtual-time-budget=10000", "--dump-dom", page.as_uri(),
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def _console_lines(stderr: str) -> list[str]:
    """The page's console messages (Chromium logs each as INFO:CONSOLE...)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


needs_chromium = pytest.mark.skipif(
    _chromium() is None,
    reason="chromium not installed (apt-get install -y chromium) - render check skipped",
)


@needs_chromium
def test_report_renders_in_headless_chromium(
    report_setup: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    report = report_setup[2]
    done = _render(report, tmp_path / "profile")
    assert done.returncode == 0, done.stderr[-2000:]
    figures = report.read_text(encoding="utf-8").count('class="plotly-graph-div"')
    drawn = len(re.findall(r'<div id="figure-\d+" class="plotly-graph-div', done.stdout))
    assert drawn == figures
    # plotly draws each chart into <svg class="main-svg"> elements
    assert done.stdout.count('class="main-svg"') >= figures
    # the page logs nothing: no error, no warning, no uncaught exception
    assert _console_lines(done.stderr) == []


@needs_chromium
def test_render_check_sees_console_errors(
    report_setup: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """The check above is not blind: a page with a failing script is caught."""
    broken = tmp_path / "broken.html"
    text = report_setup[2].read_text(encoding="utf-8")
    broken.write_text(text.replace("</main>", "<script>null.x()</script></main>"), "utf-8")
    lines = _console_lines(_render(broken, tmp_path / "profile").stderr)
    assert any("Uncaught" in line for line in lines), lines


def test_report_html_flags() -> None:
    from scripts.orchestrator.cli import parse_args

    args = parse_args(
        ["report", "--format", "html", "--vars", "{backtest_horizon_days: 30}", "--out", "r.html"]
    )
    assert (args.report_format, args.report_vars, args.out) == (
        "html",
        "{backtest_horizon_days: 30}",
        "r.html",
    )
    assert parse_args(["report"]).report_vars is None
