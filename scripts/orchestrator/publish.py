"""Build into a private file, swap it in atomically, keep the previous one.

BI tools read the published DuckDB file while a run builds. A run therefore
writes to `<name>.building.duckdb` (a copy of the published file, so that
incremental history carries over) and, only when every step passed, renames
it over the published file with `os.replace` (atomic on one filesystem).
Readers see the old file or the new one, never a half-built one; a reader
that already has the old file open keeps reading it until it reconnects.
The replaced file stays as `<name>.previous.duckdb` for rollback.

One run at a time per warehouse: an exclusive `fcntl.flock` on
`<name>.duckdb.lock`, which names its holder. The kernel drops the lock when
the holder dies, so a crashed run never leaves a stale lock behind.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import socket
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO

from scripts.orchestrator.errors import ConfigError, ExitCode, LockedError, OrchestratorError
from scripts.orchestrator.logs import get_logger
from scripts.orchestrator.settings import WarehouseFiles, unfinished_mark

log = get_logger("publish")


def wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


# Files that belong to a warehouse file and move with it: DuckDB refuses to open a file
# beside another file's WAL, and an unfinished build's mark describes its own file only.
COMPANIONS = (wal, unfinished_mark)


class RunLock:
    """Exclusive, non-blocking lock on the warehouse; refuses a second run."""

    def __init__(self, path: Path, *, run_id: str, command: str) -> None:
        self.path = path
        self.run_id = run_id
        self.command = command
        self._handle: IO[str] | None = None

    def holder(self) -> dict:
        try:
            return json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, json.JSONDecodeError):
            return {}

    def __enter__(self) -> RunLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until exit
        except OSError as exc:  # a folder that cannot be written: the setting is at fault
            raise ConfigError(
                f"cannot write the warehouse's lock file {self.path} ({exc.strerror}): the"
                " warehouse folder must be writable; fix its permissions or choose another"
                " with --warehouse / $CUSTOMER_HEALTH_DB",
                step="lock",
            ) from exc
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            info = self.holder()
            who = (
                f"pid {info.get('pid', '?')} on {info.get('host', '?')},"
                f" started {info.get('started_at', '?')} (run {info.get('run_id', '?')},"
                f" command {info.get('command', '?')})"
            )
            raise LockedError(
                f"another run is using this warehouse: {who}. Lock file: {self.path}."
                " Wait for it to finish; the lock is released automatically when that"
                " process ends."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "run_id": self.run_id,
                    "command": self.command,
                }
            )
        )
        handle.flush()
        self._handle = handle
        log.debug("lock acquired: %s", self.path)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._handle is None:
            return
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.flush()
        fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
        self._handle.close()
        self._handle = None
        log.debug("lock released: %s", self.path)


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


# copy_file_range's errors that mean "not between these two files": copy in user space.
_NO_KERNEL_COPY = {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EPERM}


def copy_file(source: Path, target: Path) -> None:
    """Copy a file with copy_file_range where the OS has it: the kernel copies without
    passing the bytes through Python, and a filesystem that shares blocks between files
    (btrfs, XFS with reflink) may clone them instead of writing them again. Elsewhere,
    or when the kernel refuses these two files, shutil's copy."""
    if hasattr(os, "copy_file_range") and _kernel_copy(source, target):
        return
    shutil.copyfile(source, target)


def _kernel_copy(source: Path, target: Path) -> bool:
    """True once copied; False when the kernel refused before copying a byte."""
    with open(source, "rb") as reader, open(target, "wb") as writer:
        remaining = os.fstat(reader.fileno()).st_size
        started = False
        while remaining > 0:
            try:
                copied = os.copy_file_range(reader.fileno(), writer.fileno(), remaining)
            except OSError as exc:
                if exc.errno in _NO_KERNEL_COPY and not started:
                    return False
                raise
            if copied == 0:  # the source shrank while being copied: never a silent half copy
                raise OSError(errno.EIO, f"{source} ended {remaining:,} bytes early")
            started = True
            remaining -= copied
    return True


def _check_room(files: WarehouseFiles, sources: list[Path], reclaimable: int = 0) -> None:
    """Refuse to start a copy that the disk cannot hold, before writing a byte.
    `reclaimable`: bytes the run will delete before copying (a stale building file)."""
    needed = sum(path.stat().st_size for path in sources)
    free = shutil.disk_usage(files.directory).free
    if free + reclaimable >= needed:
        return
    raise OrchestratorError(
        f"no room to build: the run copies {files.published.name} ({needed / 1e9:.1f} GB)"
        f" to {files.building.name}, and {files.directory} has {free / 1e9:.1f} GB free."
        " A run keeps up to three files about this size there (the published warehouse,"
        " the previous one for rollback, the copy it builds) and the build grows the copy."
        f" Free space (deleting {files.previous.name} gives up rollback), move the"
        " warehouse to a larger disk (--warehouse or CUSTOMER_HEALTH_DB), or build in"
        " the published file with --in-place (no copy; BI tools must be disconnected)",
        step="prepare_build",
        exit_code=ExitCode.PUBLISH,
    )


