-- Each Han or kana character is now a word of its own in the search column and the title vocabulary
-- (bot.domain.text.words), so a Chinese or Japanese word inside a longer run ("扩散" in "扩散模型的研究")
-- is found. Title keys keep such runs whole (they name papers: ids hash them), so no key or id
-- changes. The folding itself is Python's, but a stored word only needs splitting around those
-- characters (the class below is bot.domain.text's _CJK): the title vocabulary is re-derived from
-- the title keys, and each affected search column from its own words, each character taking a
-- position of its own and the words after it moving along, so phrases still match side by side.

-- Titles whose words change: the words they had and have now.
CREATE TEMP TABLE resplit ON COMMIT DROP AS
SELECT pk, title_key AS old_words,
       btrim(regexp_replace(
           regexp_replace(title_key, '([\u3005-\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff])', ' \1 ', 'g'),
           ' +', ' ', 'g')) AS new_words
FROM papers
WHERE title_key ~ '[\u3005-\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]';
DELETE FROM resplit WHERE old_words = new_words;

-- Stamped with a new papers generation, so a running bot that loaded an older vocabulary reads
-- the change (bot.storage.papers.title_terms_since).
UPDATE generations SET value = value + 1 WHERE name = 'papers' AND EXISTS (SELECT 1 FROM resplit);
UPDATE title_terms
SET docs = greatest(0, title_terms.docs - gone.docs),
    generation = (SELECT value FROM generations WHERE name = 'papers')
FROM (
    SELECT term, count(*) AS docs
    FROM (SELECT DISTINCT pk, term FROM resplit, regexp_split_to_table(old_words, ' ') AS term) AS held
    GROUP BY term
) AS gone
WHERE title_terms.term = gone.term;
INSERT INTO title_terms (term, docs, generation)
SELECT term, count(*), (SELECT value FROM generations WHERE name = 'papers')
FROM (SELECT DISTINCT pk, term FROM resplit, regexp_split_to_table(new_words, ' ') AS term) AS held
GROUP BY term
ON CONFLICT (term) DO UPDATE SET docs = title_terms.docs + excluded.docs, generation = excluded.generation;

-- The search column (migration 0001's paperbot_document: title words weight A, abstract B, authors
-- C, one position apart between columns, and the title's first word again as '^word') with every
-- stored word split the same way. Only rows holding such characters can change.
UPDATE papers SET search = (
    WITH entries AS (
        SELECT entry.lexeme, place.position, place.weight
        FROM unnest(papers.search) AS entry, unnest(entry.positions, entry.weights) AS place(position, weight)
        WHERE left(entry.lexeme, 1) <> '^'
    ), split AS (
        SELECT entries.position, entries.weight, entries.lexeme, piece.word, piece.n,
               count(*) OVER (PARTITION BY entries.position, entries.lexeme) AS parts
        FROM entries, regexp_split_to_table(
            btrim(regexp_replace(
                regexp_replace(entries.lexeme, '([\u3005-\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff])', ' \1 ', 'g'),
                ' +', ' ', 'g')),
            ' ') WITH ORDINALITY AS piece(word, n)
    ), sized AS (
        SELECT DISTINCT position, lexeme, parts FROM split
    ), moved AS (
        SELECT position, lexeme,
               coalesce(sum(parts - 1) OVER (
                   ORDER BY position, lexeme ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS shift
        FROM sized
    ), placed AS (
        SELECT split.word, split.position + moved.shift + split.n - 1 AS position, split.weight
        FROM split JOIN moved USING (position, lexeme)
    ), words AS (
        SELECT word, position, weight FROM placed
        UNION ALL
        SELECT '^' || word, 1, 'A' FROM placed WHERE position = 1 AND weight = 'A'
    )
    SELECT coalesce(string_agg(
        '''' || replace(replace(word, '\', '\\'), '''', '''''') || ''':' || least(position, 16383) || weight,
        ' '), '')::tsvector
    FROM words WHERE word <> '' AND octet_length(word) <= 2046
)
WHERE octet_length(title || abstract || authors) <> length(title || abstract || authors)
  AND search::text ~ '[\u3005-\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]';
