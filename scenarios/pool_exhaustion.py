from fastapi import Depends, FastAPI
from sqlalchemy import Column, Integer, String, create_engine
from sqlalchemy.orm import Session, declarative_base, sessionmaker

DATABASE_URL: str  # the visualizer gives every run its own SQLite file

engine = create_engine(
    DATABASE_URL,
    connect_args={"check_same_thread": False},
    pool_size=2,  # at most two connections
    max_overflow=0,  # and no extra ones beyond those two
    pool_timeout=1,  # wait one second for a free connection, then give up
)
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
    yield db  # the bug: the session is never closed


@app.get("/items/")
def read_items(db: Session = Depends(get_db)):
    return db.query(Item).all()


SCENARIO = {
    "title": "Pool exhaustion (sessions never closed)",
    "summary": "get_db never closes its session, and the pool holds only two connections. "
    "Two requests work, and each keeps its connection. The next ones wait for a free "
    "connection, time out, and fail with a 500.",
    "gc": "paused",
    "requests": [
        {"method": "GET", "path": "/items/"},
        {"method": "GET", "path": "/items/"},
        {"method": "GET", "path": "/items/"},
        {"method": "GET", "path": "/items/"},
    ],
    "key_moments": [
        {
            "at": "request.start",
            "request": 1,
            "text": 'For this run the visualizer pauses Python\'s garbage collector ("gc": '
            '"paused" in this scenario), so that every run shows the same thing. With the '
            "collector on, a leaked session is freed only when it happens to run, so the "
            "failures come and go at random.",
        },
        {
            "at": "pool.checkout",
            "request": 1,
            "text": "The query takes one of the pool's two connections. Nothing will give it "
            "back: get_db has no db.close().",
        },
        {
            "at": "response.start",
            "request": 1,
            "text": "The 200 goes out and get_db ends, but the session still holds its "
            "connection. A Session and its transaction refer to each other, so the session "
            "is not freed when get_db's variable goes away; only Python's cyclic garbage "
            "collector would free it.",
        },
        {
            "at": "pool.checkout",
            "request": 2,
            "text": "The second request takes the second connection: the pool is now full "
            "(2 of 2 in use).",
        },
        {
            "at": "session.resume",
            "request": 3,
            "text": "The third request's query waits one second (pool_timeout) for a free "
            "connection, then SQLAlchemy raises TimeoutError: QueuePool limit of size 2 "
            "overflow 0 reached.",
        },
        {
            "at": "response.start",
            "request": 3,
            "text": "The client gets 500 Internal Server Error. The pool stays full, so every "
            "request that needs the database fails the same way.",
        },
        {
            "at": "request.start",
            "request": 4,
            "text": "The fix: close the session in finally (`try: yield db finally: "
            "db.close()`). close() gives the connection back to the pool at the end of "
            "every request, whatever happened.",
        },
    ],
}
