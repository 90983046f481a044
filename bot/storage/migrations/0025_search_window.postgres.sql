-- A search ranks its newest matches (the window) and says how many match ("10 of 10,000+"). The
-- newest matches came from a newest-first walk of the papers testing `search @@ query` row by row:
-- cheap for a word in a quarter of the papers, 147,000 rows for the 5,001 newest of a word in 3%
-- of them (100 ms and more of server CPU at a million papers). GIN has no newest-first order, but
-- its bitmap ANDed with a pk range visits only the matches in that range. So the walk is tried on
-- the newest rows first; what it finds there says whether walking on is cheaper and, if not, how
-- far back the window reaches: the bitmap of that range (or of every match, for a rare word)
-- gives the window. Each way's plan is pinned by
-- its own function's settings, which hold only while it runs (as 0023's count).

CREATE FUNCTION paperbot_newest_by_walk(query tsquery, above bigint, upto bigint, lim bigint)
RETURNS SETOF bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
BEGIN
    -- EXECUTE: planned for these arguments each time, never a generic plan.
    RETURN QUERY EXECUTE
        'SELECT pk FROM papers WHERE search @@ $1 AND pk > $2 AND pk <= $3 ORDER BY pk DESC LIMIT $4'
        USING query, above, upto, lim;
END $$;

CREATE FUNCTION paperbot_newest_by_bitmap(query tsquery, above bigint, lim bigint) RETURNS SETOF bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET enable_seqscan = off
SET enable_indexscan = off
AS $$
BEGIN
    RETURN QUERY EXECUTE
        'SELECT pk FROM papers WHERE search @@ $1 AND pk > $2 ORDER BY pk DESC LIMIT $3'
        USING query, above, lim;
END $$;

-- The newest `lim` matches: how many there are (lim at most), the oldest and newest pk among them.
-- `probe`: how many of the newest papers the walk tries first.
CREATE FUNCTION paperbot_newest_window(
    query tsquery, lim bigint, probe bigint, OUT counted bigint, OUT oldest bigint, OUT newest bigint
)
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
    top bigint := (SELECT max(pk) FROM papers);
    reach numeric;
    more bigint;
    further bigint;
BEGIN
    SELECT count(*), min(pk), max(pk) INTO counted, oldest, newest
    FROM paperbot_newest_by_walk(query, coalesce(top, 0) - probe, coalesce(top, 0), lim) AS pk;
    IF counted >= lim OR top IS NULL OR top <= probe THEN
        RETURN;
    END IF;
    -- In 6% of the papers or more, the walk's next row is cheaper than building the bitmap of every
    -- match (it costs about as much a match as the walk a row) and visiting the range's rows.
    IF counted * 100 >= probe * 6 THEN
        SELECT count(*), min(pk) INTO more, further
        FROM paperbot_newest_by_walk(query, 0, top - probe, lim - counted) AS pk;
        counted := counted + more;
        oldest := coalesce(further, oldest);
        RETURN;
    END IF;
    -- The papers that should hold `lim` matches at the density the walk found, with room to spare
    -- (none found, or half the store: the bitmap of every match costs about as much, and only once).
    reach := ceil(lim * probe * 1.5 / greatest(counted, 1));
    IF counted > 0 AND reach < top / 2 THEN
        SELECT count(*), min(pk), max(pk) INTO counted, oldest, newest
        FROM paperbot_newest_by_bitmap(query, top - reach::bigint, lim) AS pk;
        IF counted >= lim THEN
            RETURN;
        END IF;
    END IF;
    SELECT count(*), min(pk), max(pk) INTO counted, oldest, newest
    FROM paperbot_newest_by_bitmap(query, 0, lim) AS pk;
END $$;

-- "10 of 10,000+" for a common word: once the window is found, the count goes on down the
-- newest-first walk (bot/storage/pg_search.py decides when that is the cheaper way). Left to the
-- planner, a count below a pk can look cheapest through the GIN bitmap, which first builds the
-- bitmap of every match (629,000 rows for a word in most papers).
CREATE FUNCTION paperbot_count_below(query tsquery, below bigint, cap bigint) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
    SELECT count(*) FROM (
        SELECT 1 FROM papers WHERE search @@ query AND pk < below ORDER BY pk DESC LIMIT cap
    ) AS hits
$$;
