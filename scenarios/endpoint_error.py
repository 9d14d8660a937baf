from fastapi import Depends, FastAPI
from sqlalchemy import Column, Integer, String, create_engine
from sqlalchemy.orm import Session, declarative_base, sessionmaker

DATABASE_URL: str  # the visualizer gives every run its own SQLite file

engine = create_engine(DATABASE_URL, connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)
Base = declarative_base()


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True, index=True)
    name = Column(String, index=True)


Base.metadata.create_all(bind=engine)

app = FastAPI()


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


@app.post("/items/")
def create_item(name: str, db: Session = Depends(get_db)):
    db_item = Item(name=name)
    db.add(db_item)
    db.flush()  # the INSERT runs now, inside the transaction
    raise RuntimeError("the stock service did not answer")


SCENARIO = {
    "title": "Endpoint error (500)",
    "summary": "The endpoint INSERTs a row with flush(), then raises. The client gets a 500, "
    "and close() rolls the INSERT back.",
    "requests": [{"method": "POST", "path": "/items/?name=apple"}],
    "key_moments": [
        {
            "at": "sql",
            "text": "flush() sends the INSERT now. The row exists inside this transaction "
            "only: nothing is committed.",
        },
        {
            "at": "session.resume",
            "text": "The RuntimeError is thrown into get_db at the yield; finally still runs.",
        },
        {
            "at": "session.close",
            "text": "There was no commit, so close() rolls the transaction back: the INSERT "
            "is undone and the connection goes back to the pool.",
        },
        {
            "at": "response.start",
            "text": "The 500 is sent after the session closed: on an error FastAPI runs the "
            "teardown first.",
        },
    ],
}
