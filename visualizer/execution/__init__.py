"""Execution: a run of a program, for real: its sandbox, a uvicorn server, a client process.

It owns scenario files, the runner, the loopback server and the client. It may import the
contract, capture (to observe the run) and the lesson (to describe what was observed).
"""
