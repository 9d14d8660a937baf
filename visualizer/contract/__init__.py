"""The contract: the event vocabulary and the trace, as models that cross every boundary.

It may import nothing else of ours: everything else is built on it.
"""
