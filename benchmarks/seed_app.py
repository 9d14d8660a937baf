"""The seed program the benchmarks serve: the teaching documents' get_db, 20 rows to read.

Its database comes from the environment variable SEED_DATABASE_URL.
"""

import os

from fastapi import Depends, FastAPI
from sqlalchemy import Column, Integer, String, create_engine
from sqlalchemy.orm import Session, declarative_base, sessionmaker

engine = create_engine(os.environ["SEED_DATABASE_URL"], connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)
Base = declarative_base()


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True, index=True)
    name = Column(String, index=True)


Base.metadata.create_all(bind=engine)
with SessionLocal() as seeding:
    if seeding.query(Item).count() == 0:
        seeding.add_all(Item(name=f"item {n}") for n in range(20))
        seeding.commit()

app = FastAPI()


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


@app.get("/items/")
def read_items(db: Session = Depends(get_db)):
    return [{"id": i.id, "name": i.name} for i in db.query(Item).order_by(Item.id).limit(20)]


@app.post("/items/")
def create_item(name: str, db: Session = Depends(get_db)):
    item = Item(name=name)
    db.add(item)
    db.commit()
    db.refresh(item)
    return {"id": item.id, "name": item.name}
