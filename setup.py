"""The compiled parts, each with a Python fallback that gives the same bytes: the PostgreSQL search
document's builder (bot/storage/pg_document.py), the COPY binary row encoder (bot/storage/pg_copy.py)
and the paper's content hash (bot/domain/models.py).
Everything else is in pyproject.toml; this file only because setuptools still calls extension
modules there experimental (a warning on every install)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        # Optional: an install without a C compiler (the slim Docker image) still works, on the
        # Python builder, which gives the same text.
        Extension("bot.storage._pg_document", ["bot/storage/_pg_document.c"], optional=True),
        Extension("bot.storage._pg_copy", ["bot/storage/_pg_copy.c"], optional=True),
        Extension("bot.domain._content_hash", ["bot/domain/_content_hash.c"], optional=True),
    ]
)
