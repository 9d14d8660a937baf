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
    "order": 11,
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
            "claim": {"all": [{"status": 200}, {"order": ["response.start", "sql"]}]},
            "request": 1,
            "text": "The 200 is sent first. The background task has not run yet: tasks run "
            "after the response.",
        },
        {
            "at": "sql",
            "claim": {
                "all": [
                    {"order": ["response.end", "sql", "session.close"]},
                    {"db_at": ["sql", "Session in a transaction holding a connection"]},
                ]
            },
            "request": 1,
            "text": "The task's query runs after the response, and the session is still open: "
            "with the default scope, FastAPI runs get_db's finally only after the background "
            "tasks are done.",
        },
        {
            "at": "session.close",
            "claim": {
                "detail": [
                    "session.close",
                    "before",
                    "Session in a transaction holding a connection",
                ]
            },
            "request": 1,
            "text": "Now get_db closes the session. close() rolls back the task's read "
            "transaction and returns its connection.",
        },
        {
            "at": "session.close",
            "claim": {"order": ["session.close", "response.start", "do_orm_execute"]},
            "request": 2,
            "text": 'With scope="function", get_db closes the session as soon as the endpoint '
            "returns, before the response and before the task.",
        },
        {
            "at": "do_orm_execute",
            "claim": {
                "all": [
                    {"db_at": ["do_orm_execute", "Closed session"]},
                    {"absent": "request.error"},
                ]
            },
            "request": 2,
            "text": "The task queries the closed session. There is no error: a closed Session "
            "simply begins a new transaction when it is used again.",
        },
        {
            "at": "pool.checkout",
            "claim": {"all": [{"count": ["session.close", 1]}, {"pool_after": 1}]},
            "request": 2,
            "text": "It checks out a connection, and nothing will close this session again. "
            "The connection stays checked out until the garbage collector frees the session. "
            'For this run the collector is paused ("gc": "paused" in this scenario), so the '
            "pool still shows it in use when the run ends.",
        },
    ],
    "questions": [
        {
            "before": "response.start",
            "request": 1,
            "ask": "The endpoint queued log_item_count(db) as a background task and returned. "
            "When does the task's query run?",
            "choices": [
                {
                    "text": "Before the response: FastAPI runs the tasks first",
                    "claim": {"order": ["sql", "response.start"]},
                },
                {
                    "text": "After the response, while the session is still open",
                    "claim": {"order": ["response.start", "sql", "session.close"]},
                },
                {
                    "text": "After get_db has closed the session",
                    "claim": {"order": ["session.close", "sql"]},
                },
            ],
            "answer": 1,
            "explain": "Background tasks run after the response is sent. With the default scope "
            "FastAPI runs get_db's finally only after the tasks, so the task can still use the "
            "open session.",
        },
        {
            "before": "session.resume",
            "request": 2,
            "ask": 'This endpoint uses Depends(get_db, scope="function"). When does get_db close '
            "the session?",
            "choices": [
                {
                    "text": "After the response and the task, as in the first request",
                    "claim": {"order": ["sql", "session.close"]},
                },
                {
                    "text": "After the response, but before the task",
                    "claim": {"order": ["response.start", "session.close"]},
                },
                {
                    "text": "As soon as the endpoint returns: before the response and before the "
                    "task",
                    "claim": {"order": ["session.close", "response.start"]},
                },
            ],
            "answer": 2,
            "explain": 'With scope="function", the teardown runs when the endpoint returns. The '
            "task was handed a session that is already closed before it even starts.",
        },
        {
            "before": "do_orm_execute",
            "premise": {"order": ["session.close", "do_orm_execute"]},
            "request": 2,
            "ask": "The task now queries the session that get_db already closed. What happens?",
            "choices": [
                {
                    "text": "An error: a closed session cannot run queries",
                    "claim": {"present": "request.error"},
                },
                {
                    "text": "No SQL runs: the task just gets nothing back",
                    "claim": {"absent": "sql"},
                },
                {
                    "text": "The query runs: the closed session begins a new transaction and "
                    "checks out a connection",
                    "claim": {"present": "pool.checkout"},
                },
            ],
            "answer": 2,
            "explain": "close() does not lock a Session. Used again, it quietly begins a new "
            "transaction and takes a connection from the pool, with no error at all.",
        },
        {
            "before": "sql",
            "premise": {
                "all": [
                    {"order": ["session.close", "pool.checkout", "sql"]},
                    {"count": ["session.close", 1]},
                ]
            },
            "request": 2,
            "ask": "The task's query has its connection, and the task will end without closing "
            "the session. When the run ends, how many connections are still checked out?",
            "choices": [
                {
                    "text": "None: the connection goes back when the task ends",
                    "claim": {"pool_after": 0},
                },
                {
                    "text": "One: the task's connection, which nothing gives back",
                    "claim": {"pool_after": 1},
                },
                {"text": "Two: one for each request", "claim": {"pool_after": 2}},
            ],
            "answer": 1,
            "explain": "Nothing will close this session again, and a Session is not freed when "
            "its last variable goes away: it waits for the garbage collector, which is paused in "
            "this run. The first request's connection came back when get_db closed its session.",
        },
    ],
}
