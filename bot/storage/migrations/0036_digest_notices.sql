-- A digest period that was not posted (paperbot was not running in its catch-up window; the channel
-- was deleted or its permission lost) is never skipped silently: the ledger keeps it (state
-- 'skipped' with the reason in `error`, written by the one process that records it: the ledger's
-- primary key decides between it and a late post), /digest show lists it, and the admin who set the
-- digest up is told once. The notice is opened in the transaction that records the miss and
-- delivered with the alert DMs' machinery (lease, deterministic nonce, marker read back on resume):
-- by DM, or in the digest's channel when DMs are closed or nobody is known to ask.

CREATE TABLE digest_admins (
    guild_id   INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,             -- who last ran /digest setup for this channel
    PRIMARY KEY (guild_id, channel_id)
);

CREATE TABLE digest_notices (
    guild_id    INTEGER NOT NULL,
    channel_id  INTEGER NOT NULL,
    cadence     TEXT NOT NULL,
    post_day    TEXT NOT NULL,               -- the period that was not posted
    reason      TEXT NOT NULL,
    state       TEXT NOT NULL,               -- dm | channel (to be told there) | told | said | dropped
    created_at  TEXT NOT NULL,
    owner       TEXT,                        -- process instance holding the lease
    lease_until TEXT,
    tries       INTEGER NOT NULL DEFAULT 0,  -- times taken for sending (more than one: read back first)
    attempts    INTEGER NOT NULL DEFAULT 0,  -- ambiguous failures (5xx, timeout) of the current target
    retry_at    TEXT NOT NULL,
    message_id  INTEGER,
    PRIMARY KEY (guild_id, channel_id, cadence, post_day)
);

CREATE INDEX digest_notices_open ON digest_notices (state, retry_at);
