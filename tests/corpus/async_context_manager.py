"""async_sessionmaker with `async with SessionLocal() as session: yield session`."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

DATABASE_URL: str

engine = create_async_engine(DATABASE_URL.replace("sqlite://", "sqlite+aiosqlite://"))
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


async def get_db() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)


@app.post("/items/")
async def create_item(name: str, db: AsyncSession = Depends(get_db)):
    db.add(Item(name=name))
    await db.commit()
    return {"name": name}


@app.get("/items/")
async def read_items(db: AsyncSession = Depends(get_db)):
    return list((await db.scalars(select(Item.name))).all())


SCENARIO = {
    "title": "async_sessionmaker as an async context manager",
    "summary": "The async session is closed by its context manager.",
    "requests": [
        {"method": "POST", "path": "/items/?name=date"},
        {"method": "GET", "path": "/items/"},
    ],
}
