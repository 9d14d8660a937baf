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
with SessionLocal() as seed:  # two rows to list, before the server starts
    seed.add_all([Item(name="apple"), Item(name="pear")])
    seed.commit()

app = FastAPI()


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


@app.get("/items/")
def read_items(db: Session = Depends(get_db)):
    items = db.query(Item).all()
    return [{"id": item.id, "name": item.name} for item in items]


SCENARIO = {
    "order": 2,
    "title": "Read all items",
    "summary": "GET /items/ queries every row. Nothing is written and nothing is committed: "
    "close() ends the read transaction.",
    "requests": [{"method": "GET", "path": "/items/"}],
    "key_moments": [
        {
            "at": "pool.checkout",
            "claim": {"order": ["do_orm_execute", "pool.checkout", "sql"]},
            "text": "The query is the first SQL, so this is when the session takes a "
            "connection from the pool.",
        },
        {
            "at": "after_begin",
            "claim": {"db_at": ["after_begin", "Session in a transaction holding a connection"]},
            "text": "Even a read runs inside a transaction: SQLAlchemy begins one implicitly "
            "on the connection.",
        },
        {
            "at": "response.start",
            "claim": {
                "all": [
                    {"db_at": ["response.start", "Session in a transaction holding a connection"]},
                    {"order": ["response.start", "session.close"]},
                ]
            },
            "text": "The list goes out while the session still holds its connection: close() "
            "has not run yet.",
        },
        {
            "at": "session.close",
            "claim": {
                "all": [
                    {"absent": "before_commit"},
                    {
                        "detail": [
                            "session.close",
                            "before",
                            "Session in a transaction holding a connection",
                        ]
                    },
                ]
            },
            "text": "No commit() was needed for a read. close() rolls back the read "
            "transaction and returns the connection.",
        },
    ],
    "questions": [
        {
            "before": "session.create",
            "ask": "get_db is a plain `def` generator. Which thread runs it?",
            "choices": [
                {
                    "text": "The event loop's thread, the one that received the request",
                    "claim": {"thread": ["session.create", "event loop"]},
                },
                {
                    "text": "A worker thread from the thread pool",
                    "claim": {"thread": ["session.create", "worker thread"]},
                },
            ],
            "answer": 1,
            "explain": "FastAPI runs sync (`def`) dependencies and endpoints in worker threads, "
            "so they cannot block the event loop. The event loop receives the request and sends "
            "the response. Setup, endpoint and teardown can even run on different worker threads.",
        },
        {
            "before": "do_orm_execute",
            "premise": {"order": ["session.yield", "do_orm_execute", "after_transaction_create"]},
            "ask": "The endpoint runs db.query(Item).all(), the first time it uses db. What "
            "happens to the session?",
            "choices": [
                {
                    "text": "It begins a transaction and checks out a connection from the pool",
                    "claim": {"db_at": ["sql", "Session in a transaction holding a connection"]},
                },
                {
                    "text": "It checks out a connection, but begins no transaction: a read does "
                    "not need one",
                    "claim": {"absent": "after_begin"},
                },
                {
                    "text": "It uses the connection SessionLocal() opened when get_db started",
                    "claim": {"order": ["pool.checkout", "session.yield"]},
                },
            ],
            "answer": 0,
            "explain": "Even a read runs inside a transaction: SQLAlchemy begins one on its own "
            "at the first query, and checks out a connection for it right then. SessionLocal() "
            "had opened nothing.",
        },
        {
            "before": "response.start",
            "premise": {"status": 200},
            "ask": "The list is ready to go out. Where is the session's connection when the "
            "client gets its 200?",
            "choices": [
                {
                    "text": "Back in the pool: the query returned it once the rows were read",
                    "claim": {"order": ["pool.checkin", "session.resume"]},
                },
                {
                    "text": "Back in the pool: get_db closed the session before the response",
                    "claim": {"order": ["session.close", "response.start"]},
                },
                {
                    "text": "Still checked out: the session keeps it until db.close() runs, after "
                    "the response",
                    "claim": {"order": ["response.start", "pool.checkin"]},
                },
            ],
            "answer": 2,
            "explain": "The read transaction stays open, holding its connection, until the "
            "session ends it. With the default scope get_db's finally runs after the response is "
            "sent, so the client has its list while the connection is still checked out.",
        },
        {
            "before": "session.resume",
            "premise": {"absent": "before_commit"},
            "ask": "The endpoint never called commit(). What will db.close() do with the open "
            "read transaction?",
            "choices": [
                {
                    "text": "Roll it back and return the connection to the pool",
                    "claim": {"present": "pool.checkin"},
                },
                {
                    "text": "Commit it first: every transaction must end with commit()",
                    "claim": {"present": "before_commit"},
                },
                {
                    "text": "Leave it open: only commit() ends a transaction",
                    "claim": {"pool_after": 1},
                },
            ],
            "answer": 0,
            "explain": "close() rolls back whatever transaction is still open and returns its "
            "connection. For a read nothing is lost, so no commit() is needed. (The rollback done "
            "by close() fires no after_rollback event: you see it as the pool's reset.)",
        },
    ],
}
