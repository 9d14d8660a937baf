"""The lesson: what the recorded events teach. Pure functions over the contract's models.

It owns the seven textbook steps, narration, deviations from the textbook, the reducer that
folds events into what a learner sees, comparisons, transcripts, and checking claims.
It may import the contract only.
"""
