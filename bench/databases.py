"""A fresh database per bot: a SQLite file, or a PostgreSQL schema selected through the URL and dropped after."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool


@dataclass
class Databases:
    """Hands out fresh databases of one kind ("sqlite" or "postgresql") under `folder`."""

    kind: str
    folder: Path
    postgres_url: str | None = None
    _count: int = field(default=0, init=False)

    @contextmanager
    def fresh(self) -> Iterator[str]:
        """The URL of an empty database of its own, removed (PostgreSQL: dropped) afterwards."""
        self._count += 1
        if self.kind == "sqlite":
            path = self.folder / f"bot-{self._count}.db"
            yield f"sqlite:///{path}"
            for leftover in self.folder.glob(f"{path.name}*"):
                leftover.unlink()
            return
        assert self.postgres_url is not None
        base = make_url(self.postgres_url)
        if base.drivername == "postgresql":
            base = base.set(drivername="postgresql+psycopg")
        schema = f"bench_{uuid.uuid4().hex[:16]}"
        admin = create_engine(base, poolclass=NullPool)
        try:
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            yield base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
        finally:
            with admin.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '10s'"))
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()


def check_postgres(url: str) -> None:
    """Fail early, with a message, when the PostgreSQL server cannot be reached."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = create_engine(parsed, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure means the same thing here
        raise SystemExit(f"bench: cannot reach PostgreSQL at --postgres: {error}") from None
    finally:
        engine.dispose()
