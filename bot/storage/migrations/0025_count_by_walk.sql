-- PostgreSQL counts a common word's matches down its newest-first walk from here (0025's
-- PostgreSQL file). FTS5 walks its doclists for the count already, so this version changes nothing
-- on SQLite; it keeps both backends' numbers in step.
SELECT 1;
