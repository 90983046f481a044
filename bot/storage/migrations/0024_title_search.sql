-- PostgreSQL gets a title-only search table here (0024's PostgreSQL file). SQLite has had its own
-- since 0002 (titles_fts), so this version changes nothing; it keeps both backends' numbers in step.
SELECT 1;
