-- PostgreSQL keeps its search vector inline here (0019's PostgreSQL file). SQLite's FTS5 indexes
-- keep no vector per row, so this version changes nothing; it keeps both backends' numbers in step.
SELECT 1;
