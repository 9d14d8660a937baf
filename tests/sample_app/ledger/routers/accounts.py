"""Accounts: open one, deposit, read."""

from fastapi import APIRouter, HTTPException

from ledger.dependencies import SessionDep
from ledger.models import Account

router = APIRouter(prefix="/accounts", tags=["accounts"])


@router.post("/", status_code=201)
def open_account(owner: str, db: SessionDep) -> dict[str, object]:
    account = Account(owner=owner, balance=0)
    db.add(account)
    db.commit()
    return {"id": account.id, "owner": owner}


@router.post("/{account_id}/deposit")
def deposit(account_id: int, amount: int, db: SessionDep) -> dict[str, object]:
    account = db.get(Account, account_id)
    if account is None:
        raise HTTPException(status_code=404, detail="no such account")
    account.balance += amount
    balance = account.balance
    db.commit()
    return {"id": account_id, "balance": balance}


@router.get("/{account_id}")
def read_account(account_id: int, db: SessionDep) -> dict[str, object]:
    account = db.get(Account, account_id)
    if account is None:
        raise HTTPException(status_code=404, detail="no such account")
    return {"id": account.id, "owner": account.owner, "balance": account.balance}
