"""Where things are: project, profiles, raw data, warehouse files, run folders.

Every path is resolved once, here, from (in order) a command-line flag, an
environment variable, then the project default, and made absolute so that
dbt, DuckDB and Great Expectations all see the same files whatever their
working directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from scripts.orchestrator.errors import ConfigError

RAW_TABLES: tuple[str, ...] = (
    "accounts",
    "users",
    "events",
    "invoices",
    "tickets",
    "csm_ratings",
)
RAW_FORMATS: tuple[str, ...] = ("parquet", "csv")

ENV_DB = "CUSTOMER_HEALTH_DB"
ENV_RAW_DIR = "CUSTOMER_HEALTH_RAW_DIR"
ENV_RAW_FORMAT = "CUSTOMER_HEALTH_RAW_FORMAT"
ENV_RUNS_DIR = "CUSTOMER_HEALTH_RUNS_DIR"
ENV_DUCKDB_TMP = "CUSTOMER_HEALTH_DUCKDB_TMP"


def repo_root() -> Path:
    """The dbt project this package ships with (two levels above this file)."""
    return Path(__file__).resolve().parents[2]


def unfinished_mark(path: Path) -> Path:
    """Where a build in place of `path` that did not finish leaves its mark (in_place.py)."""
    return path.with_name(path.name + ".unfinished")


@dataclass(frozen=True)
class WarehouseFiles:
    """The published DuckDB file and its siblings, all in one directory.

    `building` is where a run writes; `previous` keeps the last published file
    for rollback; `lock` serialises runs on this warehouse.
    """

    published: Path

    @property
    def directory(self) -> Path:
        return self.published.parent

    def _sibling(self, tag: str) -> Path:
        return self.published.with_name(f"{self.published.stem}.{tag}{self.published.suffix}")

    @property
    def building(self) -> Path:
        return self._sibling("building")

    @property
    def previous(self) -> Path:
        return self._sibling("previous")

    @property
    def lock(self) -> Path:
        return self.published.with_name(self.published.name + ".lock")

    @property
    def unfinished(self) -> Path:
        """Written by a build in place when it starts, deleted when dbt succeeds."""
        return unfinished_mark(self.published)


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know, resolved and validated."""

    project_dir: Path
    profiles_dir: Path
    suites_dir: Path
    runs_dir: Path
    warehouse: WarehouseFiles
    raw_dir: Path
    raw_format: str | None
    target: str | None
    target_type: str
    as_of_date: date | None
    full_refresh: bool
    select: tuple[str, ...]
    verbosity: int
    # dbt unit tests check the SQL on fixtures, not the data: CI runs them, a
    # production build skips them (dbt's advice) unless asked.
    unit_tests: bool = False
    # dbt-spark's connection method (session, thrift, odbc, http); None elsewhere.
    target_method: str | None = None
    # True when --raw-dir or $CUSTOMER_HEALTH_RAW_DIR named the folder: a named folder
    # must exist, while an absent default means "read schema raw" on other engines.
    raw_dir_given: bool = False
    # dbt vars for the build (--vars), e.g. account_buckets for data larger than memory.
    dbt_vars: dict = field(default_factory=dict)
    # Where DuckDB spills (profiles.yml's temp_directory) and the raw validation writes a
    # big file's partitions: $CUSTOMER_HEALTH_DUCKDB_TMP, else tmp/ beside the warehouse.
    duckdb_tmp: Path | None = None
    # DuckDB: dbt builds in the published file, not in a copy (--in-place).
    in_place: bool = False

    @property
    def is_duckdb(self) -> bool:
        return self.target_type == "duckdb"

    @property
    def build_database(self) -> Path:
        """The DuckDB file dbt builds in: the copy, or the published file itself."""
        return self.warehouse.published if self.in_place else self.warehouse.building

    @property
    def is_local_spark(self) -> bool:
        """Spark inside this process (dbt-spark's session method): it can read local files."""
        return self.target_type == "spark" and self.target_method == "session"


def _from_flag_env_default(flag: str | None, env_name: str, default: Path) -> Path:
    value = flag or os.environ.get(env_name)
    return Path(value).expanduser().resolve() if value else default.resolve()


def resolve_profiles_dir(flag: str | None, project_dir: Path) -> Path:
    """Same order as dbt: flag, DBT_PROFILES_DIR, the project folder, ~/.dbt."""
    if flag:
        return Path(flag).expanduser().resolve()
    if os.environ.get("DBT_PROFILES_DIR"):
        return Path(os.environ["DBT_PROFILES_DIR"]).expanduser().resolve()
    if (project_dir / "profiles.yml").exists():
        return project_dir
    return (Path.home() / ".dbt").resolve()


def _read_yaml(path: Path) -> dict:
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path} not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(content, dict):
        raise ConfigError(f"{path} does not contain a YAML mapping")
    return content


