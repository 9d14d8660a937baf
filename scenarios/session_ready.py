from fastapi import Depends, FastAPI
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

DATABASE_URL: str  # the visualizer gives every run its own SQLite file

engine = create_engine(DATABASE_URL, connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)

app = FastAPI()


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


@app.get("/items/")
def read_items(db: Session = Depends(get_db)):
    return {"message": "Database session is ready"}


SCENARIO = {
    "order": 4,
    "title": "Session ready (never used)",
    "summary": "A route that takes a session and returns a message without touching the "
    "database, as a first project's health check does. Watch what close() has to do.",
    "requests": [{"method": "GET", "path": "/items/"}],
    "key_moments": [
        {
            "at": "session.create",
            "claim": {"db_at": ["session.create", "Session, no transaction"]},
            "text": "A Session is created, but creating one opens no connection and starts "
            "no transaction.",
        },
        {
            "at": "response.start",
            "claim": {"all": [{"absent": "sql"}, {"absent": "pool.checkout"}]},
            "text": "The endpoint never used db: no SQL ran and the pool was never touched.",
        },
        {
            "at": "session.close",
            "claim": {"detail": ["session.close", "before", "Session, no transaction"]},
            "text": "close() had nothing to do: there was no transaction to end and no "
            "connection to give back.",
        },
    ],
    "questions": [
        {
            "before": "session.create",
            "ask": "get_db calls SessionLocal(). Does that open a database connection?",
            "choices": [
                {
                    "text": "Yes: it checks out a connection from the pool right away",
                    "claim": {"present": "pool.checkout"},
                },
                {
                    "text": "No connection yet, but it begins a transaction",
                    "claim": {
                        "db_at": ["session.create", "Session in a transaction, no connection yet"],
                    },
                },
                {
                    "text": "No: it builds a Session object, and nothing else",
                    "claim": {"db_at": ["session.create", "Session, no transaction"]},
                },
            ],
            "answer": 2,
            "explain": "Creating a Session touches nothing. A transaction begins at the first "
            "add() or query, and a connection is checked out at the first SQL. This endpoint "
            "never uses db, so the pool is never touched at all.",
        },
        {
            "before": "response.start",
            "premise": {"absent": "do_orm_execute"},
            "ask": "The endpoint returns its message without using db. What happens next?",
            "choices": [
                {
                    "text": "get_db's finally closes the session, then the response is sent",
                    "claim": {"order": ["session.close", "response.start"]},
                },
                {
                    "text": "The response is sent, then get_db's finally closes the session",
                    "claim": {"order": ["response.start", "session.close"]},
                },
                {
                    "text": "The response is sent, and the session is never closed: it was never "
                    "used",
                    "claim": {"absent": "session.close"},
                },
            ],
            "answer": 1,
            "explain": "With the default scope, FastAPI sends the response first and resumes "
            "get_db after it. The finally block still runs, even for a session that was never "
            "used.",
        },
        {
            "before": "session.close",
            "premise": {"absent": "sql"},
            "ask": "get_db's finally calls db.close() on a session that never ran any SQL. What "
            "does close() do?",
            "choices": [
                {
                    "text": "It rolls back the transaction and returns the connection to the pool",
                    "claim": {"present": "pool.checkin"},
                },
                {
                    "text": "It commits, because the endpoint never did",
                    "claim": {"present": "before_commit"},
                },
                {
                    "text": "Nothing you can see: there is no transaction to end and no "
                    "connection to give back",
                    "claim": {"absent": "pool.checkin"},
                },
            ],
            "answer": 2,
            "explain": "The session never began a transaction and never took a connection, so "
            "close() has nothing to undo and nothing to return. Still, closing it is right: "
            "get_db cannot know whether the endpoint used db.",
        },
    ],
}
