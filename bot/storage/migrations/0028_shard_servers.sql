-- How many servers each shard holds, as the process running it last counted them (a heartbeat:
-- each process rewrites its shards' rows every minute). /papers stats sums the fresh rows of the
-- current shard layout, so several processes' servers add up; rows not rewritten for a while (a
-- stopped process, an old layout) no longer count and are deleted at the next count.
CREATE TABLE shard_servers (
    shard_id    INTEGER NOT NULL PRIMARY KEY,
    shard_count INTEGER NOT NULL,   -- the layout the count belongs to
    servers     INTEGER NOT NULL,
    counted_at  TEXT NOT NULL       -- ISO instant (UTC)
);
