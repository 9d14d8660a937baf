"""Orders: placing one takes stock in the same transaction."""

from fastapi import APIRouter, HTTPException

from shop.dependencies import SessionDep
from shop.models import Order, Product

router = APIRouter(prefix="/orders", tags=["orders"])


@router.post("/", status_code=201)
def place_order(product_id: int, quantity: int, db: SessionDep) -> dict[str, object]:
    product = db.get(Product, product_id)
    if product is None:
        raise HTTPException(status_code=404, detail="no such product")
    if product.stock < quantity:
        raise HTTPException(status_code=409, detail="not enough stock")
    product.stock -= quantity
    order = Order(product_id=product_id, quantity=quantity)
    db.add(order)
    db.commit()
    return {"order": order.id, "left": product.stock}
