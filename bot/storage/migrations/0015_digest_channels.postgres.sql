-- A server may have several digests, one per channel (topic channels), daily or weekly: settings,
-- the post ledger and coverage are keyed by (server, channel) instead of by server. PostgreSQL's
-- spelling of 0015_digest_channels.sql: the same columns and keys, by ALTER TABLE in place.
--
-- Existing rows move to the channel their server's digest posts in now: the ledger was per server,
-- so the post a server already made today stays made for its channel (no repost) and the next
-- post starts after what was covered (no gap). Rows of a server with no digest any more keep
-- channel 0 (no channel has that id).

ALTER TABLE digest_configs ADD COLUMN topic TEXT;      -- canonical follow-style query; NULL: every paper
ALTER TABLE digest_configs ADD COLUMN cadence TEXT NOT NULL DEFAULT 'daily'
    CHECK (cadence IN ('daily', 'weekly'));
ALTER TABLE digest_configs ADD COLUMN weekday BIGINT NOT NULL DEFAULT 0
    CHECK (weekday BETWEEN 0 AND 6);                   -- weekly: 0 = Monday
ALTER TABLE digest_configs DROP CONSTRAINT digest_configs_pkey;
ALTER TABLE digest_configs ADD PRIMARY KEY (guild_id, channel_id);

-- One row per (server, channel, cadence, period): post_day is the local day of a daily post and
-- the Monday of a weekly post's ISO week.
ALTER TABLE digest_posts ADD COLUMN channel_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE digest_posts ADD COLUMN cadence TEXT NOT NULL DEFAULT 'daily'
    CHECK (cadence IN ('daily', 'weekly'));
UPDATE digest_posts SET channel_id = coalesce(
    (SELECT c.channel_id FROM digest_configs c WHERE c.guild_id = digest_posts.guild_id), 0);
ALTER TABLE digest_posts ALTER COLUMN channel_id DROP DEFAULT;
ALTER TABLE digest_posts DROP CONSTRAINT digest_posts_pkey;
ALTER TABLE digest_posts ADD PRIMARY KEY (guild_id, channel_id, cadence, post_day);

ALTER TABLE digest_coverage ADD COLUMN channel_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE digest_coverage ADD COLUMN cadence TEXT NOT NULL DEFAULT 'daily'
    CHECK (cadence IN ('daily', 'weekly'));
UPDATE digest_coverage SET channel_id = coalesce(
    (SELECT c.channel_id FROM digest_configs c WHERE c.guild_id = digest_coverage.guild_id), 0);
ALTER TABLE digest_coverage ALTER COLUMN channel_id DROP DEFAULT;
ALTER TABLE digest_coverage DROP CONSTRAINT digest_coverage_pkey;
ALTER TABLE digest_coverage ADD PRIMARY KEY (guild_id, channel_id, cadence, post_day);
