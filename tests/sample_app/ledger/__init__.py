"""A ledger with an audit trail in a second database, written by a middleware."""
