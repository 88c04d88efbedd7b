"""Read-only access to a built DuckDB warehouse: find relations, pull frames.

Marts are looked up by name in information_schema (whatever schema dbt put
them in), so that a missing mart gives a clear message instead of a SQL error.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from scripts.orchestrator.errors import ExitCode, OrchestratorError

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class Warehouse:
    """A read-only DuckDB connection; use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._con: Any = None

    def __enter__(self) -> Warehouse:
        import duckdb

        if not self.path.exists():
            raise OrchestratorError(
                f"warehouse {self.path} does not exist; run"
                " `python -m scripts.orchestrator run` first",
                exit_code=ExitCode.CONFIG,
            )
        try:
            self._con = duckdb.connect(str(self.path), read_only=True)
        except duckdb.IOException as exc:  # another process holds it read-write
            raise OrchestratorError(
                f"cannot open {self.path} read-only: another process has it open for writing"
                f" ({str(exc).splitlines()[0]}). Try again once that process (dbt run by"
                " hand, a notebook) has closed it.",
                exit_code=ExitCode.LOCKED,
            ) from exc
        except duckdb.Error as exc:
            raise OrchestratorError(
                f"cannot open {self.path} read-only: {exc}", exit_code=ExitCode.INTERNAL
            ) from exc
        self._con.execute("set TimeZone = 'UTC'")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def relation(self, name: str) -> str | None:
        """`"schema"."name"` of a table or view called `name`, or None."""
        rows = self._con.execute(
            "select table_schema from information_schema.tables"
            " where table_name = ? order by table_schema = 'main' desc, table_schema",
            [name],
        ).fetchall()
        return f'"{rows[0][0]}"."{name}"' if rows else None

    def columns(self, name: str) -> list[str]:
        rows = self._con.execute(
            "select column_name from information_schema.columns where table_name = ?"
            " order by ordinal_position",
            [name],
        ).fetchall()
        return [r[0] for r in rows]

    def missing(self, names: list[str]) -> list[str]:
        return [n for n in names if self.relation(n) is None]

    def render(self, sql: str) -> str:
        """Replace `{relation_name}` placeholders with qualified relation names."""

        def qualify(match: re.Match[str]) -> str:
            relation = self.relation(match.group(1))
            if relation is None:
                raise OrchestratorError(f"relation {match.group(1)} not found in {self.path}")
            return relation

        return _PLACEHOLDER.sub(qualify, sql)

    def frame(self, sql: str) -> Any:
        return self._con.sql(self.render(sql)).df()

    def rows(self, sql: str, params: list | None = None) -> list[tuple]:
        return self._con.execute(self.render(sql), params or []).fetchall()


def probe_released(path: Path) -> None:
    """Fail clearly if this process still holds `path` open read-write.

    DuckDB refuses a read-only connection to a file this process already has
    open with another configuration, which is exactly the leak to detect.
    """
    import duckdb

    wal = path.with_name(path.name + ".wal")
    try:
        if wal.exists():  # an unclean close left a WAL: fold it into the file
            con = duckdb.connect(str(path))
            con.execute("checkpoint")
            con.close()
        duckdb.connect(str(path), read_only=True).close()
    except duckdb.Error as exc:
        raise OrchestratorError(
            f"{path} is still held open after dbt finished ({exc}); not publishing",
            exit_code=ExitCode.PUBLISH,
        ) from exc
