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

app = FastAPI()


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


@app.post("/items/")
def create_item(name: str, db: Session = Depends(get_db)):
    db_item = Item(name=name)
    db.add(db_item)
    db.flush()  # the INSERT runs now, inside the transaction
    raise RuntimeError("the stock service did not answer")


SCENARIO = {
    "order": 5,
    "title": "Endpoint error (500)",
    "summary": "The endpoint INSERTs a row with flush(), then raises. The client gets a 500, "
    "and close() rolls the INSERT back.",
    "requests": [{"method": "POST", "path": "/items/?name=apple"}],
    "key_moments": [
        {
            "at": "sql",
            "claim": {"all": [{"present": "after_flush"}, {"absent": "after_commit"}]},
            "text": "flush() sends the INSERT now. The row exists inside this transaction "
            "only: nothing is committed.",
        },
        {
            "at": "session.resume",
            "claim": {
                "all": [
                    {"detail": ["session.resume", "error", "RuntimeError"]},
                    {"present": "session.close"},
                ]
            },
            "text": "The RuntimeError is thrown into get_db at the yield; finally still runs.",
        },
        {
            "at": "session.close",
            "claim": {
                "all": [
                    {"absent": "after_commit"},
                    {
                        "detail": [
                            "session.close",
                            "before",
                            "Session in a transaction holding a connection",
                        ]
                    },
                ]
            },
            "text": "There was no commit, so close() rolls the transaction back: the INSERT "
            "is undone and the connection goes back to the pool.",
        },
        {
            "at": "response.start",
            "claim": {"all": [{"status": 500}, {"order": ["session.close", "response.start"]}]},
            "text": "The 500 is sent after the session closed: on an error FastAPI runs the "
            "teardown first.",
        },
    ],
    "questions": [
        {
            "before": "pool.checkout",
            "ask": "The endpoint called db.add(), and now db.flush(). What does flush() do?",
            "choices": [
                {
                    "text": "It sends the INSERT now, inside a transaction that is not committed",
                    "claim": {"order": ["sql", "session.resume"]},
                },
                {
                    "text": "It commits the row: after flush() it is saved for good",
                    "claim": {"present": "after_commit"},
                },
                {
                    "text": "Nothing yet: SQL only runs when you call commit()",
                    "claim": {"absent": "sql"},
                },
            ],
            "answer": 0,
            "explain": "flush() sends the pending INSERT right away, so the session checks out a "
            "connection and begins a transaction. The row exists only inside that transaction: "
            "nothing is committed until commit().",
        },
        {
            "before": "session.resume",
            "premise": {"detail": ["session.resume", "error", "RuntimeError"]},
            "ask": "The endpoint now raises RuntimeError. What happens to the session?",
            "choices": [
                {
                    "text": "The 500 is sent first; get_db closes the session after it",
                    "claim": {"order": ["response.start", "session.close"]},
                },
                {
                    "text": "An unexpected error skips get_db's finally: close() never runs",
                    "claim": {"absent": "session.close"},
                },
                {
                    "text": "get_db's finally still runs, and closes the session before the 500 "
                    "is sent",
                    "claim": {"order": ["session.close", "response.start"]},
                },
            ],
            "answer": 2,
            "explain": "Any exception is thrown into get_db at the yield, so try/finally does its "
            "job, and on an error FastAPI runs the teardown before it sends the error response.",
        },
        {
            "before": "pool.reset",
            "premise": {"all": [{"present": "after_flush"}, {"absent": "after_commit"}]},
            "ask": "close() runs on a session whose transaction holds the flushed INSERT. What "
            "happens to that row?",
            "choices": [
                {
                    "text": "close() commits it: what was flushed is kept",
                    "claim": {"present": "before_commit"},
                },
                {
                    "text": "It is rolled back: the INSERT is undone and the connection goes back "
                    "to the pool",
                    "claim": {"absent": "before_commit"},
                },
                {
                    "text": "It stays in an open transaction: the connection remains checked out",
                    "claim": {"pool_after": 1},
                },
            ],
            "answer": 1,
            "explain": "close() never commits. It rolls back the open transaction, which undoes "
            "the INSERT, and returns the connection to the pool. The row was never saved.",
        },
        {
            "before": "response.start",
            "ask": "Which status does the client get?",
            "choices": [
                {"text": "200 OK: the row was flushed before the error", "claim": {"status": 200}},
                {"text": "500 Internal Server Error", "claim": {"status": 500}},
                {
                    "text": "No response at all: the server drops the connection",
                    "claim": {"absent": "response.start"},
                },
            ],
            "answer": 1,
            "explain": "An exception nobody handles becomes a 500 Internal Server Error. The "
            "server also logs the RuntimeError; the client only sees the 500.",
        },
    ],
}
