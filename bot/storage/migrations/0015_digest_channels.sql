-- A server may have several digests, one per channel (topic channels), daily or weekly: settings,
-- the post ledger and coverage are keyed by (server, channel) instead of by server.
--
-- Existing rows move to the channel their server's digest posts in now: the ledger was per server,
-- so the post a server already made today stays made for its channel (no repost) and the next
-- post starts after what was covered (no gap). Rows of a server with no digest any more keep
-- channel 0 (no channel has that id). New tables with the new keys, the rows copied, the old ones
-- dropped and the new ones renamed (SQLite cannot change a primary key in place; PostgreSQL does
-- it with ALTER TABLE: 0015_digest_channels.postgres.sql).

CREATE TABLE digest_configs_by_channel (
    guild_id      INTEGER NOT NULL,
    channel_id    INTEGER NOT NULL,
    post_time     TEXT NOT NULL,                -- HH:MM, the server's local time
    timezone      TEXT NOT NULL,                -- IANA name
    max_papers    INTEGER NOT NULL CHECK (max_papers BETWEEN 1 AND 50),
    weekdays_only INTEGER NOT NULL DEFAULT 0,
    thread        INTEGER NOT NULL DEFAULT 0,
    source        TEXT NOT NULL DEFAULT 'hf-api',
    paused        INTEGER NOT NULL DEFAULT 0,
    pause_reason  TEXT,
    list_mode     TEXT NOT NULL DEFAULT 'complete' CHECK (list_mode IN ('complete', 'so-far')),
    topic         TEXT,                         -- canonical follow-style query; NULL: every paper
    cadence       TEXT NOT NULL DEFAULT 'daily' CHECK (cadence IN ('daily', 'weekly')),
    weekday       INTEGER NOT NULL DEFAULT 0 CHECK (weekday BETWEEN 0 AND 6),  -- weekly: 0 = Monday
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (guild_id, channel_id)
);
INSERT INTO digest_configs_by_channel (
    guild_id, channel_id, post_time, timezone, max_papers, weekdays_only, thread, source, paused,
    pause_reason, list_mode, created_at, updated_at
)
SELECT guild_id, channel_id, post_time, timezone, max_papers, weekdays_only, thread, source, paused,
    pause_reason, list_mode, created_at, updated_at
FROM digest_configs;

-- One row per (server, channel, cadence, period): post_day is the local day of a daily post and
-- the Monday of a weekly post's ISO week.
CREATE TABLE digest_posts_by_channel (
    guild_id    INTEGER NOT NULL,
    channel_id  INTEGER NOT NULL,
    cadence     TEXT NOT NULL DEFAULT 'daily' CHECK (cadence IN ('daily', 'weekly')),
    post_day    TEXT NOT NULL,
    list_date   TEXT,
    state       TEXT NOT NULL CHECK (state IN ('claimed', 'posted', 'skipped', 'failed')),
    parts       INTEGER NOT NULL DEFAULT 0,
    message_ids TEXT NOT NULL DEFAULT '{}',
    error       TEXT,
    claimed_at  TEXT NOT NULL,
    finished_at TEXT,
    owner       TEXT,
    lease_until TEXT,
    plan        TEXT,
    PRIMARY KEY (guild_id, channel_id, cadence, post_day)
);
INSERT INTO digest_posts_by_channel (
    guild_id, channel_id, cadence, post_day, list_date, state, parts, message_ids, error, claimed_at,
    finished_at, owner, lease_until, plan
)
SELECT p.guild_id, coalesce((SELECT c.channel_id FROM digest_configs c WHERE c.guild_id = p.guild_id), 0),
    'daily', p.post_day, p.list_date, p.state, p.parts, p.message_ids, p.error, p.claimed_at,
    p.finished_at, p.owner, p.lease_until, p.plan
FROM digest_posts p;

CREATE TABLE digest_coverage_by_channel (
    guild_id   INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    cadence    TEXT NOT NULL DEFAULT 'daily' CHECK (cadence IN ('daily', 'weekly')),
    post_day   TEXT NOT NULL,
    first_day  TEXT NOT NULL,
    last_day   TEXT NOT NULL,
    mode       TEXT NOT NULL,
    papers     INTEGER NOT NULL,
    PRIMARY KEY (guild_id, channel_id, cadence, post_day)
);
INSERT INTO digest_coverage_by_channel (
    guild_id, channel_id, cadence, post_day, first_day, last_day, mode, papers
)
SELECT v.guild_id, coalesce((SELECT c.channel_id FROM digest_configs c WHERE c.guild_id = v.guild_id), 0),
    'daily', v.post_day, v.first_day, v.last_day, v.mode, v.papers
FROM digest_coverage v;

DROP TABLE digest_posts;
DROP TABLE digest_coverage;
DROP TABLE digest_configs;
ALTER TABLE digest_configs_by_channel RENAME TO digest_configs;
ALTER TABLE digest_posts_by_channel RENAME TO digest_posts;
ALTER TABLE digest_coverage_by_channel RENAME TO digest_coverage;
