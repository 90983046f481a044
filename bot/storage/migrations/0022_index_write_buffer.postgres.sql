-- SQLite's full-text indexes get a larger write buffer here (0022's SQLite file). PostgreSQL's
-- search column needs no such setting, so this version changes nothing; it keeps both backends'
-- numbers in step.
SELECT 1;
