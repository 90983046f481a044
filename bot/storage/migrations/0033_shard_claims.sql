-- One record of which process runs which Discord shards: each row is a shard's claim (its holder
-- and until when, renewed every 20 s) and the servers that holder counted on it. Claims used to be
-- leases (`shard:N`, `shard-layout`) and counts rows of shard_servers (0028): two tables for one
-- fact, which disagreed (a process whose claim had lapsed was still counted for three minutes; a
-- shard taken over kept its old holder's count). Here a takeover clears the count and /papers
-- stats sums live claims only. The layout (--shard-count) is every row's shard_count: a process of
-- another layout is refused while any claim of this one is live.
CREATE TABLE shard_claims (
    shard       TEXT PRIMARY KEY,   -- '0', '1', ...; 'all': a process running every shard Discord recommends
    shard_count INTEGER NOT NULL,   -- the layout: --shard-count; 0 for 'all'
    owner       TEXT NOT NULL,      -- the holding process's instance id (host:pid:random)
    expires_at  TEXT NOT NULL,      -- ISO instant (UTC): free to take over after it
    servers     INTEGER,            -- servers on the shard (on every shard for 'all') as the holder counted; NULL: not yet
    counted_at  TEXT                -- ISO instant (UTC) of that count
) WITHOUT ROWID;

-- What exists moves over: live claims keep their holders (a running process is not left unclaimed
-- by the upgrade) and take their holder's latest count.
INSERT INTO shard_claims (shard, shard_count, owner, expires_at, servers, counted_at)
SELECT substr(claim.name, 7),
       CASE WHEN layout.owner = 'all shards' THEN 0 ELSE CAST(layout.owner AS INTEGER) END,
       claim.owner,
       claim.expires_at,
       CASE WHEN claim.name = 'shard:all'
            THEN (SELECT sum(servers) FROM shard_servers
                  WHERE shard_count = (SELECT shard_count FROM shard_servers ORDER BY counted_at DESC LIMIT 1))
            ELSE counted.servers END,
       CASE WHEN claim.name = 'shard:all'
            THEN (SELECT min(counted_at) FROM shard_servers
                  WHERE shard_count = (SELECT shard_count FROM shard_servers ORDER BY counted_at DESC LIMIT 1))
            ELSE counted.counted_at END
FROM leases AS claim
JOIN leases AS layout ON layout.name = 'shard-layout'
LEFT JOIN shard_servers AS counted
       ON CAST(counted.shard_id AS TEXT) = substr(claim.name, 7)
      AND counted.shard_count = CASE WHEN layout.owner = 'all shards' THEN 0 ELSE CAST(layout.owner AS INTEGER) END
WHERE claim.name LIKE 'shard:%';

DELETE FROM leases WHERE name LIKE 'shard:%' OR name = 'shard-layout';
DROP TABLE shard_servers;
