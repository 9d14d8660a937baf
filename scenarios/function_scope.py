from fastapi import Depends, FastAPI
from sqlalchemy import CheckConstraint, Column, Integer, String, create_engine
from sqlalchemy.orm import Session, declarative_base, sessionmaker

DATABASE_URL: str  # the visualizer gives every run its own SQLite file

engine = create_engine(DATABASE_URL, connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)
Base = declarative_base()


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True, index=True)
    name = Column(String, index=True)
    price = Column(Integer, CheckConstraint("price >= 0"))  # the database refuses prices < 0


Base.metadata.create_all(bind=engine)

app = FastAPI()


def get_db():
    db = SessionLocal()
    try:
        yield db
        db.commit()
    except Exception:
        db.rollback()
        raise
    finally:
        db.close()


@app.post("/items/")
def create_item(name: str, price: int, db: Session = Depends(get_db, scope="function")):
    db.add(Item(name=name, price=price))  # the INSERT waits for get_db's commit
    return {"name": name, "price": price}


SCENARIO = {
    "title": "Function scope: teardown before the response",
    "summary": "The get_db from commit_in_dependency (commit after the yield), used with "
    'Depends(get_db, scope="function"): the commit and the close run before the response '
    "is sent, so a failed commit still reaches the client.",
    "requests": [
        {"method": "POST", "path": "/items/?name=apple&price=3"},
        {"method": "POST", "path": "/items/?name=pear&price=-1"},
    ],
    "key_moments": [
        {
            "at": "session.resume",
            "request": 1,
            "text": 'With scope="function", get_db resumes as soon as the endpoint returns, '
            "before FastAPI sends anything to the client.",
        },
        {
            "at": "after_commit",
            "request": 1,
            "text": "The commit runs while the client is still waiting for its answer.",
        },
        {
            "at": "session.close",
            "request": 1,
            "text": "The session is closed in finally, still before the response: steps 5 and "
            "6 come before step 7, as the textbook says.",
        },
        {
            "at": "response.start",
            "request": 1,
            "text": "Only now is the 200 sent. With the default scope it would have gone out "
            "before the commit.",
        },
        {
            "at": "after_rollback",
            "request": 2,
            "text": "The database refuses the negative price when commit() sends the INSERT: "
            "the transaction is rolled back, and get_db's except block runs.",
        },
        {
            "at": "response.start",
            "request": 2,
            "text": "Because the teardown ran first, the failed commit becomes a 500: the "
            "client is not told that the pear was saved. Compare commit_fails_after_response.",
        },
    ],
}