def resolve_target(project_dir: Path, profiles_dir: Path, target: str | None) -> tuple[str, dict]:
    """The chosen target's adapter type and its entry in profiles.yml.

    A DuckDB target must take its file path from $CUSTOMER_HEALTH_DB: that is
    how a run writes to a separate file that is published only on success.
    """
    profile_name = _read_yaml(project_dir / "dbt_project.yml").get("profile")
    profiles_file = profiles_dir / "profiles.yml"
    profile = _read_yaml(profiles_file).get(profile_name)
    if not isinstance(profile, dict):
        raise ConfigError(f"profile '{profile_name}' not found in {profiles_file}")
    name = target or os.environ.get("DBT_TARGET") or profile.get("target")
    outputs = profile.get("outputs") or {}
    if name not in outputs:
        known = ", ".join(sorted(outputs)) or "none"
        raise ConfigError(
            f"target '{name}' not found in profile '{profile_name}' of {profiles_file}"
            f" (targets: {known})"
        )
    output = outputs[name]
    target_type = str(output.get("type", "")).strip()
    if target_type == "duckdb" and ENV_DB not in str(output.get("path", "")):
        raise ConfigError(
            f"target '{name}' in {profiles_file} has a fixed path; the orchestrator needs"
            f" path: \"{{{{ env_var('{ENV_DB}', ...) }}}}\" to build into a separate file"
        )
    return target_type, output


def parse_vars_mapping(value: str | None) -> dict:
    """--vars as dbt reads it: a YAML mapping, or a config error saying what is wrong."""
    if not value:
        return {}
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError as exc:
        raise ConfigError(f"--vars '{value}' is not valid YAML: {exc}") from exc
    if not isinstance(parsed, dict):
        raise ConfigError(
            f"--vars '{value}' is not a mapping; write it as dbt does, e.g."
            " '{account_buckets: 100}'"
        )
    return parsed


def parse_dbt_vars(value: str | None) -> dict:
    """The build's --vars; as_of_date and the raw files have their own flags."""
    parsed = parse_vars_mapping(value)
    if "as_of_date" in parsed:
        raise ConfigError(
            "--vars sets as_of_date: use --as-of-date, which is also the reference date"
            " of the raw files' freshness checks"
        )
    # dbt would read the raw files these name, and the raw suites those of --raw-dir:
    # the run would publish data nothing validated
    for name, flag in (("raw_path", "--raw-dir"), ("raw_format", "--raw-format")):
        if name in parsed:
            raise ConfigError(
                f"--vars sets {name}: use {flag}, so that the files the raw suites validate"
                " are the ones dbt builds from"
            )
    return parsed


def parse_as_of_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"--as-of-date '{value}' is not a date (YYYY-MM-DD)") from exc


def build_settings(
    *,
    project_dir: str | None = None,
    profiles_dir: str | None = None,
    runs_dir: str | None = None,
    warehouse: str | None = None,
    raw_dir: str | None = None,
    raw_format: str | None = None,
    target: str | None = None,
    as_of_date: str | None = None,
    full_refresh: bool = False,
    select: tuple[str, ...] = (),
    verbosity: int = 0,
    unit_tests: bool = False,
    dbt_vars: str | None = None,
    need_target: bool = True,
    in_place: bool = False,
) -> Settings:
    """Resolve flags and environment into Settings (raises ConfigError)."""
    project = Path(project_dir).expanduser().resolve() if project_dir else repo_root()
    if not (project / "dbt_project.yml").exists():
        raise ConfigError(f"{project} is not a dbt project (no dbt_project.yml)")
    profiles = resolve_profiles_dir(profiles_dir, project)
    fmt = raw_format or os.environ.get(ENV_RAW_FORMAT) or None
    if fmt is not None and fmt not in RAW_FORMATS:
        raise ConfigError(f"raw format '{fmt}' is not one of {', '.join(RAW_FORMATS)}")
    target_type, output = (
        resolve_target(project, profiles, target) if need_target else ("duckdb", {})
    )
    if in_place and target_type != "duckdb":
        raise ConfigError(
            f"--in-place builds in the published DuckDB file; target '{target}' is"
            f" {target_type}, where dbt always builds in place: drop the flag"
        )
    warehouse_files = WarehouseFiles(
        _from_flag_env_default(warehouse, ENV_DB, project / "warehouse" / "customer_health.duckdb")
    )
    return Settings(
        project_dir=project,
        profiles_dir=profiles,
        suites_dir=project / "gx" / "expectations",
        runs_dir=_from_flag_env_default(runs_dir, ENV_RUNS_DIR, project / "runs"),
        warehouse=warehouse_files,
        raw_dir=_from_flag_env_default(raw_dir, ENV_RAW_DIR, project / "data" / "raw"),
        raw_format=fmt,
        target=target,
        target_type=target_type,
        as_of_date=parse_as_of_date(as_of_date),
        full_refresh=full_refresh,
        select=tuple(select),
        verbosity=verbosity,
        unit_tests=unit_tests,
        target_method=str(output["method"]) if output.get("method") else None,
        raw_dir_given=bool(raw_dir or os.environ.get(ENV_RAW_DIR)),
        dbt_vars=parse_dbt_vars(dbt_vars),
        duckdb_tmp=_from_flag_env_default(None, ENV_DUCKDB_TMP, warehouse_files.directory / "tmp"),
        in_place=in_place,
    )
