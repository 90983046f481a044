-- A search found its window (the newest `lim` matches, 0025/0030's paperbot_newest_window) in one
-- statement and ranked it in another: the ranking read the same rows again (for a word in a tenth
-- of a million papers, the 42,000 newest rows walked and tested twice: 33 ms to find the window,
-- 37 ms to rank it). Here the window's rows are ranked as they are found, by the query and by its
-- words as one phrase (the phrase tier), and only the best come back: ranking costs the walk about
-- 2 ms more. The way to the window is 0030's (a newest-first walk of the newest `probe` papers,
-- then walking on or the GIN bitmap, each plan pinned by its function's settings). The functions
-- of 0025 and 0030 stay for processes of the previous version still running during an upgrade.

-- One match of the window: its rank by the query, and by the phrase (NULL: it does not hold it).
CREATE TYPE paperbot_ranked_match AS (pk bigint, score real, phrase_score real);

-- `weights` NULL: no ranking (ts_rank_cd is strict), the window alone.
CREATE FUNCTION paperbot_ranked_by_walk(
    query tsquery, phrase tsquery, weights real[], above bigint, upto bigint, lim bigint
) RETURNS SETOF paperbot_ranked_match
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
BEGIN
    -- EXECUTE: planned for these arguments each time, never a generic plan. The ranks are
    -- computed for the rows the walk returns only (no sort below the LIMIT).
    RETURN QUERY EXECUTE
        'SELECT pk, ts_rank_cd($3, search, $1), CASE WHEN search @@ $2 THEN ts_rank_cd($3, search, $2) END '
        'FROM papers WHERE search @@ $1 AND pk > $4 AND pk <= $5 ORDER BY pk DESC LIMIT $6'
        USING query, phrase, weights, above, upto, lim;
END $$;

-- The bitmap visits every match above `above` to learn its pk, so ranking each of them (about
-- 0.4 us a row, the vector already read) costs less than fetching the newest `lim` a second time.
CREATE FUNCTION paperbot_ranked_by_bitmap(
    query tsquery, phrase tsquery, weights real[], above bigint, lim bigint
) RETURNS SETOF paperbot_ranked_match
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET enable_seqscan = off
SET enable_indexscan = off
AS $$
BEGIN
    RETURN QUERY EXECUTE
        'SELECT pk, ts_rank_cd($3, search, $1), CASE WHEN search @@ $2 THEN ts_rank_cd($3, search, $2) END '
        'FROM papers WHERE search @@ $1 AND pk > $4 ORDER BY pk DESC LIMIT $5'
        USING query, phrase, weights, above, lim;
END $$;

-- A query holding a phrase: GIN is not exact for it (each candidate's positions are read again),
-- so its bitmap costs what a walk does and the planner's own choice did best (as before).
CREATE FUNCTION paperbot_ranked_by_plan(query tsquery, phrase tsquery, weights real[], lim bigint)
RETURNS SETOF paperbot_ranked_match
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
    RETURN QUERY EXECUTE
        'SELECT pk, ts_rank_cd($3, search, $1), CASE WHEN search @@ $2 THEN ts_rank_cd($3, search, $2) END '
        'FROM papers WHERE search @@ $1 ORDER BY pk DESC LIMIT $4'
        USING query, phrase, weights, lim;
END $$;

-- The window's summary and its best matches: how many (lim at most), the oldest and newest pk,
-- the `best` matches of the phrase (phrase rank, then newest first) and, by the query's rank, as
-- many more as could be left over once those phrase matches are set aside (the caller fills its
-- page with the phrase matches first).
CREATE FUNCTION paperbot_best_of_window(
    window_rows paperbot_ranked_match[], best integer,
    OUT counted bigint, OUT oldest bigint, OUT newest bigint,
    OUT pks bigint[], OUT scores real[], OUT phrase_pks bigint[], OUT phrase_scores real[]
)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    SELECT count(*), min(m.pk), max(m.pk) INTO counted, oldest, newest FROM unnest(window_rows) AS m;
    SELECT coalesce(array_agg(m.pk ORDER BY m.phrase_score DESC, m.pk DESC), '{}'),
           coalesce(array_agg(m.phrase_score ORDER BY m.phrase_score DESC, m.pk DESC), '{}')
    INTO phrase_pks, phrase_scores
    FROM (SELECT * FROM unnest(window_rows) AS u WHERE u.phrase_score IS NOT NULL
          ORDER BY u.phrase_score DESC, u.pk DESC LIMIT best) AS m;
    SELECT coalesce(array_agg(m.pk ORDER BY m.score DESC, m.pk DESC), '{}'),
           coalesce(array_agg(m.score ORDER BY m.score DESC, m.pk DESC), '{}')
    INTO pks, scores
    FROM (SELECT * FROM unnest(window_rows) AS u
          ORDER BY u.score DESC, u.pk DESC LIMIT best + cardinality(phrase_pks)) AS m;
END $$;

-- The window found as 0030's paperbot_newest_window finds it, ranked on the way.
CREATE FUNCTION paperbot_ranked_window(
    query tsquery, phrase tsquery, weights real[], lim bigint, probe bigint, best integer,
    OUT counted bigint, OUT oldest bigint, OUT newest bigint,
    OUT pks bigint[], OUT scores real[], OUT phrase_pks bigint[], OUT phrase_scores real[]
)
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
    top bigint := (SELECT max(pk) FROM papers);
    found_rows paperbot_ranked_match[];
    probed bigint;
    reach numeric;
BEGIN
    found_rows := ARRAY(
        SELECT m FROM paperbot_ranked_by_walk(
            query, phrase, weights, coalesce(top, 0) - probe, coalesce(top, 0), lim) AS m);
    probed := cardinality(found_rows);
    IF probed >= lim OR top IS NULL OR top <= probe THEN
        NULL;  -- the newest papers hold the whole window, or are all there is
    -- Walking on passes about (lim - probed) * probe / probed more rows; the bitmap builds the
    -- bitmap of every match, about probed * top / probe. 0030 priced a match of the bitmap at
    -- twice a row walked, so from 5% of a million papers on it walked; with the window ranked
    -- on the way, a word in 5.6% cost 66 ms walked against 37 through the bitmap of the range,
    -- one in 11.6% 35 against 46: a match of the bitmap costs about 0.7 rows walked, and the walk
    -- goes on from about 8.5% of a million papers (from 27% of 100,000).
    ELSIF probed > 0 AND (lim - probed) * probe * probe <= 0.7 * probed * probed * top THEN
        found_rows := found_rows || ARRAY(
            SELECT m FROM paperbot_ranked_by_walk(query, phrase, weights, 0, top - probe, lim - probed) AS m);
    ELSE
        -- The papers that should hold `lim` matches at the density the walk found, with room to
        -- spare. Their range is looked for when that is cheaper than visiting every match: the
        -- pk index's bitmap of the range costs about a 25th of what a match visited and ranked
        -- does (0030 took the range up to half the store: `quantization & summarization`, in
        -- 0.5% of a million papers, paid 45 ms for the range's bitmap of 469,000 rows, then
        -- missed the window and visited all its 5,098 matches: 14 ms alone).
        reach := ceil(lim * probe * 1.5 / greatest(probed, 1));
        found_rows := NULL;
        IF probed > 0 AND reach < 25 * (probed * top / probe - 1.5 * lim) THEN
            found_rows := ARRAY(
                SELECT m FROM paperbot_ranked_by_bitmap(query, phrase, weights, top - reach::bigint, lim) AS m);
        END IF;
        IF found_rows IS NULL OR cardinality(found_rows) < lim THEN
            found_rows := ARRAY(SELECT m FROM paperbot_ranked_by_bitmap(query, phrase, weights, 0, lim) AS m);
        END IF;
    END IF;
    SELECT * INTO counted, oldest, newest, pks, scores, phrase_pks, phrase_scores
    FROM paperbot_best_of_window(found_rows, best);
END $$;

-- The same for a query holding a phrase (the planner's choice of plan, as before).
CREATE FUNCTION paperbot_ranked_window_by_plan(
    query tsquery, phrase tsquery, weights real[], lim bigint, best integer,
    OUT counted bigint, OUT oldest bigint, OUT newest bigint,
    OUT pks bigint[], OUT scores real[], OUT phrase_pks bigint[], OUT phrase_scores real[]
)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT * FROM paperbot_best_of_window(
        ARRAY(SELECT m FROM paperbot_ranked_by_plan(query, phrase, weights, lim) AS m), best)
$$;
