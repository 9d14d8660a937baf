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
    "title": "Commit in the dependency",
    "summary": "The quiz's recommended get_db: commit after the yield, rollback on an "
    "exception, close in finally. One request succeeds, one fails.",
    "requests": [
        {"method": "POST", "path": "/items/?name=apple&price=3"},
        {"method": "POST", "path": "/items/?name=pear&price=-1"},
    ],
    "key_moments": [
        {
            "at": "response.start",
            "request": 1,
            "text": "The 200 is sent before get_db's db.commit() has even started: the code "
            "after yield runs once the response is out.",
        },
        {
            "at": "after_commit",
            "request": 1,
            "text": "The commit happens after the client already has its answer. Had it "
            "failed, the client would never know.",
        },
        {
            "at": "session.resume",
            "request": 2,
            "text": "The HTTPException is thrown into get_db at the yield: db.commit() is "
            "skipped and the except block runs.",
        },
        {
            "at": "after_rollback",
            "request": 2,
            "text": "db.rollback() undoes the INSERT that flush() had sent, and returns the "
            "connection.",
        },
        {
            "at": "response.start",
            "request": 2,
            "text": "On the error path everything (rollback, close) happens before the 400 "
            "is sent.",
        },
    ],
}
