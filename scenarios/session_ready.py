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
    "title": "Session ready (never used)",
    "summary": "The mini project's route: it takes a session and returns a message without "
    "touching the database. Watch what close() has to do.",
    "requests": [{"method": "GET", "path": "/items/"}],
    "key_moments": [
        {
            "at": "session.create",
            "text": "A Session is created, but creating one opens no connection and starts "
            "no transaction.",
        },
        {
            "at": "response.start",
            "text": "The endpoint never used db: no SQL ran and the pool was never touched.",
        },
        {
            "at": "session.close",
            "text": "close() had nothing to do: there was no transaction to end and no "
            "connection to give back.",
        },
    ],
}
