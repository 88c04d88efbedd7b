"""The `demo-data` command: calls scripts/generate_demo_data.py (not a copy of it)."""

from __future__ import annotations

from pathlib import Path

from scripts.orchestrator.errors import ConfigError


def generate_demo_data(
    *,
    out: Path,
    accounts: int | None,
    days: int | None,
    fmt: str,
    seed: int | None,
    dirty_fraction: float | None,
    end_date: str | None,
) -> None:
    from scripts import generate_demo_data as generator

    argv = ["--out", str(out), "--format", fmt]
    for flag, value in (
        ("--accounts", accounts),
        ("--days", days),
        ("--seed", seed),
        ("--dirty-fraction", dirty_fraction),
        ("--end-date", end_date),
    ):
        if value is not None:
            argv += [flag, str(value)]
    try:
        code = generator.main(argv)
    except SystemExit as exc:  # argparse rejected an argument and printed why
        code = exc.code if isinstance(exc.code, int) else 2
    if code:
        raise ConfigError(
            f"demo data generator failed (exit code {code}); arguments: {' '.join(argv)}"
        )
