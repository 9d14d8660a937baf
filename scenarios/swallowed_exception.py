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


Base.metadata.create_all(bind=engine)

app = FastAPI()


def get_db():
    db = SessionLocal()
    try:
        yield db
    except Exception:
        db.rollback()  # the bug: no `raise`, so the exception is swallowed here
    finally:
        db.close()


@app.get("/items/{item_id}")
def read_item(item_id: int, db: Session = Depends(get_db)):
    item = db.query(Item).filter(Item.id == item_id).first()
    if item is None:
        raise HTTPException(status_code=404, detail="Item not found")
    return item


SCENARIO = {
    "order": 10,
    "title": "A swallowed exception (404 becomes 500)",
    "summary": "get_db catches exceptions to roll back, but forgets to raise them again. "
    "The endpoint's 404 disappears inside get_db, and the client gets a 500 instead.",
    "requests": [{"method": "GET", "path": "/items/42"}],
    "key_moments": [
        {
            "at": "session.resume",
            "claim": {"detail": ["session.resume", "error", "HTTPException(404)"]},
            "text": "The endpoint found no item and raised HTTPException(404). FastAPI throws "
            "it into get_db at the yield, where `except Exception` catches it.",
        },
        {
            "at": "after_rollback",
            "claim": {"all": [{"order": ["session.resume", "after_rollback"]}, {"status": 500}]},
            "text": "db.rollback() runs, and then get_db simply ends: without `raise`, the "
            "404 is gone.",
        },
        {
            "at": "response.start",
            "claim": {"status": 500},
            "text": "FastAPI has no response to send, so the client gets 500 Internal Server "
            "Error instead of 404 Not Found.",
        },
        {
            "at": "request.error",
            "claim": {"detail": ["request.error", "error", "FastAPIError"]},
            "text": 'FastAPI explains it in its own error: "Response not awaited", a '
            "dependency with yield caught an exception and did not raise it again. Add "
            "`raise` after db.rollback() to get the 404 back.",
        },
    ],
    "questions": [
        {
            "before": "session.resume",
            "premise": {"detail": ["session.resume", "error", "HTTPException(404)"]},
            "ask": "The endpoint raises HTTPException(404), and get_db's `except Exception` will "
            "catch it. Which status will the client get?",
            "choices": [
                {
                    "text": "404 Not Found: get_db rolls back, and the 404 goes on its way",
                    "claim": {"status": 404},
                },
                {
                    "text": "200 OK: get_db handled the exception, so the request succeeded",
                    "claim": {"status": 200},
                },
                {"text": "500 Internal Server Error", "claim": {"status": 500}},
            ],
            "answer": 2,
            "explain": "The except block does not raise again, so the 404 disappears inside "
            "get_db. FastAPI is left with no response to send, and answers 500.",
        },
        {
            "before": "session.close",
            "premise": {"order": ["after_rollback", "session.close"]},
            "ask": "db.rollback() has run. Now finally calls db.close(). What does close() do?",
            "choices": [
                {
                    "text": "It rolls back again, and returns a second connection to the pool",
                    "claim": {"count": ["pool.checkin", 2]},
                },
                {
                    "text": "Nothing: rollback() already ended the transaction and returned the "
                    "connection",
                    "claim": {"count": ["pool.checkin", 1]},
                },
                {
                    "text": "It commits, since the exception was handled",
                    "claim": {"present": "before_commit"},
                },
            ],
            "answer": 1,
            "explain": "rollback() ended the transaction and gave the connection back to the "
            "pool. close() finds nothing left to do.",
        },
        {
            "before": "request.error",
            "premise": {"status": 500},
            "ask": "The client got a 500. Which error does the server log?",
            "choices": [
                {
                    "text": "HTTPException: the endpoint's 404",
                    "claim": {"detail": ["request.error", "error", "HTTPException"]},
                },
                {
                    "text": "FastAPIError: a dependency with yield caught an exception and did "
                    "not raise it again",
                    "claim": {"detail": ["request.error", "error", "FastAPIError"]},
                },
                {
                    "text": "None: get_db handled the exception, so there is nothing to log",
                    "claim": {"absent": "request.error"},
                },
            ],
            "answer": 1,
            "explain": "FastAPI notices that get_db swallowed the exception and reports it as a "
            "FastAPIError. The fix is one word: `raise` after db.rollback().",
        },
    ],
}
