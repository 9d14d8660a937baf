"""The shop with its live page mounted, as a developer adds it: `uvicorn shop_watched:app`."""

from shop.main import app

from visualizer import watch

watch(app)
