-- PostgreSQL finds a search's newest matches and their count its own ways from here (0025's
-- PostgreSQL file). FTS5 walks its doclists in rowid order already, so this version changes
-- nothing on SQLite; it keeps both backends' numbers in step.
SELECT 1;
