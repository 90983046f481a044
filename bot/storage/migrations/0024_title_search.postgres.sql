-- Autocomplete searches titles only. Asked of the search column (`'word':A`), the GIN index cannot
-- tell a title word from the same word in an abstract, so every candidate row's whole vector was
-- read and tested; and the planner, unable to tell a rare or absent word from a common one, chose a
-- newest-first scan that tested every paper when a typed prefix matched nothing (0.75 to 2.2 s of
-- server CPU at a million papers). Here the title words get a narrow table of their own (pk and the
-- title's part of the search vector, a fifteenth of the row), with a GIN index that is exact for
-- them, and statistics fine enough for the planner to see that a word matches 0, 4 or 34,000
-- titles and choose the bitmap or the newest-first scan accordingly. SQLite's counterpart is titles_fts (0024's SQLite file: nothing to do).
CREATE TABLE title_search (
    pk BIGINT PRIMARY KEY,
    words TSVECTOR NOT NULL
);
-- The default statistics target keeps about 1,000 of a million papers' title words: any other word
-- is guessed at a frequency of half the rarest kept, about 1,500 titles, and a LIMIT 100 newest-first
-- scan looks cheapest for it. At 10,000 the planner knows each word that 1 title in about 30,000 holds.
ALTER TABLE title_search ALTER COLUMN words SET STATISTICS 10000;

-- Filled from the search column by the database itself, so every writer of papers keeps it whole:
-- the ingest (row by row or in bulk), updates, migrate-store's copy and later migrations. Statement
-- triggers with transition tables: one insert per statement, not one call per row.
-- One upsert serves inserts and updates; an update that keeps the title rewrites nothing.
CREATE FUNCTION paperbot_titles_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO title_search (pk, words)
    SELECT pk, ts_filter(search, '{a}') FROM written_papers
    ON CONFLICT (pk) DO UPDATE SET words = excluded.words
    WHERE title_search.words IS DISTINCT FROM excluded.words;
    RETURN NULL;
END $$;

CREATE FUNCTION paperbot_titles_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM title_search WHERE pk IN (SELECT pk FROM deleted_papers);
    RETURN NULL;
END $$;

CREATE TRIGGER papers_titles_inserted AFTER INSERT ON papers
REFERENCING NEW TABLE AS written_papers FOR EACH STATEMENT EXECUTE FUNCTION paperbot_titles_written();
CREATE TRIGGER papers_titles_updated AFTER UPDATE ON papers
REFERENCING NEW TABLE AS written_papers FOR EACH STATEMENT EXECUTE FUNCTION paperbot_titles_written();
CREATE TRIGGER papers_titles_deleted AFTER DELETE ON papers
REFERENCING OLD TABLE AS deleted_papers FOR EACH STATEMENT EXECUTE FUNCTION paperbot_titles_deleted();

INSERT INTO title_search (pk, words) SELECT pk, ts_filter(search, '{a}') FROM papers;
CREATE INDEX title_search_words ON title_search USING gin (words);
ANALYZE title_search;
