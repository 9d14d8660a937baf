"""Accounts in the ledger; one audit row per request in the audit database."""

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.database import AuditBase, Base


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(100))
    balance: Mapped[int] = mapped_column(Integer, default=0)


class AuditEntry(AuditBase):
    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(primary_key=True)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(200))
    status: Mapped[int] = mapped_column(Integer)
