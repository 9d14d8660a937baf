"""A step-by-step visualizer of the database session lifecycle in FastAPI with SQLAlchemy."""
