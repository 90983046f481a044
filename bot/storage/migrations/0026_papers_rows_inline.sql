-- PostgreSQL keeps a paper's row whole up to a page (0026's PostgreSQL file); SQLite stores rows
-- as they come, so this version changes nothing here. It keeps both backends' numbers in step.
SELECT 1;
