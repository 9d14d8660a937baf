"""A middleware that opens a session of its own for each request, besides get_db's."""

from fastapi import Depends, FastAPI, Request
from sqlalchemy import Column, Integer, String, create_engine
from sqlalchemy.orm import Session, declarative_base, sessionmaker

DATABASE_URL: str

engine = create_engine(DATABASE_URL, connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(bind=engine)
Base = declarative_base()


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True)
    name = Column(String)


class Hit(Base):
    __tablename__ = "hits"
    id = Column(Integer, primary_key=True)
    path = Column(String)


Base.metadata.create_all(bind=engine)
app = FastAPI()


@app.middleware("http")
async def count_hits(request: Request, call_next):
    with SessionLocal() as db:
        db.add(Hit(path=request.url.path))
        db.commit()
    return await call_next(request)


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


@app.post("/items/")
def create_item(name: str, db: Session = Depends(get_db)):
    db.add(Item(name=name))
    db.commit()
    return {"name": name}


SCENARIO = {
    "title": "A middleware with its own session",
    "summary": "Two sessions per request: the middleware's, closed first, and get_db's.",
    "requests": [{"method": "POST", "path": "/items/?name=fig"}],
}
