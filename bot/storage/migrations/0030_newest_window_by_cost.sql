-- PostgreSQL's choice between walking on and the GIN bitmap changes here (0030's PostgreSQL file);
-- SQLite has one way, so this version changes nothing; it keeps both backends' numbers in step.
SELECT 1;
