from fastapi import Depends, FastAPI, HTTPException
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
    price = Column(Integer)


Base.metadata.create_all(bind=engine)

app = FastAPI()


def get_db():
    db = SessionLocal()
    try:
        yield db
        db.commit()
    except Exception:
        db.rollback()
        raise
    finally:
        db.close()


@app.post("/items/")
def create_item(name: str, price: int, db: Session = Depends(get_db)):
    db_item = Item(name=name, price=price)
    db.add(db_item)
    db.flush()  # the INSERT runs now, so the new id is known
    if price < 0:
        raise HTTPException(status_code=400, detail="price must not be negative")
    return {"id": db_item.id, "name": db_item.name}


SCENARIO = {
    "order": 7,
    "title": "Commit in the dependency",
    "summary": "A get_db often recommended: commit after the yield, rollback on an "
    "exception, close in finally. One request succeeds, one fails.",
    "requests": [
        {"method": "POST", "path": "/items/?name=apple&price=3"},
        {"method": "POST", "path": "/items/?name=pear&price=-1"},
    ],
    "key_moments": [
        {
            "at": "response.start",
            "claim": {"all": [{"status": 200}, {"order": ["response.start", "before_commit"]}]},
            "request": 1,
            "text": "The 200 is sent before get_db's db.commit() has even started: the code "
            "after yield runs once the response is out.",
        },
        {
            "at": "after_commit",
            "claim": {"order": ["response.start", "after_commit"]},
            "request": 1,
            "text": "The commit happens after the client already has its answer. Had it "
            "failed, the client would never know.",
        },
        {
            "at": "session.resume",
            "claim": {
                "all": [
                    {"detail": ["session.resume", "error", "HTTPException(400)"]},
                    {"absent": "before_commit"},
                    {"present": "after_rollback"},
                ]
            },
            "request": 2,
            "text": "The HTTPException is thrown into get_db at the yield: db.commit() is "
            "skipped and the except block runs.",
        },
        {
            "at": "after_rollback",
            "claim": {"order": ["after_flush", "after_rollback", "pool.checkin"]},
            "request": 2,
            "text": "db.rollback() undoes the INSERT that flush() had sent, and returns the "
            "connection.",
        },
        {
            "at": "response.start",
            "claim": {
                "all": [
                    {"status": 400},
                    {"order": ["after_rollback", "session.close", "response.start"]},
                ]
            },
            "request": 2,
            "text": "On the error path everything (rollback, close) happens before the 400 "
            "is sent.",
        },
    ],
    "questions": [
        {
            "before": "response.start",
            "premise": {"order": ["after_flush", "response.start"]},
            "request": 1,
            "ask": "The endpoint returned. Its INSERT was flushed, and get_db commits after the "
            "yield. What happens next?",
            "choices": [
                {
                    "text": "get_db commits, then the 200 is sent",
                    "claim": {"order": ["after_commit", "response.start"]},
                },
                {
                    "text": "The 200 is sent first; get_db commits after it",
                    "claim": {"order": ["response.start", "before_commit"]},
                },
                {
                    "text": "The 200 is sent and nothing is committed: the endpoint never called "
                    "commit()",
                    "claim": {"absent": "after_commit"},
                },
            ],
            "answer": 1,
            "explain": "With the default scope, the code after the yield (commit and close) runs "
            "once the response has been sent. The client has its 200 before the row is committed: "
            "had the commit failed, the client would never know.",
        },
        {
            "before": "session.resume",
            "premise": {
                "all": [
                    {"detail": ["session.resume", "error", "HTTPException(400)"]},
                    {"order": ["after_flush", "session.resume"]},
                ]
            },
            "request": 2,
            "ask": "This price is negative, so the endpoint raises HTTPException(400) after its "
            "flush. When does the client get the 400?",
            "choices": [
                {
                    "text": "Right away, before get_db resumes, like the 200 of the first request",
                    "claim": {"order": ["response.start", "session.resume"]},
                },
                {
                    "text": "After get_db has committed the flushed row",
                    "claim": {"present": "before_commit"},
                },
                {
                    "text": "After get_db has rolled back and closed the session",
                    "claim": {"order": ["session.close", "response.start"]},
                },
            ],
            "answer": 2,
            "explain": "On an error, FastAPI throws the exception into get_db at the yield and "
            "waits for the teardown: the except block and finally both run before the 400 is sent.",
        },
        {
            "before": "after_rollback",
            "premise": {"detail": ["session.resume", "error", "HTTPException(400)"]},
            "request": 2,
            "ask": "The exception has reached get_db at the yield. What happens to the INSERT "
            "that flush() already sent?",
            "choices": [
                {
                    "text": "db.commit() still runs, so the row is saved",
                    "claim": {"present": "before_commit"},
                },
                {
                    "text": "It stays: a flushed row is already in the table",
                    "claim": {"absent": "after_rollback"},
                },
                {
                    "text": "db.commit() is skipped, and db.rollback() undoes the INSERT",
                    "claim": {"absent": "before_commit"},
                },
            ],
            "answer": 2,
            "explain": "The exception jumps over db.commit() straight to the except block. "
            "rollback() undoes the flushed INSERT and returns the connection. A flushed row is "
            "only inside the transaction until it is committed.",
        },
    ],
}
