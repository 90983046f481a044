-- Distinct author and organisation names with their slot counts, the look-up indexes on them
-- instead of on every author slot (see 0032_people_names.sql).
CREATE TABLE people_names (
    kind   TEXT NOT NULL CHECK (kind IN ('author', 'org')),
    name   TEXT NOT NULL,
    claim  TEXT NOT NULL,
    folded TEXT NOT NULL,
    family TEXT NOT NULL,
    slots  BIGINT NOT NULL,
    PRIMARY KEY (kind, name, claim)
);
INSERT INTO people_names (kind, name, claim, folded, family, slots)
SELECT kind, name, coalesce(hf_id, ''), min(folded), min(family), count(*)
FROM paper_people GROUP BY kind, name, coalesce(hf_id, '');
CREATE INDEX people_names_by_name ON people_names (kind, folded);
CREATE INDEX people_names_by_family ON people_names (kind, family);
DROP INDEX paper_people_by_name;
DROP INDEX paper_people_by_family;

-- A statement trigger (one update per name a statement deleted, not a call per row): credits
-- replaced by the ingest, or a paper's rows deleted by the cascade.
CREATE FUNCTION paperbot_people_forgotten() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE people_names SET slots = people_names.slots - gone.slots
    FROM (SELECT kind, name, coalesce(hf_id, '') AS claim, count(*) AS slots
          FROM forgotten_people GROUP BY 1, 2, 3) AS gone
    WHERE people_names.kind = gone.kind AND people_names.name = gone.name
      AND people_names.claim = gone.claim;
    RETURN NULL;
END $$;
CREATE TRIGGER paper_people_forgotten AFTER DELETE ON paper_people
REFERENCING OLD TABLE AS forgotten_people FOR EACH STATEMENT EXECUTE FUNCTION paperbot_people_forgotten();
