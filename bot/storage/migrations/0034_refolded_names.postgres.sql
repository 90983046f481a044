-- PostgreSQL folds the stored names again in Python (bot.storage.refold.refold_names, run in this
-- migration's transaction): it cannot fold a name as fold_name does. See 0034_refolded_names.sql.
SELECT 1;
