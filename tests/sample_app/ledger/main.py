"""The ledger's app, named `api`: `uvicorn ledger.main:api`."""

from contextlib import asynccontextmanager

from fastapi import FastAPI

from ledger.audit import AuditMiddleware
from ledger.database import AuditBase, Base, audit_engine, engine
from ledger.routers import accounts


@asynccontextmanager
async def lifespan(app: FastAPI):
    Base.metadata.create_all(bind=engine)
    AuditBase.metadata.create_all(bind=audit_engine)
    yield


api = FastAPI(title="Ledger", lifespan=lifespan)
api.add_middleware(AuditMiddleware)
api.include_router(accounts.router)
