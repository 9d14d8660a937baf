"""A dependency that is a method of an object holding its sessionmaker."""

from collections.abc import Iterator

from fastapi import Depends, FastAPI
from sqlalchemy import Column, Integer, String, create_engine
from sqlalchemy.orm import Session, declarative_base, sessionmaker

DATABASE_URL: str

Base = declarative_base()


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True)
    name = Column(String)


class Database:
    def __init__(self, url: str) -> None:
        self.engine = create_engine(url, connect_args={"check_same_thread": False})
        self.factory = sessionmaker(bind=self.engine, expire_on_commit=False)
        Base.metadata.create_all(self.engine)

    def session(self) -> Iterator[Session]:
        db = self.factory()
        try:
            yield db
            db.commit()
        except Exception:
            db.rollback()
            raise
        finally:
            db.close()


database = Database(DATABASE_URL)
app = FastAPI()


@app.post("/items/")
def create_item(name: str, db: Session = Depends(database.session)):
    item = Item(name=name)
    db.add(item)
    db.flush()
    return {"id": item.id}


SCENARIO = {
    "title": "A provider object's method",
    "summary": "The sessionmaker lives in an object; its method commits after the yield.",
    "requests": [{"method": "POST", "path": "/items/?name=plum"}],
}
