-- "10 of 10,000+": how many papers a search matches, counted no further than the cap. Left to the
-- planner, a LIMIT makes a scan that tests `search @@ query` on every row it passes look cheapest
-- (it prices that test as one operator), so a common word tested about 33,000 rows at 100k papers
-- to find 10,000 matches. Through the GIN index's bitmap, a plain word needs no test at all (the
-- index is exact for it): only the rows counted are visited. The function's settings hold only
-- while it runs, so no other statement of the session is planned with them.
CREATE FUNCTION paperbot_capped_count(query tsquery, cap bigint) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
SET enable_seqscan = off
SET enable_indexscan = off
AS $$
    SELECT count(*) FROM (SELECT 1 FROM papers WHERE search @@ query LIMIT cap) AS hits
$$;
