import time

from fastapi import Depends, FastAPI
from sqlalchemy import Column, Integer, String, create_engine
from sqlalchemy.orm import Session, declarative_base, sessionmaker

DATABASE_URL: str  # the visualizer gives every run its own SQLite file

engine = create_engine(DATABASE_URL, connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)
Base = declarative_base()


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True, index=True)
    name = Column(String, index=True)


Base.metadata.create_all(bind=engine)
with SessionLocal() as seed:  # a few rows to read, before the server starts
    seed.add_all([Item(name="apple"), Item(name="pear"), Item(name="plum")])
    seed.commit()

app = FastAPI()


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


@app.get("/items/{item_id}")
def read_item(item_id: int, db: Session = Depends(get_db)):
    item = db.query(Item).filter(Item.id == item_id).first()
    time.sleep(0.2)  # slow work while the session still holds its connection
    return {"id": item.id, "name": item.name}


SCENARIO = {
    "order": 13,
    "title": "Three requests at once",
    "summary": "Three GET requests are sent at the same moment. Each gets its own session "
    "and its own connection, and the three connections come from the one pool they share.",
    "requests": [
        {
            "concurrent": [
                {"method": "GET", "path": "/items/1"},
                {"method": "GET", "path": "/items/2"},
                {"method": "GET", "path": "/items/3"},
            ]
        }
    ],
    "key_moments": [
        {
            "at": "request.start",
            "claim": {"pool_peak": 3},
            "text": "The client sends all three requests at once, on three connections. The "
            "server starts them without waiting for one another.",
        },
        {
            "at": "session.create",
            "claim": {"count": ["session.create", 1]},
            "request": 2,
            "text": "get_db runs once per request: every request gets a Session of its own, "
            "and no request ever sees another one's db.",
        },
        {
            "at": "pool.checkout",
            "claim": {"count": ["pool.checkout", 1]},
            "request": 3,
            "text": "Each session checks out its own connection. They all come from the same "
            "pool: watch its gauge count the connections of every request in use at once.",
        },
        {
            "at": "response.start",
            "claim": {"thread": ["sql", "worker thread"]},
            "request": 1,
            "text": "The endpoints are plain `def` functions, so FastAPI runs each in a worker "
            "thread. While one sleeps, holding its connection, the others go on.",
        },
        {
            "at": "session.close",
            "claim": {
                "all": [
                    {"order": ["session.resume", "pool.checkin", "session.close"]},
                    {"pool_after": 0},
                ]
            },
            "request": 2,
            "text": "Each close() returns its own connection. When the last request is done "
            "the pool has them all back.",
        },
    ],
    "questions": [
        {
            "before": "session.create",
            "premise": {"count": ["request.start", 3]},
            "ask": "Three GET requests arrive at the same moment. How many Sessions will get_db "
            "create?",
            "choices": [
                {
                    "text": "One, shared by the three requests",
                    "claim": {"count": ["session.create", 1]},
                },
                {"text": "Three: one for each request", "claim": {"count": ["session.create", 3]}},
            ],
            "answer": 1,
            "explain": "FastAPI calls get_db once per request, so every request gets a Session of "
            "its own, and no request ever sees another one's db.",
        },
        {
            "before": "pool.checkout",
            "premise": {"count": ["do_orm_execute", 3]},
            "ask": "Each request runs one query. How many times is a connection checked out of "
            "the pool in all?",
            "choices": [
                {
                    "text": "Once: the sessions share the engine's one connection",
                    "claim": {"count": ["pool.checkout", 1]},
                },
                {
                    "text": "Three times: each session takes a connection of its own",
                    "claim": {"count": ["pool.checkout", 3]},
                },
            ],
            "answer": 1,
            "explain": "A Session never shares its connection: each one checks out its own from "
            "the pool they all share. The pool's gauge counts every connection in use at once.",
        },
        {
            "before": "session.close",
            "ask": "A request is about to close its session. When all three requests are done, "
            "how many connections will still be checked out?",
            "choices": [
                {
                    "text": "None: each close() returns its own connection",
                    "claim": {"pool_after": 0},
                },
                {
                    "text": "Three: each worker thread keeps its connection for the next request",
                    "claim": {"pool_after": 3},
                },
            ],
            "answer": 0,
            "explain": "Each close() rolls back its own read transaction and returns its own "
            "connection. When the last request is done, the pool has them all back.",
        },
    ],
}
