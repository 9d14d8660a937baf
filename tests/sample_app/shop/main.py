"""The shop's app: `uvicorn shop.main:app`."""

from contextlib import asynccontextmanager

from fastapi import FastAPI

from shop.database import Base, engine
from shop.routers import orders, products


@asynccontextmanager
async def lifespan(app: FastAPI):
    Base.metadata.create_all(bind=engine)
    yield
    engine.dispose()


app = FastAPI(title="Shop", lifespan=lifespan)
app.include_router(products.router)
app.include_router(orders.router)
