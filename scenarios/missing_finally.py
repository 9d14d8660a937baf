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
    yield db
    db.close()  # the bug: no try/finally, so an exception skips this line


@app.get("/items/{item_id}")
def read_item(item_id: int, db: Session = Depends(get_db)):
    item = db.query(Item).filter(Item.id == item_id).first()
    if item is None:
        raise HTTPException(status_code=404, detail="Item not found")
    return item


SCENARIO = {
    "order": 6,
    "gc": "paused",
    "title": "Missing finally (a leak)",
    "summary": "A common bug: get_db calls close() after the yield with no try/finally. The "
    "endpoint raises a 404, close() never runs, and the connection stays checked out.",
    "requests": [{"method": "GET", "path": "/items/7"}],
    "key_moments": [
        {
            "at": "pool.checkout",
            "claim": {"order": ["pool.checkout", "sql"]},
            "text": "The query checks a connection out of the pool, as usual.",
        },
        {
            "at": "session.resume",
            "claim": {
                "all": [
                    {"detail": ["session.resume", "error", "HTTPException(404)"]},
                    {"absent": "session.close"},
                ]
            },
            "text": "The HTTPException is thrown into get_db at the yield. With no "
            "try/finally around the yield, it leaves get_db right there: the db.close() "
            "line is skipped.",
        },
        {
            "at": "response.start",
            "claim": {
                "all": [
                    {"status": 404},
                    {"db_at": ["response.start", "Session in a transaction holding a connection"]},
                    {"pool_after": 1},
                ]
            },
            "text": "The client gets an ordinary 404, and nothing looks wrong, but the "
            "session still holds its connection. Only Python's garbage collector would ever "
            "free it, at some later moment; this run pauses the collector so that the leak "
            "shows the same way every time.",
        },
    ],
    "questions": [
        {
            "before": "pool.checkout",
            "ask": "There is no item 7, and get_db has a bug: no try/finally around its yield. "
            "Which status will the client get?",
            "choices": [
                {"text": "404 Not Found", "claim": {"status": 404}},
                {
                    "text": "500 Internal Server Error: get_db breaks off in the middle",
                    "claim": {"status": 500},
                },
                {"text": "200 OK with an empty body", "claim": {"status": 200}},
            ],
            "answer": 0,
            "explain": "The client sees an ordinary 404. Nothing in the response shows the bug: "
            "the damage is inside the server, in the pool.",
        },
        {
            "before": "session.resume",
            "premise": {"detail": ["session.resume", "error", "HTTPException(404)"]},
            "ask": "The endpoint raises HTTPException(404), and FastAPI throws it into get_db at "
            "the yield. What happens to the db.close() line?",
            "choices": [
                {
                    "text": "It still runs, before the 404 is sent",
                    "claim": {"order": ["session.close", "response.start"]},
                },
                {
                    "text": "It runs after the 404 is sent, as on success",
                    "claim": {"order": ["response.start", "session.close"]},
                },
                {
                    "text": "It never runs: the exception leaves get_db right at the yield",
                    "claim": {"absent": "session.close"},
                },
            ],
            "answer": 2,
            "explain": "With no try/finally, the exception leaves get_db at the yield and the "
            "line after it is skipped. The session is never closed, so its connection stays "
            "checked out: a leak. Only Python's garbage collector might free it, some time later.",
        },
    ],
}
