"""Two databases: the ledger's own, and an audit database that records every request."""

import os

from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, sessionmaker

LEDGER_URL = os.environ.get("LEDGER_DATABASE_URL", "sqlite:///./ledger.db")
AUDIT_URL = os.environ.get("LEDGER_AUDIT_URL", "sqlite:///./audit.db")


def _engine(url: str, size: int):
    sqlite = {"connect_args": {"check_same_thread": False}} if url.startswith("sqlite") else {}
    return create_engine(url, pool_size=size, max_overflow=0, **sqlite)


engine = _engine(LEDGER_URL, 4)
audit_engine = _engine(AUDIT_URL, 2)
SessionLocal = sessionmaker(bind=engine)
AuditSession = sessionmaker(bind=audit_engine)


class Base(DeclarativeBase):
    pass


class AuditBase(DeclarativeBase):
    pass