def _copied_files(files: WarehouseFiles) -> list[tuple[Path, Path]]:
    """(source, target) of each file a build copies: the published file and its WAL."""
    pairs = [(files.published, files.building)]
    if wal(files.published).exists():
        pairs.append((wal(files.published), wal(files.building)))
    return pairs


def check_room_to_build(files: WarehouseFiles) -> None:
    """Refuse a run whose copy of the warehouse cannot fit, before it validates anything
    (minutes at L); prepare_building checks again when it copies."""
    if not files.published.exists():
        return
    reclaimable = sum(path.stat().st_size for path in _left_by_a_crashed_run(files))
    _check_room(files, [source for source, _ in _copied_files(files)], reclaimable)


def _left_by_a_crashed_run(files: WarehouseFiles) -> list[Path]:
    """The building file and its WAL, where a run that did not finish left them."""
    return [path for path in (files.building, wal(files.building)) if path.exists()]


def discard_crashed_build(files: WarehouseFiles) -> None:
    """Delete the building file (and WAL) an earlier run left; a failed build is kept
    for inspection until the next run."""
    for stale in _left_by_a_crashed_run(files):
        log.warning("discarding %s left by an earlier run", stale)
        _remove(stale)


def prepare_building(files: WarehouseFiles) -> bool:
    """Start the building file as a copy of the published one (if any).

    Returns whether a published file was copied. A building file left by a
    crashed run is discarded, and so is a copy that failed half-way.
    """
    files.directory.mkdir(parents=True, exist_ok=True)
    discard_crashed_build(files)
    if not files.published.exists():
        return False
    pairs = _copied_files(files)
    _check_room(files, [source for source, _ in pairs])
    try:
        for source, target in pairs:
            copy_file(source, target)
    except OSError as exc:
        for _, target in pairs:
            _remove(target)
        raise OrchestratorError(
            f"could not copy {files.published} to {files.building}: {exc.strerror or exc}"
            " (the partial copy is deleted; nothing was built or published)",
            step="prepare_build",
            exit_code=ExitCode.PUBLISH,
        ) from exc
    return True


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def publish(files: WarehouseFiles) -> None:
    """Swap the building file in; the replaced file becomes `previous`."""
    if not files.building.exists():
        raise OrchestratorError(
            f"nothing to publish: {files.building} does not exist",
            step="publish",
            exit_code=ExitCode.PUBLISH,
        )
    if wal(files.building).exists():
        raise OrchestratorError(
            f"{wal(files.building)} exists: the build was not checkpointed; not publishing",
            step="publish",
            exit_code=ExitCode.PUBLISH,
        )
    with open(files.building, "rb") as handle:
        os.fsync(handle.fileno())
    if files.published.exists():
        staging = files.previous.with_name(files.previous.name + ".tmp")
        _remove(staging)
        try:
            os.link(files.published, staging)  # same inode: no copy, no gap for readers
        except OSError:
            shutil.copy2(files.published, staging)
        os.replace(staging, files.previous)
        _remove(wal(files.previous))
        if wal(files.published).exists():  # belongs to the old file, never to the new one
            os.replace(wal(files.published), wal(files.previous))
    os.replace(files.building, files.published)
    _fsync_directory(files.directory)
    log.debug("published %s (previous kept as %s)", files.published, files.previous)


def rollback(files: WarehouseFiles) -> None:
    """Put the previous file back in place; the replaced one becomes `previous`."""
    if not files.previous.exists():
        raise OrchestratorError(
            f"no previous warehouse to roll back to ({files.previous} not found)",
            step="rollback",
            exit_code=ExitCode.PUBLISH,
        )
    swap = files.published.with_name(files.published.name + ".rollback")
    for stale in (swap, *(companion(swap) for companion in COMPANIONS)):
        _remove(stale)
    if files.published.exists():
        os.link(files.published, swap)
    _move_companions(files.published, swap)
    os.replace(files.previous, files.published)
    _move_companions(files.previous, files.published)
    if swap.exists():
        os.replace(swap, files.previous)
    _move_companions(swap, files.previous)
    _fsync_directory(files.directory)


def _move_companions(source: Path, target: Path) -> None:
    for companion in COMPANIONS:
        if companion(source).exists():
            os.replace(companion(source), companion(target))
