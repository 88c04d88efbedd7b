"""Command line: `python -m scripts.benchmark [run|explain] ...`.

Errors are caught once, here: a readable message on stderr and a non-zero exit code
(1 a step failed, 2 bad flags, 3 the run finished but dbt had failed nodes or the scores differ).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from scripts.benchmark.errors import BenchmarkError
from scripts.benchmark.scales import DEFAULT_END_DATE, DEFAULT_SEED, SCALES

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_CHECK_FAILED = 0, 1, 2, 3

_EPILOG = """\
scales: XS 50 accounts x 60 days (tests; dbt's fixed cost), S 1k accounts / ~1M events,
M 10k / ~10M, L 100k / ~100M (365 days each). Data is generated once per scale under
--data-root and reused while its manifest matches. Each run builds into its own work
directory under --work-root (DuckDB file, dbt target and logs); results go to
--results-dir/<scale>-<UTC timestamp>.json.

exit codes: 0 ok, 1 a step failed, 2 bad flags, 3 dbt had failed nodes or scores differ.
"""


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.benchmark",
        description="Time dbt builds at a named scale against two baselines.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command")
    run = commands.add_parser("run", help="generate, build, compare, save (default)")
    run.add_argument("--scale", choices=list(SCALES), default="S", help="default S")
    run.add_argument("--seed", type=int, default=DEFAULT_SEED, help="generator seed")
    run.add_argument(
        "--end-date",
        type=_iso_date,
        default=DEFAULT_END_DATE,
        help="last day of the full-build data; the daily run appends the day after "
        f"(default {DEFAULT_END_DATE})",
    )
    run.add_argument("--project-dir", type=Path, default=Path("."), help="dbt project")
    run.add_argument("--data-root", type=Path, default=Path("warehouse/bench/data"))
    run.add_argument("--work-root", type=Path, default=Path("warehouse/bench"))
    run.add_argument("--results-dir", type=Path, default=Path("benchmarks"))
    run.add_argument("--no-baselines", action="store_true", help="skip the baselines")
    run.add_argument(
        "--baseline",
        action="append",
        choices=["duckdb", "pandas"],
        help="run only this baseline (repeatable; default both), e.g. duckdb at L",
    )
    run.add_argument("--no-daily-run", action="store_true", help="skip the appended-day run")
    run.add_argument("--no-fixed-cost", action="store_true", help="skip the XS build")
    run.add_argument(
        "--exclude-resource-type",
        action="append",
        default=[],
        metavar="TYPE",
        help="passed to dbt build (repeatable), e.g. unit_test (while a unit test of work in "
        "progress fails) or test (models and seeds only)",
    )
    run.add_argument(
        "--memory-limit", help="DuckDB memory_limit (sets CUSTOMER_HEALTH_DUCKDB_MEMORY)"
    )
    run.add_argument(
        "--profile-top",
        type=int,
        default=0,
        metavar="N",
        help="profile the N slowest models right after the full build (DuckDB profiler)",
    )
    run.add_argument("--json-only", action="store_true", help="print only the results path")

    explain = commands.add_parser(
        "explain", help="EXPLAIN ANALYZE the slowest models of a saved run"
    )
    explain.add_argument("results", type=Path, help="a benchmarks/<scale>-<stamp>.json file")
    explain.add_argument("--top", type=int, default=5, help="how many models (default 5)")
    explain.add_argument("--run", default="full_build", help="which run (default full_build)")
    return parser


def _run(args: argparse.Namespace) -> int:
    from scripts.benchmark.report import render, save
    from scripts.benchmark.runner import Options, run_benchmark

    project_dir = args.project_dir.resolve()
    if not (project_dir / "dbt_project.yml").exists():
        raise BenchmarkError(f"{project_dir}: no dbt_project.yml (use --project-dir)")
    options = Options(
        scale=SCALES[args.scale],
        seed=args.seed,
        end_date=args.end_date,
        project_dir=project_dir,
        data_root=args.data_root.resolve(),
        work_root=args.work_root.resolve(),
        results_dir=args.results_dir,
        baselines=() if args.no_baselines else tuple(args.baseline or ("duckdb", "pandas")),
        daily_run=not args.no_daily_run,
        fixed_cost=not args.no_fixed_cost,
        dbt_args=[
            arg for kind in args.exclude_resource_type for arg in ("--exclude-resource-type", kind)
        ],
        memory_limit=args.memory_limit,
        profile_top=args.profile_top,
        progress=not args.json_only,
    )
    results = run_benchmark(options)
    path = save(results)
    print(path if args.json_only else render(results))
    failed = any(run["not_ok_nodes"] for run in results["runs"].values())  # type: ignore[union-attr]
    differ = any(
        isinstance(base, dict) and base.get("equality", {}).get("equal") is False
        for base in results["baselines"].values()  # type: ignore[union-attr]
    )
    return EXIT_CHECK_FAILED if failed or differ else EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    from scripts.benchmark.explain import explain_slowest

    print(explain_slowest(args.results, run_key=args.run, top=args.top))
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("run", "explain", "-h", "--help"):
        argv.insert(0, "run")
    args = build_parser().parse_args(argv)  # bad flags: argparse exits with code 2
    try:
        return _explain(args) if args.command == "explain" else _run(args)
    except BenchmarkError as exc:
        print(f"benchmark: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("benchmark: interrupted", file=sys.stderr)
        return EXIT_ERROR
