-- How many papers hold each word in their title or abstract, kept at ingest (bot.storage.papers).
-- "More like this" weighs a paper's words by how rare they are: it counted them by probing the
-- full-text index, a walk down each word's doclist in every segment, which on a store not yet in
-- the OS's page cache read megabytes for one question. One row a word is one B-tree seek.
CREATE TABLE term_docs (
    term TEXT PRIMARY KEY,
    docs INTEGER NOT NULL
) WITHOUT ROWID;
-- The papers already stored, counted with the ingest's own word split (bot.domain.text.word_set).
INSERT INTO term_docs (term, docs)
SELECT term.value, count(*)
FROM papers, json_each(paperbot_paper_terms(papers.title, papers.abstract)) AS term
GROUP BY term.value;
