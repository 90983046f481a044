"""Storage and service tests run on both backends (see tests/backends.py)."""

from tests.backends import database, postgres_server, postgres_url, store_at

__all__ = ["database", "postgres_server", "postgres_url", "store_at"]
