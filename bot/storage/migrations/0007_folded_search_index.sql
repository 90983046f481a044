-- One folding for the index and for queries: the full-text indexes hold each text's folded words
-- (bot.domain.text.search_text: NFKC, case folding, no accents), as queries are folded, so "Straße",
-- "ﬁne", full-width letters and Turkish ı are found by the words people type. The indexes are
-- contentless: the folded text is not stored twice; snippets are cut from the original text.
-- paperbot_* are Python functions every connection registers (bot.storage.database).

DROP TABLE papers_fts;
DROP TABLE titles_fts;

CREATE VIRTUAL TABLE papers_fts USING fts5 (
    title, abstract, authors,
    content = '',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO papers_fts (rowid, title, abstract, authors)
SELECT pk, paperbot_search_text(title), paperbot_search_text(abstract), paperbot_authors_text(authors)
FROM papers;

CREATE VIRTUAL TABLE titles_fts USING fts5 (
    title,
    content = '',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO titles_fts (rowid, title) SELECT pk, paperbot_search_text(title) FROM papers;

-- The folding now maps dotless ı to i: title keys (dedup), title-derived ids and the title
-- vocabulary follow. An id that would collide with another row's keeps its old value.
UPDATE papers SET title_key = paperbot_title_key(title) WHERE title_key <> paperbot_title_key(title);
UPDATE OR IGNORE papers SET id = paperbot_title_id(title_key)
WHERE arxiv_id IS NULL AND id <> paperbot_title_id(title_key);
DELETE FROM title_terms;
INSERT INTO title_terms (term, docs)
SELECT term.value, count(DISTINCT papers.pk)
FROM papers, json_each(paperbot_title_terms(papers.title_key)) AS term
GROUP BY term.value;
