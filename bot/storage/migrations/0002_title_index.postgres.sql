-- SQLite adds a title-only full-text index here. On PostgreSQL the one tsvector column of 0001
-- already serves title-only searches (its title words carry weight A, and a query asks for ':A'),
-- so this version changes nothing; it keeps both backends' version numbers in step.
SELECT 1;
