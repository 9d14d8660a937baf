import asyncio

from fastapi import Depends, FastAPI
from sqlalchemy import Column, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import declarative_base

DATABASE_URL: str  # the visualizer gives every run its own SQLite file
ASYNC_URL = DATABASE_URL.replace("sqlite://", "sqlite+aiosqlite://")  # the async driver

engine = create_async_engine(ASYNC_URL)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
Base = declarative_base()


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True, index=True)
    name = Column(String, index=True)


async def create_tables():
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    await engine.dispose()  # the server starts with an empty pool: this loop ends here


asyncio.run(create_tables())

app = FastAPI()


async def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        await db.close()


@app.post("/items/")
async def create_item(name: str, db: AsyncSession = Depends(get_db)):
    db_item = Item(name=name)
    db.add(db_item)
    await db.commit()
    return {"id": db_item.id, "name": db_item.name}


@app.get("/items/")
async def read_items(db: AsyncSession = Depends(get_db)):
    result = await db.execute(select(Item))
    return [{"id": item.id, "name": item.name} for item in result.scalars()]


SCENARIO = {
    "order": 14,
    "title": "Async session (AsyncSession with aiosqlite)",
    "summary": "The same lifecycle written with async code: create_async_engine, "
    "async_sessionmaker, an async get_db that awaits db.close(), and async endpoints. One "
    "POST creates an item, one GET lists it.",
    "requests": [
        {"method": "POST", "path": "/items/?name=apple"},
        {"method": "GET", "path": "/items/"},
    ],
    "key_moments": [
        {
            "at": "session.create",
            "claim": {"db_at": ["session.create", "Session, no transaction"]},
            "request": 1,
            "text": "SessionLocal() now builds an AsyncSession. Like the sync one, it touches "
            "nothing yet: no transaction, no connection.",
        },
        {
            "at": "session.yield",
            "claim": {
                "all": [
                    {"thread": ["session.create", "event loop"]},
                    {"thread": ["sql", "event loop"]},
                ]
            },
            "request": 1,
            "text": "get_db and the endpoints are `async def`, so no worker thread is used: "
            "every step runs on the event loop's thread. While one request awaits the "
            "database, the loop can serve others.",
        },
        {
            "at": "pool.checkout",
            "claim": {"order": ["before_commit", "pool.checkout", "sql"]},
            "request": 1,
            "text": "`await db.commit()` flushes the INSERT, and that takes a connection from "
            "the async engine's pool. SQLAlchemy runs the ordinary Session inside a greenlet, "
            "so the same session and pool events fire as in sync code.",
        },
        {
            "at": "after_commit",
            "claim": {"count": ["sql", 1]},
            "request": 1,
            "text": "expire_on_commit=False keeps db_item's values after the commit, so the "
            "endpoint reads db_item.id with no new query. Async code cannot load an expired "
            "attribute behind the scenes: that would need I/O without an await.",
        },
        {
            "at": "response.start",
            "claim": {"order": ["response.start", "session.close"]},
            "request": 1,
            "text": "As with sync code, the default scope sends the response before get_db's "
            "finally runs `await db.close()`.",
        },
        {
            "at": "session.close",
            "claim": {
                "all": [
                    {
                        "detail": [
                            "session.close",
                            "before",
                            "Session in a transaction holding a connection",
                        ]
                    },
                    {"thread": ["session.close", "event loop"]},
                ]
            },
            "request": 2,
            "text": "`await db.close()` rolls back the GET's read transaction and returns its "
            "connection to the pool, on the event loop's thread like every other step.",
        },
    ],
    "questions": [
        {
            "before": "session.create",
            "request": 1,
            "ask": "get_db and the endpoints are `async def` here. Which thread runs get_db?",
            "choices": [
                {
                    "text": "A worker thread, as for a plain `def` get_db",
                    "claim": {"thread": ["session.create", "worker thread"]},
                },
                {
                    "text": "The event loop's thread",
                    "claim": {"thread": ["session.create", "event loop"]},
                },
            ],
            "answer": 1,
            "explain": "FastAPI awaits `async def` dependencies and endpoints on the event loop "
            "itself: no worker thread is used. While one request awaits the database, the loop "
            "can serve others.",
        },
        {
            "before": "response.start",
            "premise": {"present": "after_commit"},
            "request": 1,
            "ask": "commit() is done. The endpoint now reads db_item.id and db_item.name for its "
            "answer. What happens next?",
            "choices": [
                {
                    "text": "A SELECT reloads the item, because commit() expired its attributes",
                    "claim": {"count": ["sql", 2]},
                },
                {
                    "text": "It fails: async code cannot read attributes after a commit",
                    "claim": {"status": 500},
                },
                {"text": "The response goes out: no more SQL runs", "claim": {"count": ["sql", 1]}},
            ],
            "answer": 2,
            "explain": "expire_on_commit=False keeps db_item's values after the commit, so "
            "reading them needs no query. Without it, async code could not reload an expired "
            "attribute behind the scenes, and the read would fail.",
        },
        {
            "before": "session.resume",
            "premise": {"status": 200},
            "request": 1,
            "ask": "The 200 is out. get_db resumes and awaits db.close(). What does close() do?",
            "choices": [
                {
                    "text": "It rolls back an open transaction and returns a connection to the "
                    "pool",
                    "claim": {"count": ["pool.checkin", 2]},
                },
                {
                    "text": "Nothing: commit() already returned the connection, and no SQL ran "
                    "after it",
                    "claim": {"count": ["pool.checkin", 1]},
                },
                {
                    "text": "It commits again before closing",
                    "claim": {"count": ["before_commit", 2]},
                },
            ],
            "answer": 1,
            "explain": "commit() ended the transaction and gave the connection back. Nothing used "
            "the session after that, so close() has nothing left to do.",
        },
        {
            "before": "response.start",
            "premise": {
                "db_at": ["response.start", "Session in a transaction holding a connection"]
            },
            "request": 2,
            "ask": "The GET has read the items, and its session still holds a connection. What "
            "happens next?",
            "choices": [
                {
                    "text": "`await db.close()` returns the connection, then the list is sent",
                    "claim": {"order": ["session.close", "response.start"]},
                },
                {
                    "text": "The list is sent first; get_db closes the session after it",
                    "claim": {"order": ["response.start", "session.close"]},
                },
            ],
            "answer": 1,
            "explain": "Async code changes nothing here: with the default scope the code after "
            "the yield runs once the response is out. Then close() rolls back the read "
            "transaction and returns its connection.",
        },
    ],
}
