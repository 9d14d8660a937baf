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
    db.commit()
    db.refresh(db_item)
    return {"id": db_item.id, "name": db_item.name}


SCENARIO = {
    "order": 1,
    "title": "Create an item",
    "summary": "POST /items/ adds a row, commits and refreshes it: the textbook's happy path, "
    "with get_db closing the session in finally.",
    "requests": [{"method": "POST", "path": "/items/?name=apple"}],
    "key_moments": [
        {
            "at": "session.create",
            "claim": {"db_at": ["session.create", "Session, no transaction"]},
            "text": "SessionLocal() builds a Session object and nothing else: no transaction, "
            "no connection. The database has not been touched yet.",
        },
        {
            "at": "pool.checkout",
            "claim": {"order": ["session.create", "before_commit", "pool.checkout"]},
            "text": "The first SQL is what takes a connection from the pool: here the INSERT "
            "that commit() flushes, not SessionLocal().",
        },
        {
            "at": "after_commit",
            "claim": {"order": ["after_commit", "pool.checkin"]},
            "text": "COMMIT makes the row permanent and gives the connection back to the pool "
            "at once.",
        },
        {
            "at": "response.start",
            "claim": {"order": ["response.start", "session.close"]},
            "text": "The response goes out before get_db's finally runs: by default FastAPI "
            "closes the session after the client has its answer.",
        },
        {
            "at": "session.close",
            "claim": {
                "all": [
                    {"count": ["pool.checkout", 2]},
                    {
                        "detail": [
                            "session.close",
                            "before",
                            "Session in a transaction holding a connection",
                        ]
                    },
                ]
            },
            "text": "refresh() had opened a second transaction to read the new id; close() "
            "rolls it back and returns that connection.",
        },
    ],
    "questions": [
        {
            "before": "session.create",
            "ask": "get_db is about to call SessionLocal(). What will the new db be like?",
            "choices": [
                {
                    "text": "A Session that has already taken a connection from the pool",
                    "claim": {
                        "db_at": [
                            "session.create",
                            "Session in a transaction holding a connection",
                        ],
                    },
                },
                {
                    "text": "A Session that has begun a transaction, but has no connection yet",
                    "claim": {
                        "db_at": ["session.create", "Session in a transaction, no connection yet"],
                    },
                },
                {
                    "text": "Just a Session object: no transaction and no connection yet",
                    "claim": {"db_at": ["session.create", "Session, no transaction"]},
                },
            ],
            "answer": 2,
            "explain": "SessionLocal() touches nothing. The transaction object appears at the "
            "first add() or query, and a connection is checked out only when the first SQL runs: "
            "here, the INSERT that commit() flushes.",
        },
        {
            "before": "do_orm_execute",
            "premise": {"order": ["after_commit", "pool.checkin", "do_orm_execute"]},
            "ask": "commit() has saved the row and given its connection back to the pool. Now "
            "db.refresh(db_item) runs. What does it do?",
            "choices": [
                {
                    "text": "It copies the new values from the Python object: no SQL, no "
                    "connection",
                    "claim": {"count": ["sql", 1]},
                },
                {
                    "text": "It runs a SELECT, so the session begins a new transaction and checks "
                    "out a connection again",
                    "claim": {"count": ["pool.checkout", 2]},
                },
                {
                    "text": "It fails: after commit() the session cannot be used any more",
                    "claim": {"status": 500},
                },
            ],
            "answer": 1,
            "explain": "refresh() reloads the row from the database with a SELECT. That needs a "
            "transaction and a connection, so the session begins a second transaction and checks "
            "out a connection again. Nothing commits this one: it stays open until close().",
        },
        {
            "before": "response.start",
            "premise": {"status": 200},
            "ask": "The endpoint has returned the new item. What happens next?",
            "choices": [
                {
                    "text": "get_db's finally runs db.close(), then the response is sent",
                    "claim": {"order": ["session.close", "response.start"]},
                },
                {
                    "text": "The response is sent first; db.close() runs after it",
                    "claim": {"order": ["response.start", "session.close"]},
                },
                {
                    "text": "The response is sent, and db.close() never runs: nothing went wrong, "
                    "so there is nothing to clean up",
                    "claim": {"absent": "session.close"},
                },
            ],
            "answer": 1,
            "explain": "With the default scope, FastAPI runs the code after get_db's yield only "
            "once the response has been sent. The client can hold its 200 while the session still "
            "holds a connection. finally always runs, but later than the textbook says.",
        },
        {
            "before": "session.resume",
            "premise": {"all": [{"status": 200}, {"order": ["response.start", "session.resume"]}]},
            "ask": "The client has its 200. get_db now resumes after the yield and calls "
            "db.close(). What will close() do?",
            "choices": [
                {
                    "text": "Nothing: commit() already gave the connection back",
                    "claim": {"count": ["pool.checkin", 1]},
                },
                {
                    "text": "Roll back the transaction refresh() began, and return its connection "
                    "to the pool",
                    "claim": {"count": ["pool.checkin", 2]},
                },
                {
                    "text": "Commit again, to save what refresh() read",
                    "claim": {"count": ["before_commit", 2]},
                },
            ],
            "answer": 1,
            "explain": "refresh() began a second transaction and took a connection, and nothing "
            "committed it. So close() rolls it back and checks the connection in. Rolling back a "
            "read loses nothing: the row was committed before.",
        },
    ],
}
