-- Author rows for the papers a source listed by name only (the arXiv feed, page text): until now
-- only Hugging Face's credits made rows, so author follows' autocomplete never offered the other
-- papers' authors. The ingest now writes rows from the names (bot.storage.people.record_people);
-- this writes them for the papers already stored, from the names each keeps, the same way: only
-- for papers without author rows, each name at its place, folded by the ingest's own functions, a
-- name with no letter or digit skipped. PostgreSQL's step is Python (people.backfill_author_names).
INSERT INTO paper_people (paper_pk, kind, position, name, folded, family, hf_id)
SELECT papers.pk, 'author', author.key, author.value,
       paperbot_fold_name(author.value), paperbot_family_key(author.value), NULL
FROM papers, json_each(papers.authors) AS author
WHERE papers.authors <> '[]'
  AND author.type = 'text'
  AND paperbot_fold_name(author.value) <> ''
  AND NOT EXISTS (SELECT 1 FROM paper_people WHERE paper_pk = papers.pk AND kind = 'author');
