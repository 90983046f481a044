"""The only package with SQL in it: connection set-up, migrations and repositories."""
