-- 0025's paperbot_newest_window walked on from the first walk whenever it found the words in 6%
-- of the newest papers, whatever the store's size: at 100,000 papers a word in 6% has about 6,000
-- matches in all, and walking to the 5,001st newest passed nearly every row (`pruning` 9 -> 68 ms
-- of server CPU against the planner's bitmap). Walking on now has to pass fewer rows than the
-- bitmap would visit matches (docs/performance.md, "Fifth session: PostgreSQL search at 1M").
CREATE OR REPLACE FUNCTION paperbot_newest_window(
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
    -- Walking on passes about (lim - counted) * probe / counted more rows; the bitmap visits every
    -- match, about counted * top / probe, each costing about twice what the walk pays a row. So a
    -- word in 5% of a million papers is walked on, one in 15% of 100,000 (fewer matches in all).
    IF counted > 0 AND (lim - counted) * probe * probe <= 2 * counted * counted * top THEN
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
