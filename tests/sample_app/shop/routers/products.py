"""Products: list, read, create."""

from fastapi import APIRouter, HTTPException
from sqlalchemy import select

from shop.dependencies import SessionDep
from shop.models import Product

router = APIRouter(prefix="/products", tags=["products"])


@router.get("/")
def list_products(db: SessionDep) -> list[dict[str, object]]:
    products = db.scalars(select(Product).order_by(Product.id)).all()
    return [{"id": p.id, "name": p.name, "stock": p.stock} for p in products]


@router.get("/{product_id}")
def read_product(product_id: int, db: SessionDep) -> dict[str, object]:
    product = db.get(Product, product_id)
    if product is None:
        raise HTTPException(status_code=404, detail="no such product")
    return {"id": product.id, "name": product.name, "stock": product.stock}


@router.post("/", status_code=201)
def create_product(name: str, stock: int, db: SessionDep) -> dict[str, object]:
    product = Product(name=name, stock=stock)
    db.add(product)
    db.commit()
    db.refresh(product)
    return {"id": product.id, "name": product.name, "stock": product.stock}
