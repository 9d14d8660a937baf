"""A small shop, written the way FastAPI projects are: the live mode's sample app."""
