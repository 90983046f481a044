-- PostgreSQL's search vector leaves out what tsvector cannot hold (0042's PostgreSQL file); SQLite's
-- index holds any paper whole, so this version changes nothing here. It keeps both backends'
-- numbers in step.
SELECT 1;
