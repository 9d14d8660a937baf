"""The classroom: rooms where a presenter drives a finished run and students follow and answer.

It owns the room store, the pure room protocol, the hub that fans messages out, and the
room's routes and pages. It may import the web layer (runs, templates), the lesson, the
contract and the bus.
"""
