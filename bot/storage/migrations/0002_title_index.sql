-- A title-only full-text index for autocomplete: doclists of common words are an order of
-- magnitude shorter than in papers_fts, which also holds every abstract word. Kept in step by
-- the paper repository alongside papers_fts.
CREATE VIRTUAL TABLE titles_fts USING fts5 (
    title,
    content = 'papers', content_rowid = 'pk',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO titles_fts (titles_fts) VALUES ('rebuild');

-- Document counts now come from a cheap rank probe instead.
DROP TABLE papers_fts_terms;
