"""An endpoint that uses a raw engine connection beside the session, and an error path."""

from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import Column, Integer, String, create_engine, text
from sqlalchemy.orm import Session, declarative_base, sessionmaker

DATABASE_URL: str

engine = create_engine(DATABASE_URL, connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(bind=engine)
Base = declarative_base()


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True)
    name = Column(String)


Base.metadata.create_all(bind=engine)
app = FastAPI()


def get_db():
    db = SessionLocal()
    try:
        yield db
    except Exception:
        db.rollback()
        raise
    finally:
        db.close()


@app.get("/stats")
def stats(db: Session = Depends(get_db)):
    with engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM items")).scalar_one()
    return {"total": total, "first": db.query(Item).first() is not None}


@app.delete("/items/{item_id}")
def delete_item(item_id: int, db: Session = Depends(get_db)):
    item = db.get(Item, item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="no such item")
    db.delete(item)
    db.commit()
    return {"deleted": item_id}


SCENARIO = {
    "title": "A raw connection beside the session",
    "summary": "engine.connect() in an endpoint, and a 404 that get_db sees.",
    "requests": [
        {"method": "GET", "path": "/stats"},
        {"method": "DELETE", "path": "/items/9"},
    ],
}
