-- A tsvector holds at most 1,048,575 bytes of lexemes and positions (MAXSTRPOS): one paper past it
-- (600 distinct 2,000-letter words) made the server refuse the whole batch it came in, and a
-- SQLite store holding it could never move here. paperbot_document now leaves out, as it leaves
-- out words past 2046 bytes, the lexemes that would pass that size: lexemes in order of their
-- first position (ties in byte order) are kept until the next one's cost would pass 1,048,575
-- bytes, a lexeme's cost being its bytes + 1 (alignment) + 2 + 2 per position (at most 256), an
-- upper bound of what it takes in the stored vector. The title and the start of the abstract are
-- kept; the builders in bot/storage/pg_document.py and _pg_document.c give this vector to the
-- server to build (they return None past the size).
-- Each lexeme is written once with all its positions, so the server's reading does not count a
-- word's bytes once per position (its check of the text read so far refused a long document of
-- short words); a position capped at 16383 keeps its highest weight (A over B over C): reading
-- the one-lexeme-a-position text, the server kept whichever weight its sort put first.
CREATE OR REPLACE FUNCTION paperbot_document(title text, abstract text, authors text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    WITH columns AS (
        SELECT string_to_array(title, ' ') AS t, string_to_array(abstract, ' ') AS a,
               string_to_array(authors, ' ') AS p
    ), words(word, position, weight) AS (
        SELECT word, n, 'A' FROM columns, unnest(t) WITH ORDINALITY AS w(word, n)
        UNION ALL
        SELECT word, n + coalesce(cardinality(t), 0) + 1, 'B' FROM columns, unnest(a) WITH ORDINALITY AS w(word, n)
        UNION ALL
        SELECT word, n + coalesce(cardinality(t), 0) + coalesce(cardinality(a), 0) + 2, 'C'
        FROM columns, unnest(p) WITH ORDINALITY AS w(word, n)
        UNION ALL
        SELECT '^' || t[1], 1, 'A' FROM columns WHERE cardinality(t) > 0
    ), places AS (
        SELECT word, least(position, 16383) AS position, min(weight) AS weight
        FROM words WHERE word <> '' AND octet_length(word) <= 2046
        GROUP BY word, least(position, 16383)
    ), lexemes AS (
        SELECT word, min(position) AS first,
               octet_length(word) + 3 + 2 * least(count(*), 256) AS cost,
               string_agg(position || weight, ',' ORDER BY position) AS found
        FROM places GROUP BY word
    ), kept AS (
        SELECT word, found,
               sum(cost) OVER (ORDER BY first, word COLLATE "C" ROWS UNBOUNDED PRECEDING) AS total
        FROM lexemes
    )
    SELECT coalesce(string_agg(
        '''' || replace(replace(word, '\', '\\'), '''', '''''') || ''':' || found, ' '), '')::tsvector
    FROM kept WHERE total <= 1048575
$$;
