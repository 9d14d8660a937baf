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
    finally:
        db.close()


@app.get("/items/{item_id}")
def read_item(item_id: int, db: Session = Depends(get_db)):
    item = db.query(Item).filter(Item.id == item_id).first()
    if item is None:
        raise HTTPException(status_code=404, detail="Item not found")
    return item


SCENARIO = {
    "order": 3,
    "title": "Item not found (404)",
    "summary": "GET /items/42 finds no row and raises HTTPException(404). On an error the "
    "session is closed before the response is sent.",
    "requests": [{"method": "GET", "path": "/items/42"}],
    "key_moments": [
        {
            "at": "sql",
            "claim": {"all": [{"present": "sql"}, {"status": 404}]},
            "text": "The lookup runs and finds nothing: first() returns None.",
        },
        {
            "at": "session.resume",
            "claim": {
                "all": [
                    {"detail": ["session.resume", "error", "HTTPException(404)"]},
                    {"present": "session.close"},
                ]
            },
            "text": "The HTTPException does not just leave the endpoint: FastAPI throws it "
            "into get_db at the yield, so the finally block runs.",
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
                    {"order": ["session.close", "response.start"]},
                ]
            },
            "text": "close() rolls back the read transaction and returns the connection "
            "before the 404 is sent: on errors FastAPI tears down first.",
        },
        {
            "at": "response.start",
            "claim": {"all": [{"status": 404}, {"order": ["session.close", "response.start"]}]},
            "text": "Only now does the client get its 404: here the textbook order 6 then 7 "
            "is what really happens.",
        },
    ],
    "questions": [
        {
            "before": "session.resume",
            "premise": {"detail": ["session.resume", "error", "HTTPException(404)"]},
            "ask": "The endpoint found no item and raises HTTPException(404). What happens next?",
            "choices": [
                {
                    "text": "The 404 is sent first; get_db's finally runs after it, as on success",
                    "claim": {"order": ["response.start", "session.close"]},
                },
                {
                    "text": "FastAPI throws the exception into get_db; finally closes the "
                    "session, then the 404 is sent",
                    "claim": {"order": ["session.close", "response.start"]},
                },
                {
                    "text": "The exception skips get_db, so the session is never closed",
                    "claim": {"absent": "session.close"},
                },
            ],
            "answer": 1,
            "explain": "On an error FastAPI throws the exception into get_db at the yield, and "
            "the teardown runs before the error response is sent. Here the textbook order (close, "
            "then respond) is what really happens.",
        },
        {
            "before": "pool.reset",
            "premise": {
                "db_at": ["session.resume", "Session in a transaction holding a connection"]
            },
            "ask": "get_db's finally calls db.close(), and the query's read transaction is still "
            "open. What does close() do?",
            "choices": [
                {
                    "text": "Nothing: the exception already ended the transaction",
                    "claim": {"absent": "pool.checkin"},
                },
                {
                    "text": "It commits the read transaction, then returns the connection",
                    "claim": {"present": "before_commit"},
                },
                {
                    "text": "It rolls the transaction back and returns the connection, before the "
                    "404 is sent",
                    "claim": {"order": ["pool.checkin", "response.start"]},
                },
            ],
            "answer": 2,
            "explain": "An exception does not end a transaction by itself. close() rolls it back "
            "and checks the connection in, and all of that happens before the client gets its 404.",
        },
    ],
}
