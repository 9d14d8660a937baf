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
    "order": 12,
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
            "claim": {"gc": "paused"},
            "request": 1,
            "text": 'For this run the visualizer pauses Python\'s garbage collector ("gc": '
            '"paused" in this scenario), so that every run shows the same thing. With the '
            "collector on, a leaked session is freed only when it happens to run, so the "
            "failures come and go at random.",
        },
        {
            "at": "pool.checkout",
            "claim": {
                "all": [
                    {"pool_at": ["pool.checkout", 1]},
                    {"absent": "session.close"},
                    {"absent": "pool.checkin"},
                ]
            },
            "request": 1,
            "text": "The query takes one of the pool's two connections. Nothing will give it "
            "back: get_db has no db.close().",
        },
        {
            "at": "response.start",
            "claim": {
                "all": [
                    {"status": 200},
                    {"db_at": ["response.start", "Session in a transaction holding a connection"]},
                ]
            },
            "request": 1,
            "text": "The 200 goes out and get_db ends, but the session still holds its "
            "connection. A Session and its transaction refer to each other, so the session "
            "is not freed when get_db's variable goes away; only Python's cyclic garbage "
            "collector would free it.",
        },
        {
            "at": "pool.checkout",
            "claim": {
                "all": [
                    {"pool_at": ["pool.checkout", 2]},
                    {"detail": ["pool.checkout", "connection", 2]},
                ]
            },
            "request": 2,
            "text": "The second request takes the second connection: the pool is now full "
            "(2 of 2 in use).",
        },
        {
            "at": "session.resume",
            "claim": {"detail": ["session.resume", "error", "TimeoutError"]},
            "request": 3,
            "text": "The third request's query waits one second (pool_timeout) for a free "
            "connection, then SQLAlchemy raises TimeoutError: QueuePool limit of size 2 "
            "overflow 0 reached.",
        },
        {
            "at": "response.start",
            "claim": {"status": 500},
            "request": 3,
            "text": "The client gets 500 Internal Server Error. The pool stays full, so every "
            "request that needs the database fails the same way.",
        },
        {
            "at": "request.start",
            "claim": {"absent": "session.close"},
            "request": 4,
            "text": "The fix: close the session in finally (`try: yield db finally: "
            "db.close()`). close() gives the connection back to the pool at the end of "
            "every request, whatever happened.",
        },
    ],
    "questions": [
        {
            "before": "response.start",
            "premise": {"all": [{"absent": "session.close"}, {"status": 200}]},
            "request": 1,
            "ask": "get_db never closes its session. The first request's 200 is about to go out. "
            "What becomes of its connection?",
            "choices": [
                {
                    "text": "It goes back to the pool when get_db ends and db goes away",
                    "claim": {"present": "pool.checkin"},
                },
                {
                    "text": "It stays checked out: nothing gives it back",
                    "claim": {"absent": "pool.checkin"},
                },
            ],
            "answer": 1,
            "explain": "A Session and its transaction refer to each other, so the session is not "
            "freed when get_db's variable goes away. Only Python's cyclic garbage collector would "
            "free it, and it is paused for this run.",
        },
        {
            "before": "pool.checkout",
            "premise": {"pool_at": ["session.create", 1]},
            "request": 2,
            "ask": "The second request's query needs a connection. The first request still holds "
            "one of the pool's two. What happens?",
            "choices": [
                {
                    "text": "It reuses the first request's connection: that request is over",
                    "claim": {"detail": ["pool.checkout", "connection", 1]},
                },
                {
                    "text": "It takes the pool's other connection",
                    "claim": {"detail": ["pool.checkout", "connection", 2]},
                },
                {
                    "text": "It waits for the first connection to come back, then fails",
                    "claim": {"status": 500},
                },
            ],
            "answer": 1,
            "explain": "A connection a session still holds cannot be lent to anyone else, even if "
            "its request is over. The pool opens its second connection: now 2 of 2 are in use.",
        },
        {
            "before": "session.resume",
            "premise": {"pool_at": ["session.create", 2]},
            "request": 3,
            "ask": "Both connections are held by sessions nobody closed. The third request's "
            "query asks the pool for one. What happens?",
            "choices": [
                {
                    "text": "The pool opens a third connection for it",
                    "claim": {"present": "pool.checkout"},
                },
                {
                    "text": "It waits for a free connection, then gets its 200",
                    "claim": {"status": 200},
                },
                {
                    "text": "It waits one second (pool_timeout), then fails: the client gets a 500",
                    "claim": {"status": 500},
                },
            ],
            "answer": 2,
            "explain": "pool_size=2 and max_overflow=0 allow two connections, no more. The query "
            "waits pool_timeout (one second), then SQLAlchemy raises TimeoutError: QueuePool "
            "limit of size 2 overflow 0 reached. The client gets a 500.",
        },
        {
            "before": "request.start",
            "request": 4,
            "ask": "A fourth request comes in. What does it get?",
            "choices": [
                {
                    "text": "200: the third request's failure freed up the pool",
                    "claim": {"status": 200},
                },
                {"text": "500 again: the pool is still full", "claim": {"status": 500}},
                {
                    "text": "503: the server turns requests away while the pool is full",
                    "claim": {"status": 503},
                },
            ],
            "answer": 1,
            "explain": "The failed request never got a connection, so it had none to give back. "
            "The two leaked sessions still hold both, and every request that needs the database "
            "fails the same way. The fix: close the session in finally.",
        },
    ],
}
