"""The full-stack template's style: `with Session(engine) as session: yield session`, SessionDep."""

from typing import Annotated

from fastapi import Depends, FastAPI
from sqlalchemy import String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

DATABASE_URL: str

engine = create_engine(DATABASE_URL, connect_args={"check_same_thread": False})


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


Base.metadata.create_all(engine)


def get_db():
    with Session(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db)]
app = FastAPI()


@app.post("/items/")
def create_item(name: str, session: SessionDep) -> dict[str, object]:
    item = Item(name=name)
    session.add(item)
    session.commit()
    session.refresh(item)
    return {"id": item.id, "name": item.name}


@app.get("/items/")
def read_items(session: SessionDep) -> list[str]:
    return list(session.scalars(select(Item.name)))


SCENARIO = {
    "title": "SessionDep with Session(engine) as a context manager",
    "summary": "FastAPI's full-stack template style.",
    "requests": [
        {"method": "POST", "path": "/items/?name=apple"},
        {"method": "GET", "path": "/items/"},
    ],
}
