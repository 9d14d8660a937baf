"""`with SessionLocal() as db, db.begin(): yield db`: the block commits after the endpoint."""

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


Base.metadata.create_all(bind=engine)
app = FastAPI()


def get_db():
    with SessionLocal() as db, db.begin():
        yield db


@app.post("/items/")
def create_item(name: str, db: Session = Depends(get_db)):
    db.add(Item(name=name))
    return {"name": name}


SCENARIO = {
    "title": "A begin() block around the yield",
    "summary": "The transaction begins before the yield and commits when the block ends.",
    "requests": [{"method": "POST", "path": "/items/?name=kiwi"}],
}
