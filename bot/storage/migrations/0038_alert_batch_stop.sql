-- Portable SQL (SQLite and PostgreSQL run it as it is).
-- A member who removes a follow (or pauses) while a DM batch of theirs is being sent asks for it to
-- stop: its sender, this process or one taking over, sees this before its next part, still records
-- the part already on its way, then ends the batch (what it did not deliver goes back to the queue).
ALTER TABLE alert_batches ADD COLUMN stop_requested INTEGER NOT NULL DEFAULT 0;
