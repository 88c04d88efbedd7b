"""What the benchmark ran on: cores, RAM, CPU model, load, package versions, git commit."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb", "pandas", "numpy", "pyarrow")


def _proc_value(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            name, _, value = line.partition(":")
            if name.strip() == key:
                return value.strip()
    except OSError:
        return None
    return None


def _git(project_dir: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=project_dir, capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def machine_info(project_dir: Path) -> dict[str, object]:
    mem_kib = _proc_value("/proc/meminfo", "MemTotal")
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    status = _git(project_dir, "status", "--porcelain")
    return {
        "hostname": platform.node(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": _proc_value("/proc/cpuinfo", "model name") or platform.processor(),
        "cores": os.cpu_count(),
        "ram_bytes": int(mem_kib.split()[0]) * 1024 if mem_kib else None,
        "load_average_at_start": list(os.getloadavg()),
        "versions": versions,
        "git_commit": _git(project_dir, "rev-parse", "HEAD"),
        "git_worktree_dirty": bool(status) if status is not None else None,
    }
