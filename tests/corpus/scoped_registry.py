"""A scoped_session registry: get_db hands out the thread's session and removes it after."""

from fastapi import Depends, FastAPI
from sqlalchemy import Column, Integer, String, create_engine
from sqlalchemy.orm import Session, declarative_base, scoped_session, sessionmaker

DATABASE_URL: str

engine = create_engine(DATABASE_URL, connect_args={"check_same_thread": False})
Db = scoped_session(sessionmaker(bind=engine))
Base = declarative_base()


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True)
    name = Column(String)


Base.metadata.create_all(bind=engine)
app = FastAPI()


def get_db():
    db = Db()
    try:
        yield db
    finally:
        Db.remove()


@app.post("/items/")
def create_item(name: str, db: Session = Depends(get_db)):
    db.add(Item(name=name))
    db.commit()
    return {"created": name}


@app.get("/items/")
def read_items(db: Session = Depends(get_db)):
    return [item.name for item in db.query(Item).all()]


SCENARIO = {
    "title": "scoped_session",
    "summary": "A thread-local registry of sessions, removed after each request.",
    "requests": [
        {"method": "POST", "path": "/items/?name=pear"},
        {"method": "GET", "path": "/items/"},
    ],
}
