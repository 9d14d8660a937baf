"""A background task with a session of its own, and a streaming body that reads the request's."""

from fastapi import BackgroundTasks, Depends, FastAPI
from fastapi.responses import StreamingResponse
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


def record_visit(name: str) -> None:
    with SessionLocal() as db:
        db.add(Item(name=f"visited {name}"))
        db.commit()


@app.post("/items/")
def create_item(name: str, tasks: BackgroundTasks, db: Session = Depends(get_db)):
    db.add(Item(name=name))
    db.commit()
    tasks.add_task(record_visit, name)
    return {"name": name}


@app.get("/export")
def export(db: Session = Depends(get_db)):
    def rows():
        for item in db.query(Item).order_by(Item.id):
            yield f"{item.name}\n"

    return StreamingResponse(rows(), media_type="text/plain")


SCENARIO = {
    "title": "A background task and a streaming body",
    "summary": "Sessions used after the endpoint returned.",
    "requests": [
        {"method": "POST", "path": "/items/?name=lime"},
        {"method": "GET", "path": "/export"},
    ],
}
