-- How many papers hold each word in their title or abstract, kept at ingest (bot.storage.papers);
-- see the SQLite file. The papers already stored are counted from their search vectors, which hold
-- the title's words at weight A and the abstract's at B, as bot.domain.text splits them (the
-- '^word' lexeme only marks a title's first word).
CREATE TABLE term_docs (
    term TEXT PRIMARY KEY,
    docs INTEGER NOT NULL
);
INSERT INTO term_docs (term, docs)
SELECT word.lexeme, count(*)
FROM papers, unnest(ts_filter(papers.search, '{a,b}')) AS word
WHERE left(word.lexeme, 1) <> '^'
GROUP BY word.lexeme;
