-- PostgreSQL counts a search's matches through its GIN index's bitmap from here (0023's PostgreSQL
-- file). FTS5 counts by walking its doclist already, so this version changes nothing on SQLite; it
-- keeps both backends' numbers in step.
SELECT 1;
