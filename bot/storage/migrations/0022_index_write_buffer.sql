-- How much newly indexed text FTS5 gathers in memory before writing it out as a segment (1 MiB by
-- default). A large ingest transaction wrote a small segment every few hundred papers and spent a
-- fifth of the index's CPU merging them back together; with 32 MiB it writes a few large ones
-- (fewer, larger segments are also what searches prefer). The buffer is emptied at every commit,
-- so the bot's small daily transactions hold no more memory than before. Stored in the indexes'
-- own config tables: every connection uses it.
INSERT INTO papers_fts (papers_fts, rank) VALUES ('hashsize', 33554432);
INSERT INTO titles_fts (titles_fts, rank) VALUES ('hashsize', 33554432);
