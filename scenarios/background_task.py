import logging

from fastapi import BackgroundTasks, Depends, FastAPI
from sqlalchemy import Column, Integer, String, create_engine
from sqlalchemy.orm import Session, declarative_base, sessionmaker

DATABASE_URL: str  # the visualizer gives every run its own SQLite file

engine = create_engine(DATABASE_URL, connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)
Base = declarative_base()
logger = logging.getLogger("items")


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


def log_item_count(db: Session):  # a background task that borrows the request's session
    logger.info("%d items", db.query(Item).count())


@app.get("/report")
def report(tasks: BackgroundTasks, db: Session = Depends(get_db)):
    tasks.add_task(log_item_count, db)
    return {"report": "queued"}


@app.get("/report-function-scope")
def report_function_scope(tasks: BackgroundTasks, db: Session = Depends(get_db, scope="function")):
    tasks.add_task(log_item_count, db)
    return {"report": "queued"}


SCENARIO = {
    "title": "A background task that uses the session",
    "summary": "Both endpoints hand the request's session to a BackgroundTask. With the "
    "default scope the task runs before get_db closes the session. With "
    'scope="function" the task gets a session that is already closed: it quietly opens '
    "again and keeps a connection nobody gives back.",
    "gc": "paused",
    "requests": [
        {"method": "GET", "path": "/report"},
        {"method": "GET", "path": "/report-function-scope"},
    ],
    "key_moments": [
        {
            "at": "response.start",
            "request": 1,
            "text": "The 200 is sent first. The background task has not run yet: tasks run "
            "after the response.",
        },
        {
            "at": "sql",
            "request": 1,
            "text": "The task's query runs after the response, and the session is still open: "
            "with the default scope, FastAPI runs get_db's finally only after the background "
            "tasks are done.",
        },
        {
            "at": "session.close",
            "request": 1,
            "text": "Now get_db closes the session. close() rolls back the task's read "
            "transaction and returns its connection.",
        },
        {
            "at": "session.close",
            "request": 2,
            "text": 'With scope="function", get_db closes the session as soon as the endpoint '
            "returns, before the response and before the task.",
        },
        {
            "at": "do_orm_execute",
            "request": 2,
            "text": "The task queries the closed session. There is no error: a closed Session "
            "simply begins a new transaction when it is used again.",
        },
        {
            "at": "pool.checkout",
            "request": 2,
            "text": "It checks out a connection, and nothing will close this session again. "
            "The connection stays checked out until the garbage collector frees the session. "
            'For this run the collector is paused ("gc": "paused" in this scenario), so the '
            "pool still shows it in use when the run ends.",
        },
    ],
}
