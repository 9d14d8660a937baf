"""The engine and the session factory, from the environment (SQLite by default)."""

import os

from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, sessionmaker

DATABASE_URL = os.environ.get("SHOP_DATABASE_URL", "sqlite:///./shop.db")

engine = create_engine(
    DATABASE_URL,
    pool_size=5,
    max_overflow=2,
    **({"connect_args": {"check_same_thread": False}} if DATABASE_URL.startswith("sqlite") else {}),
)
SessionLocal = sessionmaker(bind=engine, autoflush=False)


class Base(DeclarativeBase):
    pass
