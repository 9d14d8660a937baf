"""An app database and an audit database: two engines, two pools, two dependencies."""

from fastapi import Depends, FastAPI
from sqlalchemy import Column, Integer, String, create_engine
from sqlalchemy.orm import Session, declarative_base, sessionmaker

DATABASE_URL: str
AUDIT_URL = DATABASE_URL.replace("app.db", "audit.db")

app_engine = create_engine(DATABASE_URL, connect_args={"check_same_thread": False})
audit_engine = create_engine(
    AUDIT_URL, pool_size=2, max_overflow=0, connect_args={"check_same_thread": False}
)
AppSession = sessionmaker(bind=app_engine)
AuditSession = sessionmaker(bind=audit_engine)
AppBase = declarative_base()
AuditBase = declarative_base()


class Order(AppBase):
    __tablename__ = "orders"
    id = Column(Integer, primary_key=True)
    item = Column(String)


class AuditEntry(AuditBase):
    __tablename__ = "audit"
    id = Column(Integer, primary_key=True)
    what = Column(String)


AppBase.metadata.create_all(app_engine)
AuditBase.metadata.create_all(audit_engine)
app = FastAPI()


def get_db():
    db = AppSession()
    try:
        yield db
    finally:
        db.close()


def get_audit_db():
    db = AuditSession()
    try:
        yield db
    finally:
        db.close()


@app.post("/orders/")
def place_order(item: str, db: Session = Depends(get_db), audit: Session = Depends(get_audit_db)):
    db.add(Order(item=item))
    db.commit()
    audit.add(AuditEntry(what=f"order {item}"))
    audit.commit()
    return {"ordered": item}


SCENARIO = {
    "title": "Two databases",
    "summary": "Each request uses two sessions on two engines with pools of 5 and 2.",
    "requests": [{"method": "POST", "path": "/orders/?item=tea"}],
}
