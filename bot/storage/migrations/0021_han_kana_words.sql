-- Each Han or kana character is now a word of its own in the full-text indexes and the title
-- vocabulary (bot.domain.text.words), so a Chinese or Japanese word inside a longer run ("扩散" in
-- "扩散模型的研究") is found. Title keys keep such runs whole (they name papers: ids hash them), so
-- no key or id changes. The indexes are contentless (a row can only be removed by repeating the
-- tokens it was given), so they are rebuilt from the papers, as 0007 did; the vocabulary loses the
-- runs of the titles that hold them and gains their characters.

-- Titles whose words change (only non-ASCII ones can): the words they had and have now.
CREATE TEMP TABLE resplit AS
SELECT pk, title_key AS old_words, paperbot_search_text(title) AS new_words
FROM papers
WHERE length(CAST(title AS BLOB)) <> length(title) AND title_key <> paperbot_search_text(title);

-- Stamped with a new papers generation, so a running bot that loaded an older vocabulary reads
-- the change (bot.storage.papers.title_terms_since).
UPDATE generations SET value = value + 1 WHERE name = 'papers' AND EXISTS (SELECT 1 FROM resplit);
UPDATE title_terms
SET docs = max(0, title_terms.docs - gone.docs), generation = (SELECT value FROM generations WHERE name = 'papers')
FROM (
    SELECT term.value AS term, count(*) AS docs
    FROM resplit, json_each(paperbot_title_terms(resplit.old_words)) AS term
    GROUP BY term.value
) AS gone
WHERE title_terms.term = gone.term;
INSERT INTO title_terms (term, docs, generation)
SELECT term.value, count(*), (SELECT value FROM generations WHERE name = 'papers')
FROM resplit, json_each(paperbot_title_terms(resplit.new_words)) AS term
WHERE true
GROUP BY term.value
ON CONFLICT (term) DO UPDATE SET docs = title_terms.docs + excluded.docs, generation = excluded.generation;
DROP TABLE resplit;

DROP TABLE papers_fts;
DROP TABLE titles_fts;
CREATE VIRTUAL TABLE papers_fts USING fts5 (
    title, abstract, authors,
    content = '',
    tokenize = 'unicode61 remove_diacritics 2'
);
-- What bot.storage.papers gives the index for a row (TITLE_, ABSTRACT_, AUTHORS_INDEX_TEXT).
INSERT INTO papers_fts (rowid, title, abstract, authors)
SELECT pk,
       CASE WHEN length(CAST(title AS BLOB)) = length(title) THEN title_key
            ELSE paperbot_search_text(title) END,
       CASE WHEN length(CAST(abstract AS BLOB)) = length(abstract) THEN abstract
            ELSE paperbot_search_text(abstract) END,
       CASE WHEN length(CAST(authors AS BLOB)) = length(authors) AND instr(authors, char(92)) = 0
            THEN authors ELSE paperbot_authors_text(authors) END
FROM papers;
CREATE VIRTUAL TABLE titles_fts USING fts5 (
    title,
    content = '',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO titles_fts (rowid, title)
SELECT pk,
       CASE WHEN length(CAST(title AS BLOB)) = length(title) THEN title_key
            ELSE paperbot_search_text(title) END
FROM papers;
