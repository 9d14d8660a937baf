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
with SessionLocal() as seed:  # two rows to list, before the server starts
    seed.add_all([Item(name="apple"), Item(name="pear")])
    seed.commit()

app = FastAPI()


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


@app.get("/items/")
def read_items(db: Session = Depends(get_db)):
    items = db.query(Item).all()
    return [{"id": item.id, "name": item.name} for item in items]


SCENARIO = {
    "title": "Read all items",
    "summary": "GET /items/ queries every row. Nothing is written and nothing is committed: "
    "close() ends the read transaction.",
    "requests": [{"method": "GET", "path": "/items/"}],
    "key_moments": [
        {
            "at": "pool.checkout",
            "text": "The query is the first SQL, so this is when the session takes a "
            "connection from the pool.",
        },
        {
            "at": "after_begin",
            "text": "Even a read runs inside a transaction: SQLAlchemy begins one implicitly "
            "on the connection.",
        },
        {
            "at": "response.start",
            "text": "The list goes out while the session still holds its connection: close() "
            "has not run yet.",
        },
        {
            "at": "session.close",
            "text": "No commit() was needed for a read. close() rolls back the read "
            "transaction and returns the connection.",
        },
    ],
}
