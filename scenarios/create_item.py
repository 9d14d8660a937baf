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
    db.commit()
    db.refresh(db_item)
    return {"id": db_item.id, "name": db_item.name}


SCENARIO = {
    "title": "Create an item",
    "summary": "POST /items/ adds a row, commits and refreshes it: the sample program's "
    "happy path.",
    "requests": [{"method": "POST", "path": "/items/?name=apple"}],
    "key_moments": [
        {
            "at": "session.create",
            "text": "SessionLocal() builds a Session object and nothing else: no transaction, "
            "no connection. The database has not been touched yet.",
        },
        {
            "at": "pool.checkout",
            "text": "The first SQL is what takes a connection from the pool: here the INSERT "
            "that commit() flushes, not SessionLocal().",
        },
        {
            "at": "after_commit",
            "text": "COMMIT makes the row permanent and gives the connection back to the pool "
            "at once.",
        },
        {
            "at": "response.start",
            "text": "The response goes out before get_db's finally runs: by default FastAPI "
            "closes the session after the client has its answer.",
        },
        {
            "at": "session.close",
            "text": "refresh() had opened a second transaction to read the new id; close() "
            "rolls it back and returns that connection.",
        },
    ],
}
