-- PostgreSQL replaces two foreign keys with a delete trigger here (0035's PostgreSQL file). SQLite's
-- foreign-key check is a b-tree probe inside the insert, cheap enough to keep, so this version
-- changes nothing; it keeps both backends' numbers in step.
SELECT 1;
