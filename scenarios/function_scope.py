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
    "order": 8,
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
            "claim": {"order": ["session.resume", "response.start"]},
            "request": 1,
            "text": 'With scope="function", get_db resumes as soon as the endpoint returns, '
            "before FastAPI sends anything to the client.",
        },
        {
            "at": "after_commit",
            "claim": {"order": ["after_commit", "response.start"]},
            "request": 1,
            "text": "The commit runs while the client is still waiting for its answer.",
        },
        {
            "at": "session.close",
            "claim": {"order": ["after_commit", "session.close", "response.start"]},
            "request": 1,
            "text": "The session is closed in finally, still before the response: steps 5 and "
            "6 come before step 7, as the textbook says.",
        },
        {
            "at": "response.start",
            "claim": {"all": [{"status": 200}, {"order": ["session.close", "response.start"]}]},
            "request": 1,
            "text": "Only now is the 200 sent. With the default scope it would have gone out "
            "before the commit.",
        },
        {
            "at": "after_rollback",
            "claim": {
                "all": [{"order": ["before_commit", "after_rollback"]}, {"absent": "after_commit"}]
            },
            "request": 2,
            "text": "The database refuses the negative price when commit() sends the INSERT: "
            "the transaction is rolled back, and get_db's except block runs.",
        },
        {
            "at": "response.start",
            "claim": {"status": 500},
            "request": 2,
            "text": "Because the teardown ran first, the failed commit becomes a 500: the "
            "client is not told that the pear was saved. Compare commit_fails_after_response.",
        },
    ],
    "questions": [
        {
            "before": "session.resume",
            "request": 1,
            "ask": 'The endpoint returned. This time get_db is used with scope="function". What '
            "happens next?",
            "choices": [
                {
                    "text": "The 200 is sent first, then get_db commits and closes, as with the "
                    "default scope",
                    "claim": {"order": ["response.start", "before_commit"]},
                },
                {
                    "text": "get_db commits and closes the session, then the 200 is sent",
                    "claim": {"order": ["session.close", "response.start"]},
                },
                {
                    "text": "get_db does not resume on success: only errors run the code after "
                    "the yield",
                    "claim": {"absent": "before_commit"},
                },
            ],
            "answer": 1,
            "explain": 'With scope="function", FastAPI resumes get_db as soon as the endpoint '
            "returns: the commit and the close run before the response is sent.",
        },
        {
            "before": "after_rollback",
            "premise": {"all": [{"order": ["before_commit", "sql"]}, {"absent": "after_commit"}]},
            "request": 2,
            "ask": "commit() sent the pear's INSERT with price -1, and the database refused it. "
            "Which status will the client get?",
            "choices": [
                {
                    "text": "200: the endpoint had already returned the pear",
                    "claim": {"status": 200},
                },
                {
                    "text": "400 Bad Request: a refused value is the client's fault",
                    "claim": {"status": 400},
                },
                {"text": "500 Internal Server Error", "claim": {"status": 500}},
            ],
            "answer": 2,
            "explain": "The commit ran before anything was sent, so its IntegrityError can still "
            "change the answer: get_db rolls back, raises again, and the client gets a 500 "
            "instead of a false 200. Compare commit_fails_after_response.",
        },
        {
            "before": "request.error",
            "premise": {"status": 500},
            "request": 2,
            "ask": "The 500 is out. Which error does the server log for it?",
            "choices": [
                {
                    "text": "IntegrityError: the CHECK constraint refused the INSERT",
                    "claim": {"detail": ["request.error", "error", "IntegrityError"]},
                },
                {
                    "text": "FastAPIError: get_db caught the error and did not raise it again",
                    "claim": {"detail": ["request.error", "error", "FastAPIError"]},
                },
                {
                    "text": "None: get_db's rollback handled the error",
                    "claim": {"absent": "request.error"},
                },
            ],
            "answer": 0,
            "explain": "get_db's except block rolls back and then raises again, so the database's "
            "own error reaches FastAPI and the log: an IntegrityError.",
        },
    ],
}
