"""The ledger's session, yielded the textbook way, and the alias the routers use."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from ledger.database import SessionLocal


def get_db() -> Iterator[Session]:
    with SessionLocal() as db:
        yield db


SessionDep = Annotated[Session, Depends(get_db)]
