-- SQLite rebuilds its indexes over folded text here and repairs title keys made with the older
-- folding. PostgreSQL stores were made by a paperbot that already folded this way (its index is
-- built from bot.domain.text from the start), so there is nothing to repair.
SELECT 1;
