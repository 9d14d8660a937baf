"""begin_nested(): one savepoint rolled back, one released, then the real commit."""

from fastapi import Depends, FastAPI
from sqlalchemy import Column, Integer, String, create_engine, select
from sqlalchemy.orm import Session, declarative_base, sessionmaker

DATABASE_URL: str

engine = create_engine(DATABASE_URL, connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(bind=engine)
Base = declarative_base()


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True)
    name = Column(String, unique=True)


Base.metadata.create_all(bind=engine)
app = FastAPI()


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


@app.post("/items/")
def create_items(db: Session = Depends(get_db)):
    db.add(Item(name="kept"))
    savepoint = db.begin_nested()
    db.add(Item(name="dropped"))
    db.flush()
    savepoint.rollback()
    with db.begin_nested():
        db.add(Item(name="also kept"))
    db.commit()
    return list(db.scalars(select(Item.name).order_by(Item.id)))


SCENARIO = {
    "title": "Savepoints",
    "summary": "ROLLBACK TO SAVEPOINT and RELEASE SAVEPOINT inside one transaction.",
    "requests": [{"method": "POST", "path": "/items/"}],
}
