-- The papers generation that last changed each title word's count (bot.storage.papers stamps it
-- in the ingest's own transaction). A running bot that sees the papers generation move (another
-- process ingested) reads only the words changed since the generation it loaded and applies them
-- to its vocabulary, instead of re-reading and rebuilding the whole vocabulary after every batch.
-- A word no title holds any more keeps its row at docs = 0, so that change reaches readers too.
ALTER TABLE title_terms ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
CREATE INDEX title_terms_by_generation ON title_terms (generation);
