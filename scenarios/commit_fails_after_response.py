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
def create_item(name: str, price: int, db: Session = Depends(get_db)):
    db.add(Item(name=name, price=price))  # the INSERT waits for get_db's commit
    return {"name": name, "price": price}


@app.get("/items/")
def read_items(db: Session = Depends(get_db)):
    return [item.name for item in db.query(Item).all()]


SCENARIO = {
    "order": 9,
    "title": "A commit that fails after the response",
    "summary": "get_db commits after the yield, with the default scope. The second item "
    "breaks a CHECK constraint, so its commit fails, but only after the client was told "
    "200. A GET then shows what is really in the table.",
    "requests": [
        {"method": "POST", "path": "/items/?name=apple&price=3"},
        {"method": "POST", "path": "/items/?name=pear&price=-1"},
        {"method": "GET", "path": "/items/"},
    ],
    "key_moments": [
        {
            "at": "after_transaction_create",
            "claim": {"order": ["after_transaction_create", "response.start", "sql"]},
            "request": 2,
            "text": "db.add() only puts the pear in the session. No SQL runs yet, so nothing "
            "can fail yet: the endpoint returns normally.",
        },
        {
            "at": "response.start",
            "claim": {
                "all": [
                    {"status": 200},
                    {"order": ["response.start", "before_commit"]},
                    {"body": '{"name":"pear","price":-1}'},
                ]
            },
            "request": 2,
            "text": "The client gets 200 and a body saying the pear was created. get_db has "
            "not committed anything yet.",
        },
        {
            "at": "sql",
            "claim": {
                "all": [
                    {"order": ["response.start", "before_commit", "sql", "request.error"]},
                    {"absent": "after_commit"},
                ]
            },
            "request": 2,
            "text": "Now, after the response, commit() sends the INSERT, and the database "
            "refuses it: CHECK constraint failed.",
        },
        {
            "at": "request.error",
            "claim": {
                "all": [
                    {"detail": ["request.error", "error", "IntegrityError"]},
                    {"order": ["response.end", "request.error"]},
                ]
            },
            "request": 2,
            "text": "The IntegrityError reaches the server only as a log line. The response "
            "is already gone, so the client will never hear of it.",
        },
        {
            "at": "client.body",
            "claim": {"body": '["apple"]'},
            "request": 3,
            "text": "The client's own view: the list holds only the apple. The pear it was "
            "told about is not in the table.",
        },
    ],
    "questions": [
        {
            "before": "response.start",
            "request": 2,
            "ask": "The endpoint returned the pear with price -1, which the table's CHECK "
            "constraint forbids. Which status does the client get?",
            "choices": [
                {"text": "200 OK", "claim": {"status": 200}},
                {"text": "500: the database refuses the row", "claim": {"status": 500}},
                {
                    "text": "422: the price is checked before the endpoint runs",
                    "claim": {"status": 422},
                },
            ],
            "answer": 0,
            "explain": "db.add() ran no SQL, so nothing failed inside the endpoint. The INSERT "
            "waits for get_db's commit, which with the default scope runs after the response: the "
            "client gets 200.",
        },
        {
            "before": "sql",
            "premise": {
                "all": [
                    {"status": 200},
                    {"order": ["response.start", "sql"]},
                    {"absent": "after_commit"},
                ]
            },
            "request": 2,
            "ask": "The client already has its 200. Now commit() sends the INSERT, and the "
            "database refuses it. What becomes of that error?",
            "choices": [
                {"text": "The server sends a 500 instead", "claim": {"status": 500}},
                {
                    "text": "The server only logs it: the client is never told",
                    "claim": {"order": ["response.start", "request.error"]},
                },
                {
                    "text": "It disappears: get_db's except block rolls back and nothing is logged",
                    "claim": {"absent": "request.error"},
                },
            ],
            "answer": 1,
            "explain": "The response is already gone, so the IntegrityError can only reach the "
            "server's log. The client was told the pear was created.",
        },
        {
            "before": "response.start",
            "request": 3,
            "ask": "The GET lists the names of the items in the table. What does the client get?",
            "choices": [
                {
                    "text": '["apple","pear"]: both items the client was told about',
                    "claim": {"body": '["apple","pear"]'},
                },
                {"text": '["apple"]: only the apple', "claim": {"body": '["apple"]'}},
                {
                    "text": "[]: the failed commit rolled back the apple too",
                    "claim": {"body": "[]"},
                },
            ],
            "answer": 1,
            "explain": "The apple's commit worked; the pear's failed and was rolled back. Each "
            "request has its own transaction, so the pear's failure cannot undo the apple. The "
            "client was told 200 for a pear that is not there.",
        },
    ],
}
