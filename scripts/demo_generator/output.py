"""Writing the tables and the manifest."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from scripts.demo_generator.activity import (
    batch_events,
    batch_tickets,
    build_tickets,
    prepare_batch,
)
from scripts.demo_generator.arrays import choose, dirty_rng, seeded_rng, text_array, timestamp_array
from scripts.demo_generator.clean_tables import (
    build_accounts,
    build_csm_ratings,
    build_invoices,
    build_users,
)
from scripts.demo_generator.config import Config, GeneratorError
from scripts.demo_generator.constants import (
    ARCHETYPES,
    BATCH_ACCOUNTS,
    CHURNING_AFTER_END,
    FEATURES,
    S_DIRTY_POOL,
    S_EVENTS,
    S_TICKETS,
    TABLE_COLUMNS,
)
from scripts.demo_generator.dirty import DirtyContext, empty_table, interleave, make_dirty
from scripts.demo_generator.state import Accounts, Users


class TableWriter:
    """Writes one table in chunks to a temporary file, renamed into place on success."""

    def __init__(self, cfg: Config, name: str) -> None:
        self.name = name
        self.path = cfg.out / f"{name}.{cfg.fmt}"
        self.rows = 0
        self._tmp = cfg.out / f".{name}.{cfg.fmt}.tmp"
        self._schema = pa.schema([(column, pa.string()) for column in TABLE_COLUMNS[name]])
        self._writer: pq.ParquetWriter | pacsv.CSVWriter
        if cfg.fmt == "parquet":
            self._writer = pq.ParquetWriter(self._tmp, self._schema, compression="zstd")
        else:
            self._writer = pacsv.CSVWriter(self._tmp, self._schema)

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._writer.close()
        if exc_type is None:
            os.replace(self._tmp, self.path)
        else:
            self._tmp.unlink(missing_ok=True)

    def write(self, table: pa.Table) -> None:
        if table.schema != self._schema:
            raise ValueError(f"{self.name}: schema {table.schema} is not the raw contract")
        if table.num_rows:
            self._writer.write_table(table)
            self.rows += table.num_rows


def _write(cfg: Config, name: str, table: pa.Table, chunk_rows: int = 1_000_000) -> Path:
    with TableWriter(cfg, name) as writer:
        for offset in range(0, table.num_rows, chunk_rows):
            writer.write(table.slice(offset, chunk_rows))
    return writer.path


def _events_table(
    acc: Accounts,
    users: Users,
    first_id: int,
    account: np.ndarray,
    user: np.ndarray,
    feature: np.ndarray,
    ts: np.ndarray,
) -> pa.Table:
    return pa.table(
        {
            "event_id": text_array(np.arange(first_id, first_id + len(account))),
            "account_id": acc.ids.take(pa.array(account)),
            "user_id": users.ids.take(pa.array(user)),
            "event_name": choose(FEATURES, feature),
            "occurred_at": timestamp_array(ts),
        }
    )


def write_events(
    cfg: Config, acc: Accounts, users: Users, ctx: DirtyContext
) -> tuple[Path, int, int, dict[str, int], tuple[np.ndarray, ...]]:
    """Stream the events out a batch of accounts at a time, dirty rows last.

    Returns the path, rows written, clean rows, dirty rows per kind, and the tickets' columns
    (drawn per batch too, as they share the batch's daily state).
    """
    pool: list[pa.Table] = []  # a sample of clean rows to copy the dirty rows from
    tickets: list[tuple[np.ndarray, ...]] = []
    next_event = 1
    with TableWriter(cfg, "events") as writer:
        for number, a0 in enumerate(range(0, acc.n, BATCH_ACCOUNTS)):
            batch = prepare_batch(cfg, acc, users, a0, min(acc.n, a0 + BATCH_ACCOUNTS))
            columns = batch_events(cfg, acc, users, batch, seeded_rng(cfg.seed, S_EVENTS, number))
            table = _events_table(acc, users, next_event, *columns)
            writer.write(table)
            next_event += table.num_rows
            if cfg.dirty_fraction > 0:
                size = int(np.ceil(table.num_rows * cfg.dirty_fraction / 3)) + 20
                rows = seeded_rng(cfg.seed, S_DIRTY_POOL, number).choice(
                    table.num_rows, min(size, table.num_rows), replace=False
                )
                pool.append(table.take(pa.array(np.sort(rows))))
            tickets.append(
                batch_tickets(cfg, acc, users, batch, seeded_rng(cfg.seed, S_TICKETS, number))
            )
        ctx.clean_rows["events"] = next_event - 1
        sources = pa.concat_tables(pool) if pool else empty_table("events")
        dirty, counts = make_dirty(
            "events", sources, next_event - 1, cfg.dirty_fraction, ctx, dirty_rng(cfg, "events")
        )
        for offset in range(0, dirty.num_rows, 1_000_000):
            writer.write(dirty.slice(offset, 1_000_000))
    ticket_columns = tuple(np.concatenate([part[i] for part in tickets]) for i in range(4))
    return writer.path, writer.rows, next_event - 1, counts, ticket_columns


def generate(cfg: Config) -> dict[str, object]:
    """Write the six tables and the manifest to cfg.out; returns the manifest."""
    try:
        cfg.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GeneratorError(f"cannot create output directory {cfg.out}: {exc.strerror}") from exc
    if not os.access(cfg.out, os.W_OK):
        raise GeneratorError(f"output directory {cfg.out} is not writable")

    acc, accounts = build_accounts(cfg)
    users, users_table = build_users(cfg, acc, accounts["account_name"].combine_chunks())
    ctx = DirtyContext(clean_rows={}, user_ids=users.ids, user_account=users.account)
    stats: dict[str, dict[str, object]] = {}

    def record(name: str, path: Path, rows: int, clean_rows: int, dirty: dict[str, int]) -> None:
        stats[name] = {"file": path.name, "rows": rows, "clean_rows": clean_rows, "dirty": dirty}
        print(f"{name:<12} {rows:>12,} rows ({clean_rows:,} clean) -> {path}")

    def write_whole(name: str, clean: pa.Table) -> None:
        """A table built in memory: dirty rows slipped in at random places, written at once."""
        ctx.clean_rows[name] = clean.num_rows
        rng = dirty_rng(cfg, name)
        dirty, counts = make_dirty(name, clean, clean.num_rows, cfg.dirty_fraction, ctx, rng)
        path = _write(cfg, name, interleave(clean, dirty, rng))
        record(name, path, clean.num_rows + dirty.num_rows, clean.num_rows, counts)

    write_whole("accounts", accounts)  # accounts and users first: the others' dirty rows
    write_whole("users", users_table)  # need their key widths
    del accounts, users_table  # free the memory before the events
    write_whole("invoices", build_invoices(cfg, acc))
    write_whole("csm_ratings", build_csm_ratings(cfg, acc))

    events_path, rows, clean_events, counts, tickets = write_events(cfg, acc, users, ctx)
    record("events", events_path, rows, clean_events, counts)
    write_whole("tickets", build_tickets(cfg, acc, users, *tickets))

    after_end = acc.archetype == CHURNING_AFTER_END
    manifest: dict[str, object] = {
        "generator": "scripts/generate_demo_data.py",
        "arguments": {
            "accounts": cfg.accounts,
            "days": cfg.days,
            "format": cfg.fmt,
            "seed": cfg.seed,
            "end_date": cfg.end_date.isoformat(),
            "dirty_fraction": cfg.dirty_fraction,
        },
        "window": {"start_date": cfg.start_date.isoformat(), "end_date": cfg.end_date.isoformat()},
        "tables": {name: stats[name] for name in TABLE_COLUMNS},
        "ground_truth": {
            "archetypes": {
                label: int((acc.archetype == i).sum()) for i, label in enumerate(ARCHETYPES)
            },
            "churning_after_end_date": acc.ids.filter(pa.array(after_end)).to_pylist(),
        },
    }
    manifest_path = cfg.out / "_manifest.json"
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"{'manifest':<12} {'':>12}      -> {manifest_path}")
    return manifest
