"""Stored runs, in the visualizer's own SQLite database: its own engine, never instrumented."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Engine

RUNNING, DONE, FAILED = "running", "done", "failed"

_metadata = MetaData()
_runs = Table(
    "runs",
    _metadata,
    Column("id", String, primary_key=True),
    Column("scenario", String, nullable=False),
    Column("title", String, nullable=False),
    Column("origin", String, nullable=False),  # "run" or "import"
    Column("status", String, nullable=False),
    Column("created_at", Float, nullable=False, index=True),
    Column("trace", Text),
    Column("error", Text),
    Column("worker", String, nullable=False, server_default=""),  # the process running it
)


@dataclass(frozen=True, slots=True)
class StoredRun:
    id: str
    scenario: str
    title: str
    origin: str
    status: str
    created_at: float
    trace: dict[str, Any] | None
    error: str | None


def add_missing_column(engine: Engine, table: str, column: str, ddl: str) -> None:
    """A database made by an earlier version gets a column this one added."""
    if column not in {found["name"] for found in inspect(engine).get_columns(table)}:
        with engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}"))


def new_run_id() -> str:
    return secrets.token_urlsafe(6)


class RunStore:
    """Runs survive a restart; each method is one short transaction. `worker` names this
    process, so that with several workers each knows which running runs are its own."""

    def __init__(self, database_url: str, worker: str = "") -> None:
        self.engine: Engine = create_engine(database_url, pool_pre_ping=True)
        self.worker = worker
        _metadata.create_all(self.engine)
        add_missing_column(self.engine, "runs", "worker", "VARCHAR NOT NULL DEFAULT ''")

    def create(
        self, scenario: str, title: str, origin: str = "run", trace: dict[str, Any] | None = None
    ) -> str:
        run_id = new_run_id()
        with self.engine.begin() as conn:
            conn.execute(
                _runs.insert().values(
                    id=run_id,
                    scenario=scenario,
                    title=title,
                    origin=origin,
                    status=DONE if trace is not None else RUNNING,
                    created_at=time.time(),
                    trace=json.dumps(trace) if trace is not None else None,
                    worker=self.worker,
                )
            )
        return run_id

    def finish(self, run_id: str, trace: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                _runs.update()
                .where(_runs.c.id == run_id)
                .values(status=DONE, trace=json.dumps(trace))
            )

    def fail(self, run_id: str, error: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                _runs.update().where(_runs.c.id == run_id).values(status=FAILED, error=error)
            )

    def fail_unfinished(self, error: str, alive: set[str] | None = None) -> list[str]:
        """Runs left 'running' by a server that stopped can never finish: say so. With several
        workers (`alive`: the workers still running), only the runs of workers that are gone.
        The ids of the runs failed."""
        query = select(_runs.c.id).where(_runs.c.status == RUNNING)
        if alive is not None:
            query = query.where(_runs.c.worker.not_in(alive))
        with self.engine.begin() as conn:
            failed = list(conn.execute(query).scalars())
            if failed:
                conn.execute(
                    _runs.update()
                    .where(_runs.c.id.in_(failed), _runs.c.status == RUNNING)
                    .values(status=FAILED, error=error)
                )
        return failed

    def running_workers(self) -> set[str]:
        """The workers that have runs still 'running'."""
        with self.engine.connect() as conn:
            query = select(_runs.c.worker).where(_runs.c.status == RUNNING).distinct()
            return set(conn.execute(query).scalars())

    def get(self, run_id: str) -> StoredRun | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(_runs).where(_runs.c.id == run_id)).first()
        return _stored(row._mapping) if row else None

    def recent(self, limit: int = 10, scenario: str | None = None) -> list[StoredRun]:
        """The newest runs, without their traces."""
        query = (
            select(*(c for c in _runs.c if c.name != "trace"))
            .order_by(_runs.c.created_at.desc())
            .limit(limit)
        )
        if scenario is not None:
            query = query.where(_runs.c.scenario == scenario)
        with self.engine.connect() as conn:
            return [_stored(row._mapping) for row in conn.execute(query)]

    def close(self) -> None:
        self.engine.dispose()


def _stored(row: Any) -> StoredRun:
    trace = row.get("trace")
    return StoredRun(
        id=row["id"],
        scenario=row["scenario"],
        title=row["title"],
        origin=row["origin"],
        status=row["status"],
        created_at=row["created_at"],
        trace=json.loads(trace) if trace else None,
        error=row["error"],
    )
