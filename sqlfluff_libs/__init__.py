"""Stand-ins for dbt's Jinja globals, so that sqlfluff's fast jinja templater can
render our models without a database connection (the dbt templater is ~5x slower
and opens the DuckDB file). They only need to produce parseable SQL of the same
shape as the real macros; the real SQL is checked by `dbt build`.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any


def _call(name: str) -> Callable[..., str]:
    """A placeholder macro rendering as a plain function call."""

    def render(*args: Any, **kwargs: Any) -> str:
        values = [str(a) for a in args] + [str(v) for v in kwargs.values()]
        return f"{name}({', '.join(values)})"

    return render


class _DbtNamespace:
    """The `dbt.` cross-database macros, rendered as DuckDB-like SQL."""

    _types = {
        "type_string": "varchar",
        "type_timestamp": "timestamp",
        "type_int": "integer",
        "type_bigint": "bigint",
        "type_float": "double",
        "type_numeric": "numeric(28, 6)",
        "type_boolean": "boolean",
    }

    def __getattr__(self, name: str) -> Callable[..., str]:
        if name in self._types:
            sql_type = self._types[name]
            return lambda *args, **kwargs: sql_type
        return _call(name)

    @staticmethod
    def current_timestamp() -> str:
        return "current_timestamp"

    @staticmethod
    def safe_cast(expression: Any, data_type: Any) -> str:
        return f"cast({expression} as {data_type})"

    @staticmethod
    def datediff(first: Any, second: Any, datepart: Any) -> str:
        return f"date_diff('{datepart}', {first}, {second})"

    @staticmethod
    def dateadd(datepart: Any, interval: Any, from_date: Any) -> str:
        return f"({from_date} + interval ({interval}) {datepart})"

    @staticmethod
    def date_trunc(datepart: Any, date: Any) -> str:
        return f"date_trunc('{datepart}', {date})"

    @staticmethod
    def string_literal(value: Any) -> str:
        return f"'{value}'"


def _order_by(columns: list[str]) -> str:
    return f"order by {', '.join(columns)}"


# Dispatched macros that render a clause, not an expression: a function call in
# their place would not parse.
_CLAUSES: dict[str, Callable[..., str]] = {"order_for_storage": _order_by}


class _Adapter:
    """`adapter.dispatch(name)` returns a placeholder for the dispatched macro."""

    @staticmethod
    def dispatch(macro_name: str, macro_namespace: str | None = None) -> Callable[..., str]:
        return _CLAUSES.get(macro_name) or _call(macro_name)

    def __getattr__(self, name: str) -> Callable[..., str]:
        return _call(name)


dbt = _DbtNamespace()
adapter = _Adapter()
# when the dbt invocation started (a UTC datetime); any fixed time renders alike
run_started_at = datetime(2026, 1, 1, tzinfo=UTC)


class _Flags:
    """dbt's command-line flags as a plain `dbt build` sets them (no --empty, no
    --full-refresh)."""

    EMPTY = False
    FULL_REFRESH = False


flags = _Flags()


class _Relation:
    """`api.Relation.create(...)` renders as a schema-qualified name."""

    @staticmethod
    def create(
        database: Any = None, schema: Any = None, identifier: Any = None, **kwargs: Any
    ) -> str:
        return ".".join(str(part) for part in (schema, identifier) if part)


class _Api:
    Relation = _Relation()


api = _Api()


class _Node:
    """A model node of dbt's graph: where the model is built."""

    def __init__(self, unique_id: str) -> None:
        self.database = "database"
        self.schema = "main"
        self.alias = unique_id.rsplit(".", 1)[-1]


class _Nodes:
    @staticmethod
    def get(unique_id: str, default: Any = None) -> _Node:
        return _Node(unique_id)


class _Graph:
    """`graph.nodes.get(unique_id)` finds every model (graph_model_relation)."""

    nodes = _Nodes()


graph = _Graph()


def load_cached_relation(relation: Any) -> None:
    """No warehouse while linting: no relation exists yet (a model's first build)."""
    return None
