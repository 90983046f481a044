-- When a digest's settings were made: catch-up (for downtime) never sends a post whose time came
-- before it, so setting up or editing a digest never posts at once. NULL: set up before (no limit).
ALTER TABLE digest_configs ADD COLUMN schedule_from TEXT;
