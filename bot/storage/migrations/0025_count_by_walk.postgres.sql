-- "10 of 10,000+" for a common word: once the newest-first walk has found a search's window, the
-- count goes on down the same walk (bot/storage/pg_search.py decides when that is the cheaper
-- way). Left to the planner, a count below a pk can look cheapest through the GIN bitmap, which
-- first builds the bitmap of every match (629,000 rows for a word in most papers); the function's
-- settings hold only while it runs, as 0023's do for the count that needs the bitmap.
CREATE FUNCTION paperbot_count_below(query tsquery, below bigint, cap bigint) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
    SELECT count(*) FROM (
        SELECT 1 FROM papers WHERE search @@ query AND pk < below ORDER BY pk DESC LIMIT cap
    ) AS hits
$$;
