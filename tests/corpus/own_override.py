"""The program overrides its own get_db, as a test setup does: the override must run."""

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
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


def get_db_committing():
    db = SessionLocal()
    try:
        yield db
        db.commit()
    finally:
        db.close()


app.dependency_overrides[get_db] = get_db_committing


@app.post("/items/")
def create_item(name: str, db: Session = Depends(get_db)):
    db.add(Item(name=name))
    return {"name": name}


@app.get("/items/")
def read_items(db: Session = Depends(get_db)):
    return [item.name for item in db.query(Item).all()]


SCENARIO = {
    "title": "The program's own override",
    "summary": "get_db is overridden by one that commits after the yield.",
    "requests": [
        {"method": "POST", "path": "/items/?name=apple"},
        {"method": "GET", "path": "/items/"},
    ],
}
