"""Use cases: each public coroutine is one unit of work (and at most one write transaction)."""
