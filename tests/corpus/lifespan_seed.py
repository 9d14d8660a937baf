"""Tables created and rows seeded in a lifespan handler, with a session of its own."""

from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
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


@asynccontextmanager
async def lifespan(app: FastAPI):
    Base.metadata.create_all(bind=engine)
    with SessionLocal() as db:
        db.add_all([Item(name="apple"), Item(name="pear")])
        db.commit()
    yield


app = FastAPI(lifespan=lifespan)


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


@app.get("/items/")
def read_items(db: Session = Depends(get_db)):
    return [item.name for item in db.query(Item).order_by(Item.id)]


SCENARIO = {
    "title": "Seeded in the lifespan",
    "summary": "The app creates and seeds its tables when it starts.",
    "requests": [{"method": "GET", "path": "/items/"}],
}
