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
    "title": "A swallowed exception (404 becomes 500)",
    "summary": "get_db catches exceptions to roll back, but forgets to raise them again. "
    "The endpoint's 404 disappears inside get_db, and the client gets a 500 instead.",
    "requests": [{"method": "GET", "path": "/items/42"}],
    "key_moments": [
        {
            "at": "session.resume",
            "text": "The endpoint found no item and raised HTTPException(404). FastAPI throws "
            "it into get_db at the yield, where `except Exception` catches it.",
        },
        {
            "at": "after_rollback",
            "text": "db.rollback() runs, and then get_db simply ends: without `raise`, the "
            "404 is gone.",
        },
        {
            "at": "response.start",
            "text": "FastAPI has no response to send, so the client gets 500 Internal Server "
            "Error instead of 404 Not Found.",
        },
        {
            "at": "request.error",
            "text": 'FastAPI explains it in its own error: "Response not awaited", a '
            "dependency with yield caught an exception and did not raise it again. Add "
            "`raise` after db.rollback() to get the 404 back.",
        },
    ],
}
