"""Bytes from a source -> papers. Pure functions; no network, no database."""
