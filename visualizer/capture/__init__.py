"""Capture: the hooks that record what a real program does, into a run's recorder.

It owns the recorder, the SQLAlchemy and FastAPI hooks, the ASGI wrapper and the garbage
collector's pause. It may import the contract only: it records, it does not interpret.
"""
