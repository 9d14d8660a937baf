"""The web: stored runs, runs started from a page, their event stream, pages, API and stage.

It may import the contract, the lesson, execution and the bus; never capture directly, and never
the classroom, which is built on top of it.
"""
