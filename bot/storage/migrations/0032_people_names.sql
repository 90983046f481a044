-- Author and organisation autocomplete (/follow author|org, PeopleRepository.known) looks names up by
-- a prefix of the folded name or of the family name. Two indexes on paper_people did that: three
-- B-tree inserts for every author slot of every paper (about 4.5 a paper), the larger part of what
-- author rows added to the ingest. Names repeat across papers (an author publishes many), so they
-- get a table of their own, one row per distinct name as written (and HF claim), with how many
-- author slots hold it; the look-up indexes are on that table, and a slot costs its one row. The
-- ingest adds each batch's counts in one statement (bot.storage.people); this trigger takes away the
-- rows deleted by any path (credits replaced, a paper deleted by the cascade).
CREATE TABLE people_names (
    kind   TEXT NOT NULL CHECK (kind IN ('author', 'org')),
    name   TEXT NOT NULL,                       -- as written
    claim  TEXT NOT NULL,                       -- paper_people.hf_id, '' for none (a key column)
    folded TEXT NOT NULL,                       -- paper_people.folded (a function of the name)
    family TEXT NOT NULL,                       -- paper_people.family
    slots  INTEGER NOT NULL,                    -- paper_people rows with this kind, name and claim
    PRIMARY KEY (kind, name, claim)
) WITHOUT ROWID;
INSERT INTO people_names (kind, name, claim, folded, family, slots)
SELECT kind, name, coalesce(hf_id, ''), min(folded), min(family), count(*)
FROM paper_people GROUP BY kind, name, coalesce(hf_id, '');
CREATE INDEX people_names_by_name ON people_names (kind, folded);
CREATE INDEX people_names_by_family ON people_names (kind, family);
DROP INDEX paper_people_by_name;
DROP INDEX paper_people_by_family;
CREATE TRIGGER paper_people_forgotten AFTER DELETE ON paper_people
BEGIN
    UPDATE people_names SET slots = slots - 1
    WHERE kind = old.kind AND name = old.name AND claim = coalesce(old.hf_id, '');
END;
