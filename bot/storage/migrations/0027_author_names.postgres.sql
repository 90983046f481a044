-- Author rows for the papers a source listed by name only (see 0027_author_names.sql). PostgreSQL
-- cannot fold names as the ingest does (bot.domain.people.fold_name: its C-locale lower() and
-- character classes leave non-ASCII letters as they are), so the rows are written by Python right
-- after this step, in the same transaction: bot.storage.people.backfill_author_names.
SELECT 1;
