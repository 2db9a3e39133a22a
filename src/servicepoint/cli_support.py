"""What every CLI command needs: settings, a committed session, Alembic."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.orm import Session

from servicepoint.config import PACKAGE_DIR, Settings
from servicepoint.core.db import make_engine, make_sessionmaker

MIGRATIONS_DIR = PACKAGE_DIR.parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


@contextmanager
def session_scope(settings: Settings | None = None) -> Iterator[Session]:
    """One session for a CLI command: committed at the end, rolled back on error."""
    settings = settings or Settings()
    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine).begin() as session:
            yield session
    finally:
        engine.dispose()


def city_dir(settings: Settings | None = None) -> Path:
    return (settings or Settings()).city_dir
