"""The pool gauge: how a pool's status is drawn and said, wherever it is shown."""

from __future__ import annotations

from visualizer.contract.events import PoolStatus


def in_use(pool: PoolStatus) -> str:
    """ "1 of 5 in use", or "" for a pool that counts nothing (NullPool, StaticPool)."""
    if pool.checked_out is None:
        return ""
    return f"{pool.checked_out} of {pool.size} in use"


def checked_out(pool: PoolStatus) -> str:
    """The gauge's caption: "2 of 5 checked out, 1 overflow", or that it was not used yet."""
    if pool.size is None:
        return "not used yet"
    overflow = f", {pool.overflow} overflow" if pool.overflow else ""
    return f"{pool.checked_out} of {pool.size} checked out{overflow}"


def slots(pool: PoolStatus) -> list[str]:
    """One slot per connection the pool can hold: "used", "free", then any "overflow"."""
    size, out = pool.size or 0, pool.checked_out or 0
    return (
        ["used"] * min(out, size)
        + ["free"] * max(0, size - out)
        + ["overflow"] * (pool.overflow or 0)
    )
