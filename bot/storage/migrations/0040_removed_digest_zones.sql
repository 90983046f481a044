-- Portable SQL (SQLite and PostgreSQL run it as it is).
-- A digest removed (/digest remove) keeps its ledger, keyed by local days on its zone's calendar.
-- Set up again in another zone, those rows must be re-dated like an edit's (a local day posted
-- under the old zone is not posted again, one that was not is not taken for posted): the removed
-- digest's schedule is kept here until the channel's next /digest setup reads it.
CREATE TABLE removed_digest_zones (
    guild_id   BIGINT NOT NULL,
    channel_id BIGINT NOT NULL,
    timezone   TEXT NOT NULL,
    post_time  TEXT NOT NULL,
    cadence    TEXT NOT NULL,
    weekday    INTEGER NOT NULL,
    removed_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, channel_id)
);
